import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DecodeError, SourceUnavailableError } from '../../core/errors.js';
import { RegistryResponseError } from './classify-registry-error.js';
import { createAvroCodec } from './avro-codec.js';
import {
  cachedSchemaLookup,
  createConfluentDecoder,
  createRegistryRequest,
  frameConfluentAvro,
  httpSchemaLookup,
  type KafkaLocation,
  readConfluentFrame,
} from './confluent-decoder.js';

const location: KafkaLocation = { topic: 'erp.dbo.SalesOrder', partition: 2, offset: '1234' };
const where = 'erp.dbo.SalesOrder[2]@1234';

const orderSchema = {
  type: 'record',
  name: 'Value',
  namespace: 'erp.erp.dbo.SalesOrder',
  fields: [
    { name: 'id', type: 'long' },
    {
      name: 'amount',
      type: {
        type: 'bytes',
        scale: 4,
        precision: 19,
        'connect.version': 1,
        'connect.parameters': { scale: '4', 'connect.decimal.precision': '19' },
        'connect.name': 'org.apache.kafka.connect.data.Decimal',
        logicalType: 'decimal',
      },
    },
    {
      name: 'shipped_at',
      type: ['null', { type: 'long', 'connect.version': 1, 'connect.name': 'io.debezium.time.NanoTimestamp' }],
      default: null,
    },
  ],
  'connect.name': 'erp.erp.dbo.SalesOrder.Value',
};
const SCHEMA_ID = 7;
const orderCodec = createAvroCodec(orderSchema);
const order = { id: 9_007_199_254_740_993n, amount: '12.5000', shipped_at: '2024-03-01T08:15:30.123456700' };
const orderBytes = frameConfluentAvro(SCHEMA_ID, orderCodec.encode(order));

/** Awaits a rejection and checks it is a DecodeError with exactly this message, located at the record. */
async function expectDecodeError(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DecodeError);
  expect(error).toMatchObject({ message, location });
}

/** A fetch that answers from a map of schemas and counts requests per id. */
function countingFetch(schemas: Record<number, unknown>) {
  const calls = new Map<number, number>();
  const fake = (async (input: string | URL | Request) => {
    const url = String(input);
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(url)?.[1]);
    calls.set(id, (calls.get(id) ?? 0) + 1);
    // Let concurrent decodes pile up on the same request before it resolves.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const schema = schemas[id];
    if (schema === undefined) {
      return new Response(JSON.stringify({ error_code: 40403, message: `Schema ${id} not found` }), { status: 404 });
    }
    return new Response(JSON.stringify({ schema: JSON.stringify(schema) }), { status: 200 });
  }) as typeof fetch;
  return { fetch: fake, calls };
}

describe('createConfluentDecoder', () => {
  it('decodes a framed record into exact values', async () => {
    const { fetch } = countingFetch({ [SCHEMA_ID]: orderSchema });
    const decoder = createConfluentDecoder({ registryUrl: 'http://registry.test', fetch });
    expect(await decoder.decode(orderBytes, location)).toEqual({
      schemaId: SCHEMA_ID,
      schemaName: 'erp.erp.dbo.SalesOrder.Value',
      value: order,
    });
  });

  it('accepts a Uint8Array view into a larger buffer', async () => {
    const { fetch } = countingFetch({ [SCHEMA_ID]: orderSchema });
    const decoder = createConfluentDecoder({ registryUrl: 'http://registry.test', fetch });
    const padded = Buffer.concat([Buffer.from([9, 9, 9]), orderBytes]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 3, orderBytes.length);
    expect((await decoder.decode(view, location)).value).toEqual(order);
  });

  it('fetches an unseen schema id exactly once for concurrent decodes, and caches it', async () => {
    const { fetch, calls } = countingFetch({ [SCHEMA_ID]: orderSchema });
    const decoder = createConfluentDecoder({ registryUrl: 'http://registry.test', fetch });
    const results = await Promise.all(Array.from({ length: 25 }, () => decoder.decode(orderBytes, location)));
    expect(results.map((result) => result.value)).toEqual(Array.from({ length: 25 }, () => order));
    await decoder.decode(orderBytes, location);
    expect(Object.fromEntries(calls)).toEqual({ [SCHEMA_ID]: 1 });
  });

  it('uses a lookup function instead of HTTP', async () => {
    const asked: number[] = [];
    const decoder = createConfluentDecoder({
      lookupSchema: async (id) => {
        asked.push(id);
        return JSON.stringify(orderSchema);
      },
    });
    await Promise.all([decoder.decode(orderBytes, location), decoder.decode(orderBytes, location)]);
    expect(asked).toEqual([SCHEMA_ID]);
  });

  const truncatedBody = orderBytes.subarray(0, orderBytes.length - 3);
  it.each([
    ['null', null, `Null value in record ${where}`],
    ['undefined', undefined, `Null value in record ${where}`],
    ['empty', Buffer.alloc(0), `Empty value in record ${where}`],
    ['JSON instead of Avro', Buffer.from('{"id":1}'), `Bad magic byte 0x7b in record ${where}`],
    ['magic byte 1', Buffer.from([1, 0, 0, 0, 7, 2]), `Bad magic byte 0x01 in record ${where}`],
    ['a header cut short', Buffer.from([0, 0, 0]), `Truncated Confluent header of 3 bytes in record ${where}`],
    ['an unknown schema id', frameConfluentAvro(4711, Buffer.from([2])), `Unknown schema id 4711 in record ${where}`],
    [
      'a body cut short',
      truncatedBody,
      `Truncated Avro body of ${truncatedBody.length - 5} bytes for schema id 7 in record ${where}`,
    ],
    [
      'trailing garbage',
      Buffer.concat([orderBytes, Buffer.from([0xde, 0xad])]),
      `2 trailing bytes after the Avro body for schema id 7 in record ${where}`,
    ],
  ])('rejects %s as a DecodeError', async (_label, bytes, message) => {
    const { fetch } = countingFetch({ [SCHEMA_ID]: orderSchema });
    const decoder = createConfluentDecoder({ registryUrl: 'http://registry.test', fetch });
    await expectDecodeError(decoder.decode(bytes, location), message);
  });

  it('names the field and value a logical type rejects', async () => {
    const timeSchema = {
      type: 'record',
      name: 'T',
      fields: [{ name: 't', type: { type: 'int', 'connect.name': 'io.debezium.time.Time' } }],
    };
    const bytes = frameConfluentAvro(
      8,
      createAvroCodec({ type: 'record', name: 'T', fields: [{ name: 't', type: 'int' }] }).encode({ t: 86_400_001 }),
    );
    const decoder = createConfluentDecoder({ lookupSchema: async () => JSON.stringify(timeSchema) });
    await expectDecodeError(
      decoder.decode(bytes, location),
      `Invalid Avro body for schema id 8 (Invalid io.debezium.time.Time 86400001 outside one day in field t) in record ${where}`,
    );
  });

  it.each([
    ['not JSON', 'not json', 'Invalid schema id 7 (Unexpected token \'o\', "not json" is not valid JSON) for record'],
    ['not a schema', '{"type":"nope"}', 'Invalid schema id 7 (unknown type: "nope") for record'],
  ])('rejects a registered schema that is %s', async (_label, text, message) => {
    const decoder = createConfluentDecoder({ lookupSchema: async () => text });
    await expectDecodeError(decoder.decode(orderBytes, location), `${message} ${where}`);
  });

  it.each([
    [
      'PROTOBUF',
      { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' },
      200,
      DecodeError,
      `Schema id 7 is PROTOBUF, not AVRO, for record ${where}`,
    ],
    [
      'a 200 without a schema',
      {},
      200,
      SourceUnavailableError,
      `Schema registry answered schema id 7 without a schema for record ${where}`,
    ],
    [
      'a 503',
      { error_code: 50302, message: 'Unavailable' },
      503,
      SourceUnavailableError,
      `Schema registry answered 503 for schema id 7 of record ${where}: Unavailable`,
    ],
  ])('classifies a registry answering %s', async (_label, body, status, kind, message) => {
    const fetch = (async () => new Response(JSON.stringify(body), { status })) as typeof globalThis.fetch;
    const decoder = createConfluentDecoder({ registryUrl: 'http://registry.test', fetch });
    const error = await decoder.decode(orderBytes, location).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toBe(message);
  });

  it('retries the registry after a failed lookup instead of caching the failure', async () => {
    let attempts = 0;
    const decoder = createConfluentDecoder({
      lookupSchema: async () => {
        attempts += 1;
        if (attempts === 1)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' });
        return JSON.stringify(orderSchema);
      },
    });
    await expect(decoder.decode(orderBytes, location)).rejects.toBeInstanceOf(SourceUnavailableError);
    expect((await decoder.decode(orderBytes, location)).value).toEqual(order);
    expect(attempts).toBe(2);
  });

  it('rethrows errors that are not registry failures untouched', async () => {
    const bug = new TypeError('lookup is broken');
    const decoder = createConfluentDecoder({
      lookupSchema: async () => {
        throw bug;
      },
    });
    await expect(decoder.decode(orderBytes, location)).rejects.toBe(bug);
  });

  it.each([
    [{ registryUrl: 'not a url' }, 'Invalid schema registry setting registryUrl: Invalid URL'],
    [
      { registryUrl: 'http://registry.test', requestTimeoutMs: 0 },
      'Invalid schema registry setting requestTimeoutMs: Too small: expected number to be >0',
    ],
  ])('rejects %j at creation as a ConfigError', (config, message) => {
    let error: unknown;
    try {
      createConfluentDecoder(config);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(message);
  });
});

describe('createConfluentDecoder over HTTP on 127.0.0.1', () => {
  let server: Server;
  let url: string;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`.trim());
      // Answer late, so that every concurrent decode is waiting on the same request.
      setTimeout(() => {
        if (request.url === `/schemas/ids/${SCHEMA_ID}`) {
          response.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
          response.end(JSON.stringify({ schema: JSON.stringify(orderSchema) }));
        } else if (request.url === '/schemas/ids/500') {
          response.writeHead(500).end(JSON.stringify({ error_code: 50001, message: 'Store error' }));
        } else {
          response.writeHead(404).end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
        }
      }, 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends one GET per unseen id, whatever the number of concurrent decodes', async () => {
    requests.length = 0;
    const decoder = createConfluentDecoder({
      registryUrl: `${url}/`,
      basicAuth: { username: 'cdc', password: 's3cret' },
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => decoder.decode(orderBytes, location)));
    expect(
      new Set(
        results.map((result) =>
          JSON.stringify(result.value, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)),
        ),
      ),
    ).toEqual(new Set(['{"id":"9007199254740993n","amount":"12.5000","shipped_at":"2024-03-01T08:15:30.123456700"}']));
    expect(requests).toEqual([`GET /schemas/ids/${SCHEMA_ID} Basic ${Buffer.from('cdc:s3cret').toString('base64')}`]);
  });

  it('classifies a 404 and a 500 from a real HTTP server', async () => {
    const decoder = createConfluentDecoder({ registryUrl: url });
    await expectDecodeError(
      decoder.decode(frameConfluentAvro(4711, Buffer.from([2])), location),
      `Unknown schema id 4711 in record ${where}`,
    );
    const error = await decoder
      .decode(frameConfluentAvro(500, Buffer.from([2])), location)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toBe(
      `Schema registry answered 500 for schema id 500 of record ${where}: Store error`,
    );
  });

  it('reports a refused connection as a retriable SourceUnavailableError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const decoder = createConfluentDecoder({ registryUrl: `http://127.0.0.1:${port}` });
    const error = await decoder.decode(orderBytes, location).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toBe(
      `Schema registry unreachable for schema id 7 of record ${where}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe('readConfluentFrame', () => {
  it('splits a frame into its schema id and a view of its body', () => {
    const frame = readConfluentFrame(frameConfluentAvro(0x01020304, Buffer.from([7, 8, 9])), location);
    expect(frame.schemaId).toBe(0x01020304);
    expect(frame.body).toEqual(Buffer.from([7, 8, 9]));
  });

  it('reads a Uint8Array view without copying it', () => {
    const padded = Buffer.concat([Buffer.from([9, 9]), frameConfluentAvro(7, Buffer.from([1, 2]))]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, 7);
    const { schemaId, body } = readConfluentFrame(view, location);
    expect(schemaId).toBe(7);
    expect(body).toEqual(Buffer.from([1, 2]));
    expect(body.buffer).toBe(padded.buffer);
  });

  it('accepts a header without a body', () => {
    expect(readConfluentFrame(Buffer.from([0, 0, 0, 0, 3]), location).body).toHaveLength(0);
  });

  it.each([
    ['null', null, `Null value in record ${where}`],
    ['undefined', undefined, `Null value in record ${where}`],
    ['empty', new Uint8Array(0), `Empty value in record ${where}`],
    ['magic byte 0x7b', Buffer.from('{"id":1}'), `Bad magic byte 0x7b in record ${where}`],
    ['a header of 4 bytes', Buffer.from([0, 0, 0, 7]), `Truncated Confluent header of 4 bytes in record ${where}`],
  ])('refuses %s with a DecodeError at the record', (_label, bytes, message) => {
    let error: unknown;
    try {
      readConfluentFrame(bytes, location);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ message, location });
  });
});

describe('createRegistryRequest', () => {
  const settings = { registryUrl: 'http://registry.test/api//', requestTimeoutMs: 1000 };

  function recordingFetch(status: number, body: string) {
    const seen: { url: string; init: RequestInit }[] = [];
    const fake = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input), init: init ?? {} });
      return new Response(body, { status });
    }) as typeof fetch;
    return { fetch: fake, seen };
  }

  it('sends JSON with Confluent media types and basic auth, and answers the parsed body', async () => {
    const { fetch, seen } = recordingFetch(200, '{"id":3}');
    const request = createRegistryRequest({ ...settings, basicAuth: { username: 'u', password: 'p' } }, fetch);
    expect(await request('POST', '/subjects/s/versions', { schema: '"int"' })).toEqual({ id: 3 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('http://registry.test/api/subjects/s/versions');
    expect(seen[0]!.init).toMatchObject({
      method: 'POST',
      body: '{"schema":"\\"int\\""}',
      headers: {
        accept: 'application/vnd.schemaregistry.v1+json, application/json',
        'content-type': 'application/vnd.schemaregistry.v1+json',
        authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
      },
    });
  });

  it('sends no body and no content type with a GET', async () => {
    const { fetch, seen } = recordingFetch(200, 'not json');
    expect(await createRegistryRequest(settings, fetch)('GET', '/schemas/ids/1')).toEqual({});
    expect(seen[0]!.init.body).toBeUndefined();
    expect(seen[0]!.init.headers).not.toHaveProperty('content-type');
  });

  it.each([
    ['a registry error body', '{"error_code":40403,"message":"Schema 1 not found"}', 40403, 'Schema 1 not found'],
    ['a plain text body', 'Bad Gateway', undefined, 'Bad Gateway'],
  ])('rejects a non-2xx answer with %s as a RegistryResponseError', async (_label, body, errorCode, message) => {
    const { fetch } = recordingFetch(502, body);
    const error = await createRegistryRequest(settings, fetch)('GET', '/schemas/ids/1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryResponseError);
    expect(error).toMatchObject({ status: 502, errorCode, message });
  });
});

describe('httpSchemaLookup and cachedSchemaLookup', () => {
  it('looks an id up once for concurrent callers, compiles it once, and forgets a failure', async () => {
    const asked: string[] = [];
    let down = true;
    const request = async (method: string, path: string) => {
      asked.push(`${method} ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (down) throw new RegistryResponseError(503, undefined, 'Service Unavailable');
      return { schema: '"long"' };
    };
    const compiled: string[] = [];
    const lookup = cachedSchemaLookup(httpSchemaLookup(request), (text, schemaId) => {
      compiled.push(`${schemaId}:${text}`);
      return text.length;
    });

    const failures = await Promise.all([lookup(7, location), lookup(7, location)].map((p) => p.catch((e) => e)));
    expect(failures[0]).toBeInstanceOf(SourceUnavailableError);
    expect(failures[1]).toBe(failures[0]);
    expect((failures[0] as Error).message).toBe(
      `Schema registry answered 503 for schema id 7 of record ${where}: Service Unavailable`,
    );

    down = false;
    expect(await Promise.all([lookup(7, location), lookup(7, location)])).toEqual([6, 6]);
    expect(await lookup(7, location)).toBe(6);
    expect(asked).toEqual(['GET /schemas/ids/7', 'GET /schemas/ids/7']);
    expect(compiled).toEqual(['7:"long"']);
  });

  it('passes what the compiler throws through untouched', async () => {
    const refusal = new DecodeError('No good');
    const lookup = cachedSchemaLookup(
      async () => '"int"',
      () => {
        throw refusal;
      },
    );
    await expect(lookup(1, location)).rejects.toBe(refusal);
  });
});
