import { describe, expect, it } from 'vitest';
import { ConfigError, isRetriable } from '../../core/errors.js';
import { backwardIncompatibilities } from '../../connectors/canonical/compatibility.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { CANONICAL_SAMPLES } from '../../connectors/canonical/samples.js';
import { readCanonicalSchema } from '../../connectors/canonical/schema-files.js';
import { services, uniqueName } from './services.js';

type SchemaRecord = {
  type?: string;
  name: string;
  doc?: string;
  fields: { name: string; type: unknown; default?: unknown }[];
};

/** A copy of the current order schema, changed by `change`. */
function orderSchema(change: (schema: SchemaRecord, branch: (name: string) => SchemaRecord) => void): SchemaRecord {
  const schema = structuredClone(readCanonicalSchema('order')) as SchemaRecord;
  const union = schema.fields[1]!.type as SchemaRecord[];
  change(schema, (name) => union.find((record) => record.name === name)!);
  return schema;
}

describe('canonical schemas in the registry', () => {
  const { schemaRegistryUrl } = services();

  /** Unique topics per test, so that subjects never collide with other runs or tests. */
  function uniqueTopics() {
    const run = uniqueName('canonical');
    return { inventory: `${run}.inventory.v1`, order: `${run}.order.v1` };
  }

  async function get(path: string): Promise<unknown> {
    const response = await fetch(`${schemaRegistryUrl}${path}`);
    expect(response.status, `GET ${path}`).toBe(200);
    return response.json();
  }

  it('registers both schemas with per-subject compatibility BACKWARD, idempotently', async () => {
    const topics = uniqueTopics();
    const codec = createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics });
    const registered = await codec.ensureRegistered();
    expect(registered).toEqual([
      expect.objectContaining({
        stream: 'inventory',
        topic: topics.inventory,
        subject: `${topics.inventory}-value`,
        version: 1,
      }),
      expect.objectContaining({ stream: 'order', topic: topics.order, subject: `${topics.order}-value`, version: 1 }),
    ]);
    for (const { subject, id } of registered) {
      expect(await get(`/config/${subject}`)).toEqual({ compatibilityLevel: 'BACKWARD' });
      expect(await get(`/subjects/${subject}/versions`)).toEqual([1]);
      expect(JSON.parse(((await get(`/schemas/ids/${id}`)) as { schema: string }).schema)).toEqual(
        readCanonicalSchema(subject.includes('.inventory.') ? 'inventory' : 'order'),
      );
    }

    // Another process (a restart, a second worker) registers the same schemas: same ids, no new version.
    const again = await createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics }).ensureRegistered();
    expect(again).toEqual(registered);
    for (const { subject } of registered) expect(await get(`/subjects/${subject}/versions`)).toEqual([1]);
  });

  it('registers from several workers starting at once: every one gets the same ids, none is refused', async () => {
    const topics = uniqueTopics();
    const workers = Array.from({ length: 4 }, () =>
      createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics }),
    );
    /** As a worker starts: a retriable failure (the registry's own race) is tried again, anything else is final. */
    async function start(codec: (typeof workers)[number]) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await codec.ensureRegistered();
        } catch (error: unknown) {
          if (!isRetriable(error) || attempt === 5) throw error;
        }
      }
    }
    const outcomes = await Promise.allSettled(workers.map(start));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
    expect(refused).toEqual([]);
    const registered = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    // Apicurio may store the same schema twice, as two versions with two ids, when workers register it at the same
    // moment. Every worker still gets its subjects, and every id any of them got holds this build's schema.
    for (const entries of registered) {
      expect(entries.map(({ stream, topic, subject }) => ({ stream, topic, subject }))).toEqual([
        { stream: 'inventory', topic: topics.inventory, subject: `${topics.inventory}-value` },
        { stream: 'order', topic: topics.order, subject: `${topics.order}-value` },
      ]);
      for (const { stream, id } of entries) {
        const { schema } = (await get(`/schemas/ids/${id}`)) as { schema: string };
        expect(JSON.parse(schema)).toEqual(readCanonicalSchema(stream));
      }
    }
    for (const subject of [`${topics.inventory}-value`, `${topics.order}-value`]) {
      expect(await get(`/config/${subject}`)).toEqual({ compatibilityLevel: 'BACKWARD' });
    }
  });

  it('round-trips every event type: encode, frame with the registry’s id, decode through the registry', async () => {
    const topics = uniqueTopics();
    const producer = createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics });
    const ids = Object.fromEntries((await producer.ensureRegistered()).map((r) => [r.stream, r.id]));
    // A separate consumer has registered nothing and must fetch each writer schema by id.
    const consumer = createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics });

    for (const [index, event] of Object.values(CANONICAL_SAMPLES).entries()) {
      const record = await producer.encode(event);
      const stream = record.topic === topics.inventory ? 'inventory' : 'order';
      expect(record.key).toBe(event.meta.aggregateKey);
      expect(record.value[0]).toBe(0);
      expect(record.value.readUInt32BE(1)).toBe(ids[stream]);
      const decoded = await consumer.decode({
        topic: record.topic,
        partition: 0,
        offset: String(index),
        value: record.value,
      });
      expect(decoded).toStrictEqual(event);
    }
  });

  it('has the registry refuse an incompatible change with its 409, surfaced as a non-retriable ConfigError', async () => {
    const topics = uniqueTopics();
    const subject = `${topics.order}-value`;
    await createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics }).ensureRegistered();
    const changed = orderSchema((_schema, branch) =>
      branch('OrderDeleted').fields.push({ name: 'reason', type: 'string' }),
    );
    // The local check and the registry agree.
    expect(backwardIncompatibilities(changed, readCanonicalSchema('order'))).toEqual([
      'OrderEvent.event.OrderDeleted: no matching field for default-less cdcsync.canonical.order.v1.OrderDeleted.reason',
    ]);

    const error = await createCanonicalRegistryCodec(
      { registryUrl: schemaRegistryUrl, topics },
      { schemas: { order: changed } },
    )
      .ensureRegistered()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(ConfigError);
    expect(isRetriable(error)).toBe(false);
    const { message, cause } = error as ConfigError;
    expect(message).toMatch(
      new RegExp(
        `^Schema registry refused the schema for subject ${subject.replaceAll('.', '\\.')} as not BACKWARD compatible with its registered versions: .+`,
      ),
    );
    // Apicurio answers 409 with error_code 0 and a message naming the subject.
    expect(cause).toMatchObject({ status: 409, errorCode: 0, message: expect.stringContaining(subject) });
    expect(await get(`/subjects/${subject}/versions`)).toEqual([1]);
  });

  it.each([
    ['a removed event type', orderSchema((schema) => (schema.fields[1]!.type as SchemaRecord[]).pop())],
    ['a changed field type', orderSchema((_s, branch) => (branch('OrderLineChanged').fields[1]!.type = 'string'))],
  ])('has the registry refuse %s as the local check does', async (_label, changed) => {
    const topics = uniqueTopics();
    await createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics }).ensureRegistered();
    expect(backwardIncompatibilities(changed, readCanonicalSchema('order'))).toHaveLength(1);
    const refused = await createCanonicalRegistryCodec(
      { registryUrl: schemaRegistryUrl, topics },
      { schemas: { order: changed } },
    )
      .ensureRegistered()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(refused).toBeInstanceOf(ConfigError);
  });

  it('accepts a compatible change (a new event type and a new optional field) as version 2, and reads old records', async () => {
    const topics = uniqueTopics();
    const subject = `${topics.order}-value`;
    const v1 = createCanonicalRegistryCodec({ registryUrl: schemaRegistryUrl, topics });
    const [, orderV1] = await v1.ensureRegistered();
    const written = await v1.encode(CANONICAL_SAMPLES.OrderDeleted);

    const changed = orderSchema((schema, branch) => {
      branch('OrderDeleted').fields.push({ name: 'reason', type: ['null', 'string'], default: null });
      (schema.fields[1]!.type as SchemaRecord[]).push({
        type: 'record',
        name: 'OrderInvoiced',
        doc: 'An invoice was issued.',
        fields: [{ name: 'orderNumber', type: 'string' }],
      });
    });
    expect(backwardIncompatibilities(changed, readCanonicalSchema('order'))).toEqual([]);
    const v2 = createCanonicalRegistryCodec(
      { registryUrl: schemaRegistryUrl, topics },
      { schemas: { order: changed } },
    );
    const [, orderV2] = await v2.ensureRegistered();
    expect(orderV2).toMatchObject({ subject, version: 2 });
    expect(orderV2!.id).not.toBe(orderV1!.id);
    expect(await get(`/subjects/${subject}/versions`)).toEqual([1, 2]);

    // A consumer on version 2 reads what version 1 wrote, the new field at its default.
    const decoded = await v2.decode({ topic: topics.order, partition: 0, offset: '0', value: written.value });
    expect(decoded).toStrictEqual({
      meta: CANONICAL_SAMPLES.OrderDeleted.meta,
      payload: { orderNumber: 'SO-10042', reason: null },
    });
  });
});
