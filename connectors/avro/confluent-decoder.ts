import { z } from 'zod';
import { ConfigError, DecodeError, SourceUnavailableError } from '../../core/errors.js';
import { type AvroCodec, createAvroCodec } from './avro-codec.js';
import { classifyRegistryError, RegistryResponseError } from './classify-registry-error.js';
import { type AvroValue } from './debezium-types.js';

/**
 * Decodes Kafka record values and keys in Confluent's wire format: magic
 * byte 0, a 4-byte big-endian schema id, then the Avro binary body written
 * with that schema.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export const confluentDecoderConfigSchema = z.object({
  registryUrl: z.url().describe('Base URL of the Confluent-compatible schema registry, e.g. http://127.0.0.1:8081'),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('How long one schema lookup may take before the registry counts as unavailable'),
  basicAuth: z
    .object({ username: z.string(), password: z.string() })
    .optional()
    .describe('Credentials for a registry behind HTTP basic authentication'),
});

export type ConfluentDecoderConfig = z.input<typeof confluentDecoderConfigSchema>;

/** Fetches the schema text registered under an id; how a registry client other than plain HTTP plugs in. */
export type SchemaLookup = (schemaId: number) => Promise<string>;

/** Either registry settings (with an injectable `fetch`, for tests) or a lookup function of your own. */
export type ConfluentDecoderOptions =
  (ConfluentDecoderConfig & { readonly fetch?: typeof fetch }) | { readonly lookupSchema: SchemaLookup };

/** Where a Kafka record came from; every error names it. */
export type KafkaLocation = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
};

/** One decoded value, in the representation of `debezium-types.ts`. */
export type DecodedRecord = {
  readonly schemaId: number;
  /** Full name of the writer schema's record, e.g. `erp.erp.dbo.SalesOrder.Envelope`. */
  readonly schemaName: string | undefined;
  readonly value: AvroValue;
};

/**
 * Decodes Confluent-framed Avro.
 *
 * `decode` throws a `DecodeError` carrying topic, partition and offset for a
 * null or empty value (tombstones are the caller's case, before decoding), a
 * bad magic byte, truncated bytes, trailing bytes after the Avro body, an id
 * the registry does not know, an invalid schema, and a value a logical type
 * rejects; and a `SourceUnavailableError` when the registry cannot be
 * reached. Schemas are fetched once per id and compiled once; concurrent
 * decodes of an id not yet seen share one registry request.
 */
export type ConfluentDecoder = {
  readonly decode: (bytes: Uint8Array | null | undefined, location: KafkaLocation) => Promise<DecodedRecord>;
};

/** Confluent's magic byte, the first byte of every framed record. */
export const CONFLUENT_MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;

/**
 * Creates a decoder; throws a `ConfigError` naming the key path of an invalid setting. With `registryUrl`, schemas come from
 * `GET {registryUrl}/schemas/ids/{id}`; with `lookupSchema`, from that function.
 * Failed lookups are not cached, so the next record retries the registry.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#get--schemas-ids-int-%20id
 */
export function createConfluentDecoder(options: ConfluentDecoderOptions): ConfluentDecoder {
  const lookupSchema = 'lookupSchema' in options ? options.lookupSchema : httpSchemaLookup(options);
  const codecs = new Map<number, Promise<AvroCodec>>();

  function codecFor(schemaId: number, location: KafkaLocation): Promise<AvroCodec> {
    let codec = codecs.get(schemaId);
    if (codec === undefined) {
      codec = lookupSchema(schemaId).then(
        (text) => compileSchema(text, schemaId, location),
        (error: unknown) => {
          if (error instanceof UnusableSchemaError) {
            const message = `${error.message} for record ${location.topic}[${location.partition}]@${location.offset}`;
            const options = { ...location, cause: error };
            throw error.retriable ? new SourceUnavailableError(message, options) : new DecodeError(message, options);
          }
          throw classifyRegistryError(error, { schemaId, ...location }) ?? error;
        },
      );
      codecs.set(schemaId, codec);
      // Forget failures so a later record can retry; every waiter still sees this failure.
      codec.catch(() => codecs.delete(schemaId));
    }
    return codec;
  }

  return {
    async decode(bytes, location) {
      const where = `${location.topic}[${location.partition}]@${location.offset}`;
      const fail = (message: string, cause?: unknown) =>
        new DecodeError(`${message} in record ${where}`, { ...location, cause });
      if (bytes === null || bytes === undefined) throw fail('Null value');
      if (bytes.length === 0) throw fail('Empty value');
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      if (buffer[0] !== CONFLUENT_MAGIC_BYTE)
        throw fail(`Bad magic byte 0x${buffer[0]!.toString(16).padStart(2, '0')}`);
      if (buffer.length < HEADER_LENGTH) throw fail(`Truncated Confluent header of ${buffer.length} bytes`);
      const schemaId = buffer.readUInt32BE(1);
      const codec = await codecFor(schemaId, location);
      let decoded: { readonly value: AvroValue; readonly end: number };
      try {
        decoded = codec.decode(buffer, HEADER_LENGTH);
      } catch (error: unknown) {
        const detail = error instanceof Error ? error.message : String(error);
        throw fail(`Invalid Avro body for schema id ${schemaId} (${detail})`, error);
      }
      if (decoded.end < 0)
        throw fail(`Truncated Avro body of ${buffer.length - HEADER_LENGTH} bytes for schema id ${schemaId}`);
      if (decoded.end < buffer.length) {
        throw fail(`${buffer.length - decoded.end} trailing bytes after the Avro body for schema id ${schemaId}`);
      }
      return { schemaId, schemaName: codec.name, value: decoded.value };
    },
  };
}

/** Frames an Avro body in Confluent's wire format; the inverse of what `decode` unwraps. */
export function frameConfluentAvro(schemaId: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

function compileSchema(text: string, schemaId: number, location: KafkaLocation): AvroCodec {
  try {
    return createAvroCodec(text);
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new DecodeError(
      `Invalid schema id ${schemaId} (${detail}) for record ${location.topic}[${location.partition}]@${location.offset}`,
      { ...location, cause: error },
    );
  }
}

function httpSchemaLookup(options: ConfluentDecoderConfig & { readonly fetch?: typeof fetch }): SchemaLookup {
  const parsed = confluentDecoderConfigSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid schema registry setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const config = parsed.data;
  const doFetch = options.fetch ?? fetch;
  const base = config.registryUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (config.basicAuth !== undefined) {
    const token = Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64');
    headers['authorization'] = `Basic ${token}`;
  }
  return async (schemaId) => {
    const response = await doFetch(`${base}/schemas/ids/${schemaId}`, {
      headers,
      signal: AbortSignal.timeout(config.requestTimeoutMs),
    });
    const body = await response.text();
    const json = parseJson(body);
    if (!response.ok) {
      const errorCode = typeof json?.['error_code'] === 'number' ? json['error_code'] : undefined;
      const message = typeof json?.['message'] === 'string' ? json['message'] : body.slice(0, 200);
      throw new RegistryResponseError(response.status, errorCode, message);
    }
    const schemaType = json?.['schemaType'];
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      throw new UnusableSchemaError(false, `Schema id ${schemaId} is ${String(schemaType)}, not AVRO,`);
    }
    if (typeof json?.['schema'] !== 'string') {
      // A 2xx without a schema is a broken registry or proxy, not a broken record.
      throw new UnusableSchemaError(true, `Schema registry answered schema id ${schemaId} without a schema`);
    }
    return json['schema'];
  };
}

/** A 2xx answer that still gives no usable Avro schema. */
class UnusableSchemaError extends Error {
  constructor(
    readonly retriable: boolean,
    message: string,
  ) {
    super(message);
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
