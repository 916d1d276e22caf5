import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../../core/canonical.js';
import { ConfigError, DecodeError, isRetriable, SourceUnavailableError, TransformError } from '../../core/errors.js';
import { frameConfluentAvro } from '../avro/confluent-decoder.js';
import { createCanonicalRegistryCodec } from './registry.js';
import { CANONICAL_SAMPLES } from './samples.js';

const BASE = 'http://registry.test/apis/ccompat/v7';
const INVENTORY = 'canonical.inventory.v1-value';
const ORDER = 'canonical.order.v1-value';

type Answer = { status: number; body: unknown };
type Interceptor = (method: string, path: string) => Answer | Error | undefined;

/**
 * An in-memory Confluent-compatible registry: ids per distinct schema text,
 * versions per subject. `intercept` may answer a request first, or fail it.
 */
function fakeRegistry(intercept: Interceptor = () => undefined) {
  const calls: string[] = [];
  const schemas: string[] = [];
  const subjects = new Map<string, number[]>();
  const config = new Map<string, unknown>();
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = decodeURIComponent(String(input).slice(BASE.length));
    calls.push(`${method} ${path}`);
    const answer = intercept(method, path) ?? route(method, path, init?.body ? JSON.parse(String(init.body)) : {});
    if (answer instanceof Error) throw answer;
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as typeof fetch;

  function route(method: string, path: string, body: { schema?: string; compatibility?: string }): Answer {
    let match: RegExpExecArray | null;
    if (method === 'PUT' && (match = /^\/config\/(.+)$/.exec(path))) {
      config.set(match[1]!, body.compatibility);
      return { status: 200, body: { compatibility: body.compatibility } };
    }
    if (method === 'POST' && (match = /^\/subjects\/(.+)\/versions$/.exec(path))) {
      const id = idOf(body.schema!);
      const versions = subjects.get(match[1]!) ?? [];
      if (!versions.includes(id)) subjects.set(match[1]!, [...versions, id]);
      return { status: 200, body: { id } };
    }
    if (method === 'POST' && (match = /^\/subjects\/(.+)$/.exec(path))) {
      const id = idOf(body.schema!);
      return { status: 200, body: { subject: match[1], id, version: subjects.get(match[1]!)!.indexOf(id) + 1 } };
    }
    if (method === 'POST' && /^\/compatibility\/subjects\/.+\/versions\/latest$/.test(path)) {
      return { status: 200, body: { is_compatible: true } };
    }
    if (method === 'GET' && (match = /^\/schemas\/ids\/(\d+)$/.exec(path))) {
      const schema = schemas[Number(match[1]) - 1];
      return schema === undefined
        ? { status: 404, body: { error_code: 40403, message: `Schema ${match[1]} not found` } }
        : { status: 200, body: { schema } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  function idOf(schema: string): number {
    if (!schemas.includes(schema)) schemas.push(schema);
    return schemas.indexOf(schema) + 1;
  }

  return { calls, config, fetch: fetchImpl, register: idOf };
}

function codecWith(registry: ReturnType<typeof fakeRegistry>) {
  return createCanonicalRegistryCodec({ registryUrl: BASE }, { fetch: registry.fetch });
}

const location = { topic: 'canonical.order.v1', partition: 2, offset: '1234' };
const where = 'canonical.order.v1[2]@1234';

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('Expected a failure');
    },
    (error: unknown) => error as Error,
  );
}

describe('createCanonicalRegistryCodec', () => {
  it('refuses an invalid registry URL with a ConfigError', () => {
    expect(() => createCanonicalRegistryCodec({ registryUrl: 'registry' })).toThrow(
      new ConfigError('Invalid canonical registry setting registryUrl: Invalid URL'),
    );
  });

  it('registers both schemas under <topic>-value with compatibility BACKWARD, once', async () => {
    const registry = fakeRegistry();
    const codec = codecWith(registry);
    expect(codec.subjects).toEqual({ inventory: INVENTORY, order: ORDER });

    const [first, second] = await Promise.all([codec.ensureRegistered(), codec.ensureRegistered()]);
    expect(first).toEqual([
      { stream: 'inventory', topic: 'canonical.inventory.v1', subject: INVENTORY, id: 1, version: 1 },
      { stream: 'order', topic: 'canonical.order.v1', subject: ORDER, id: 2, version: 1 },
    ]);
    expect(second).toBe(first);
    expect(registry.config).toEqual(
      new Map([
        [INVENTORY, 'BACKWARD'],
        [ORDER, 'BACKWARD'],
      ]),
    );
    expect(registry.calls).toEqual([
      `PUT /config/${INVENTORY}`,
      `POST /subjects/${INVENTORY}/versions`,
      `POST /subjects/${INVENTORY}`,
      `PUT /config/${ORDER}`,
      `POST /subjects/${ORDER}/versions`,
      `POST /subjects/${ORDER}`,
    ]);
    await codec.ensureRegistered();
    await codec.encode(CANONICAL_SAMPLES.OrderDeleted);
    expect(registry.calls).toHaveLength(6);
  });

  it('registers the schema text it was built from, so registering again finds the same id', async () => {
    const registry = fakeRegistry();
    await codecWith(registry).ensureRegistered();
    const again = await codecWith(registry).ensureRegistered();
    expect(again.map(({ id, version }) => ({ id, version }))).toEqual([
      { id: 1, version: 1 },
      { id: 2, version: 1 },
    ]);
  });

  it('encodes into the topic, keyed by the aggregate key, framed with the registered id', async () => {
    const codec = codecWith(fakeRegistry());
    const record = await codec.encode(CANONICAL_SAMPLES.StockLevelChanged);
    expect(record.topic).toBe('canonical.inventory.v1');
    expect(record.key).toBe('SKU-1001@WH-EAST');
    expect(record.value.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 1]));
    expect(record.value.subarray(5)).toEqual(codec.codec.encode(CANONICAL_SAMPLES.StockLevelChanged).body);
  });

  it('decodes its own records without asking the registry, and others’ after one lookup per id', async () => {
    const registry = fakeRegistry();
    const producer = codecWith(registry);
    const records = await Promise.all(Object.values(CANONICAL_SAMPLES).map((event) => producer.encode(event)));
    const calls = registry.calls.length;
    for (const [index, record] of records.entries()) {
      const event = await producer.decode({ ...location, offset: String(index), value: record.value });
      expect(event).toStrictEqual(Object.values(CANONICAL_SAMPLES)[index]);
    }
    expect(registry.calls).toHaveLength(calls);

    const consumer = codecWith(registry);
    for (const record of records) await consumer.decode({ ...location, value: record.value });
    expect(registry.calls.slice(calls)).toEqual(['GET /schemas/ids/1', 'GET /schemas/ids/2']);
  });

  it('decodes records written with an older registered version, filling fields it lacked with their defaults', async () => {
    const registry = fakeRegistry();
    const codec = codecWith(registry);
    const older = structuredClone(codec.codec.streams.order.schema) as { fields: { type: unknown }[] };
    const union = older.fields[1]!.type as { name: string; fields: { name: string }[] }[];
    const line = union.find((r) => r.name === 'OrderLineChanged')!;
    line.fields = line.fields.filter((f) => f.name !== 'location');
    const olderId = registry.register(JSON.stringify(older));
    const { location: _location, ...payload } = CANONICAL_SAMPLES.OrderLineChanged.payload;
    const sample = { meta: CANONICAL_SAMPLES.OrderLineChanged.meta, payload } as unknown as CanonicalEvent;
    const body = createCanonicalRegistryCodec({ registryUrl: BASE }, { schemas: { order: older } }).codec.encode(
      sample,
    ).body;

    const event = await codec.decode({ ...location, value: frameConfluentAvro(olderId, body) });
    expect(event).toStrictEqual({ meta: sample.meta, payload: { ...payload, location: null } });
  });

  describe('registration failures', () => {
    const incompatible = {
      status: 409,
      body: { error_code: 0, message: `Incompatible artifact: ${ORDER} [AVRO], num of incompatible diffs: {1}` },
    };

    it.each([
      [
        'an incompatible schema (409)',
        incompatible,
        ConfigError,
        `Schema registry refused the schema for subject ${ORDER} as not BACKWARD compatible with its registered versions: Incompatible artifact: ${ORDER} [AVRO], num of incompatible diffs: {1}`,
      ],
      [
        'an invalid schema (422)',
        { status: 422, body: { error_code: 42201, message: 'Failed to discover artifact type from content.' } },
        ConfigError,
        `Schema registry refused the schema for subject ${ORDER} as invalid (error code 42201): Failed to discover artifact type from content.`,
      ],
      [
        'a malformed request (400)',
        { status: 400, body: { error_code: 400, message: 'Bad Request' } },
        ConfigError,
        `Schema registry answered 400 while registering the schema of subject ${ORDER}: Bad Request`,
      ],
      [
        'an unavailable registry (503)',
        { status: 503, body: { message: 'Service Unavailable' } },
        SourceUnavailableError,
        `Schema registry answered 503 while registering the schema of subject ${ORDER}: Service Unavailable`,
      ],
      [
        'a refused connection',
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' }),
        }),
        SourceUnavailableError,
        `Schema registry unreachable while registering the schema of subject ${ORDER}: connect ECONNREFUSED 127.0.0.1:8081`,
      ],
    ])('surfaces %s', async (_label, answer, errorClass, message) => {
      const registry = fakeRegistry((method, path) => {
        if (method === 'POST' && path === `/subjects/${ORDER}/versions`) return answer;
        if (path.startsWith('/compatibility/')) return { status: 200, body: { is_compatible: false } };
        return undefined;
      });
      const error = await failure(codecWith(registry).ensureRegistered());
      expect(error).toBeInstanceOf(errorClass);
      expect(error.message).toBe(message);
      expect(isRetriable(error)).toBe(errorClass === SourceUnavailableError);
      expect((error as ConfigError).location).toEqual({ topic: 'canonical.order.v1' });
      expect(error.cause).toBeDefined();
    });

    it('retries a 409 the registry’s compatibility check does not confirm (Apicurio’s concurrent creation)', async () => {
      const registry = fakeRegistry((method, path) =>
        method === 'POST' && path === `/subjects/${ORDER}/versions`
          ? { status: 409, body: { error_code: 409, message: `An artifact with ID '${ORDER}' already exists.` } }
          : undefined,
      );
      const error = await failure(codecWith(registry).ensureRegistered());
      expect(error).toBeInstanceOf(SourceUnavailableError);
      expect(error.message).toBe(
        `Schema registry answered 409 while registering the schema of subject ${ORDER} but does not find it incompatible: An artifact with ID '${ORDER}' already exists.`,
      );
      expect(registry.calls).toContain(`POST /compatibility/subjects/${ORDER}/versions/latest`);
    });

    it('sets compatibility again when another worker created the rule at the same moment (Apicurio’s 409)', async () => {
      let conflicts = 1;
      const registry = fakeRegistry((method, path) =>
        method === 'PUT' && path === `/config/${ORDER}` && conflicts-- > 0
          ? { status: 409, body: { error_code: 409, message: "A rule named 'COMPATIBILITY' already exists." } }
          : undefined,
      );
      const registered = await codecWith(registry).ensureRegistered();
      expect(registered.map((entry) => entry.subject)).toEqual([INVENTORY, ORDER]);
      expect(registry.calls.filter((call) => call === `PUT /config/${ORDER}`)).toHaveLength(2);
      expect(registry.config.get(ORDER)).toBe('BACKWARD');
    });

    it('answers a second 409 on setting compatibility with a retriable error, not a refusal of the schema', async () => {
      const registry = fakeRegistry((method, path) =>
        method === 'PUT' && path === `/config/${ORDER}`
          ? { status: 409, body: { error_code: 409, message: "A rule named 'COMPATIBILITY' already exists." } }
          : undefined,
      );
      const error = await failure(codecWith(registry).ensureRegistered());
      expect(error).toBeInstanceOf(SourceUnavailableError);
      expect(error.message).toBe(
        `Schema registry answered 409 twice while setting compatibility BACKWARD on subject ${ORDER}: A rule named 'COMPATIBILITY' already exists.`,
      );
      expect((error as SourceUnavailableError).location).toEqual({ topic: 'canonical.order.v1' });
    });

    it('names the compatibility step when setting it fails', async () => {
      const registry = fakeRegistry((method) =>
        method === 'PUT' ? { status: 500, body: { error_code: 50001, message: 'Store failed' } } : undefined,
      );
      const error = await failure(codecWith(registry).ensureRegistered());
      expect(error).toBeInstanceOf(SourceUnavailableError);
      expect(error.message).toBe(
        `Schema registry answered 500 while setting compatibility BACKWARD on subject ${INVENTORY}: Store failed`,
      );
    });

    it('tries again on the next call, and encode fails the same way until then', async () => {
      let refuse = true;
      const registry = fakeRegistry((method, path) => {
        if (refuse && path === `/subjects/${ORDER}/versions`) return incompatible;
        if (path.startsWith('/compatibility/')) return { status: 200, body: { is_compatible: false } };
        return undefined;
      });
      const codec = codecWith(registry);
      expect(await failure(codec.encode(CANONICAL_SAMPLES.OrderDeleted))).toBeInstanceOf(ConfigError);
      refuse = false;
      expect((await codec.encode(CANONICAL_SAMPLES.OrderDeleted)).value[4]).toBe(2);
    });
  });

  it('turns an event its schema cannot hold into a TransformError', async () => {
    const codec = codecWith(fakeRegistry());
    const event = {
      ...CANONICAL_SAMPLES.PaymentCaptured,
      payload: { ...CANONICAL_SAMPLES.PaymentCaptured.payload, amount: '0.00001' },
    } satisfies CanonicalEvent;
    const error = await failure(codec.encode(event));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(
      `Canonical event does not fit its schema: Decimal "0.00001" has more fraction digits than scale 4 in field payload.amount of PaymentCaptured event ${event.meta.eventId}`,
    );
  });

  describe('decode failures', () => {
    const body = createCanonicalRegistryCodec({ registryUrl: BASE }).codec.encode(CANONICAL_SAMPLES.OrderDeleted).body;

    it.each([
      ['a null value', null, `Null value in record ${where}`],
      ['an empty value', Buffer.alloc(0), `Empty value in record ${where}`],
      ['a bad magic byte', Buffer.from([1, 0, 0, 0, 1, 0]), `Bad magic byte 0x01 in record ${where}`],
      ['a truncated header', Buffer.from([0, 0, 0]), `Truncated Confluent header of 3 bytes in record ${where}`],
      ['an unknown schema id', frameConfluentAvro(4711, body), `Unknown schema id 4711 in record ${where}`],
      [
        'a schema that is no canonical envelope',
        frameConfluentAvro(3, body),
        `Unusable schema id 3 (Schema erp.Envelope is no canonical envelope; expected cdcsync.canonical.inventory.v1.InventoryEvent or cdcsync.canonical.order.v1.OrderEvent) for record ${where}`,
      ],
      [
        'a body that is no valid event',
        frameConfluentAvro(2, body.subarray(0, 30)),
        `Invalid canonical event for schema id 2 (Truncated Avro body of 30 bytes for cdcsync.canonical.order.v1.OrderEvent) in record ${where}`,
      ],
    ])('refuses %s with a DecodeError', async (_label, value, message) => {
      const registry = fakeRegistry();
      await codecWith(registry).ensureRegistered();
      registry.register(JSON.stringify({ type: 'record', name: 'erp.Envelope', fields: [] }));
      const error = await failure(codecWith(registry).decode({ ...location, value }));
      expect(error).toBeInstanceOf(DecodeError);
      expect(error.message).toBe(message);
      expect((error as DecodeError).location).toEqual(location);
    });

    it('backs off when the registry is unavailable for a lookup, then retries it', async () => {
      let down = true;
      const registry = fakeRegistry((method) =>
        down && method === 'GET' ? { status: 503, body: { message: 'Service Unavailable' } } : undefined,
      );
      const producer = codecWith(registry);
      const record = await producer.encode(CANONICAL_SAMPLES.OrderDeleted);
      const consumer = codecWith(registry);
      const error = await failure(consumer.decode({ ...location, value: record.value }));
      expect(error).toBeInstanceOf(SourceUnavailableError);
      expect(error.message).toBe(
        `Schema registry answered 503 for schema id 2 of record ${where}: Service Unavailable`,
      );
      down = false;
      expect(await consumer.decode({ ...location, value: record.value })).toStrictEqual(CANONICAL_SAMPLES.OrderDeleted);
    });
  });
});
