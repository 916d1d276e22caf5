import { describe, expect, it } from 'vitest';
import { createCanonicalRegistryCodec } from './registry.js';
import { CANONICAL_SAMPLES } from './samples.js';

const BASE = 'http://registry.test/apis/ccompat/v7';

/** Answers registration (ids 1 and 2 in registration order) and schema lookups by id; records each request. */
function registry() {
  const requests: string[] = [];
  const schemas: string[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = decodeURIComponent(String(input).slice(BASE.length));
    requests.push(`${method} ${path}`);
    const body = init?.body === undefined ? {} : (JSON.parse(String(init.body)) as { schema?: string });
    const idOf = (schema: string) => {
      if (!schemas.includes(schema)) schemas.push(schema);
      return schemas.indexOf(schema) + 1;
    };
    const lookup = /^\/schemas\/ids\/(\d+)$/.exec(path);
    const answer =
      method === 'PUT'
        ? {}
        : method === 'POST' && path.endsWith('/versions')
          ? { id: idOf(body.schema!) }
          : method === 'POST'
            ? { id: idOf(body.schema!), version: 1 }
            : { schema: schemas[Number(lookup![1]) - 1] };
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as typeof fetch;
  return { requests, schemas, fetch: fetchImpl };
}

const location = (offset: number) => ({ topic: 'canonical.order.v1', partition: 0, offset: String(offset) });

describe("the canonical codec's schema cache observer", () => {
  it('hears a hit for ids this process registered, answered without asking the registry', async () => {
    const { fetch, requests } = registry();
    const results: string[] = [];
    const codec = createCanonicalRegistryCodec({ registryUrl: BASE }, { fetch, onCacheLookup: (r) => results.push(r) });
    const record = await codec.encode(CANONICAL_SAMPLES.OrderAccepted);
    await codec.decode({ ...location(1), value: record.value });
    await codec.decode({ ...location(2), value: record.value });
    expect(results).toEqual(['hit', 'hit']);
    expect(requests.filter((request) => request.startsWith('GET'))).toEqual([]);
  });

  it('hears a miss for the first lookup of a writer schema it did not register, then hits', async () => {
    const writer = registry();
    const record = await createCanonicalRegistryCodec({ registryUrl: BASE }, { fetch: writer.fetch }).encode(
      CANONICAL_SAMPLES.OrderAccepted,
    );
    const results: string[] = [];
    const reader = createCanonicalRegistryCodec(
      { registryUrl: BASE },
      { fetch: writer.fetch, onCacheLookup: (r) => results.push(r) },
    );
    for (const offset of [1, 2, 3]) await reader.decode({ ...location(offset), value: record.value });
    expect(results).toEqual(['miss', 'hit', 'hit']);
    expect(writer.requests.filter((request) => request.startsWith('GET'))).toEqual([
      `GET /schemas/ids/${record.value.readUInt32BE(1)}`,
    ]);
  });
});
