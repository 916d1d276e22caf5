/**
 * Kafka Connect converter settings for writing Avro in Confluent's wire format.
 */

/** Path under which Apicurio Registry serves the Confluent Schema Registry v7 API. */
export const CONFLUENT_COMPAT_PATH = '/apis/ccompat/v7';

/** The Avro converter class of the converter plugin. */
export const APICURIO_AVRO_CONVERTER = 'io.apicurio.registry.utils.converter.AvroConverter';

/**
 * The converter settings that make Apicurio's `AvroConverter` write what a
 * Confluent `AvroConverter` writes: magic byte 0 and a 4-byte schema id in the
 * record bytes (no Apicurio headers), the id being the one the registry's
 * Confluent API serves at `GET /schemas/ids/{id}` (Apicurio's content id,
 * since the stack's registry runs with `registry.ccompat.legacy-id-mode.enabled=false`),
 * and each schema registered whole (no schema references) on first use under
 * Confluent's TopicNameStrategy subjects, `<topic>-key` and `<topic>-value`.
 *
 * `prefix` is `key.converter` or `value.converter`; `confluentRegistryUrl`
 * is the Confluent API URL (`SCHEMA_REGISTRY_URL`, ending in
 * `/apis/ccompat/v7`), from which Apicurio's own v2 API URL is derived.
 * Throws when the URL is not an Apicurio Confluent-compatibility URL.
 *
 * @see https://www.apicur.io/registry/docs/apicurio-registry/2.4.x/getting-started/assembly-configuring-kafka-client-serdes.html
 */
export function apicurioAvroConverterConfig(
  prefix: 'key.converter' | 'value.converter',
  confluentRegistryUrl: string,
): Record<string, string> {
  const base = confluentRegistryUrl.replace(/\/+$/, '');
  if (!base.endsWith(CONFLUENT_COMPAT_PATH)) {
    throw new Error(
      `Expected the Confluent API URL of an Apicurio registry (ending in ${CONFLUENT_COMPAT_PATH}), got ${confluentRegistryUrl}`,
    );
  }
  const apicurioUrl = `${base.slice(0, -CONFLUENT_COMPAT_PATH.length)}/apis/registry/v2`;
  return {
    [prefix]: APICURIO_AVRO_CONVERTER,
    [`${prefix}.apicurio.registry.url`]: apicurioUrl,
    [`${prefix}.apicurio.registry.auto-register`]: 'true',
    // Register each schema whole. Apicurio 2.4 otherwise registers record-typed fields (Debezium's `source`) as
    // separate artifacts referenced by name, and GET /schemas/ids/{id} then serves a schema that does not parse alone.
    [`${prefix}.apicurio.registry.dereference-schema`]: 'true',
    // Magic byte 0 and a 4-byte id in the payload, as Confluent's serializers write. as-confluent alone does it, but
    // warns of a "duplicate id-handler" unless the handler it installs is also named.
    [`${prefix}.apicurio.registry.as-confluent`]: 'true',
    [`${prefix}.apicurio.registry.id-handler`]: 'io.apicurio.registry.serde.Legacy4ByteIdHandler',
    // The ccompat API's ids are content ids; Apicurio's default, the 8-byte global id, would not resolve there.
    [`${prefix}.apicurio.registry.use-id`]: 'contentId',
    // Otherwise the id travels in a record header and the payload is bare Avro.
    [`${prefix}.apicurio.registry.headers.enabled`]: 'false',
    // Apicurio's default already; named so the subject naming is visible: <topic>-key / <topic>-value.
    [`${prefix}.apicurio.registry.artifact-resolver-strategy`]: 'io.apicurio.registry.serde.strategy.TopicIdStrategy',
  };
}
