import { describe, expect, it } from 'vitest';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { createConnectClient } from './client.js';

type Call = { method: string; url: string; body?: unknown };
type Reply = { status: number; body?: unknown } | Error;

/** A fake fetch answering each call with the next reply, recording the calls. */
function fakeFetch(replies: Reply[]): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({
      method: init?.method ?? 'GET',
      url: String(input),
      ...(typeof init?.body === 'string' ? { body: JSON.parse(init.body) as unknown } : {}),
    });
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`Unexpected call ${init?.method} ${String(input)}`);
    if (reply instanceof Error) throw reply;
    const text =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(reply.status === 204 ? null : text, { status: reply.status });
  };
  return { fetch: fake as typeof fetch, calls };
}

const URL_BASE = 'http://connect:8083';
const wanted = { 'connector.class': 'X', 'topic.prefix': 'erp' };

describe('the Kafka Connect client', () => {
  it.each([
    [
      'created',
      [
        { status: 404, body: { error_code: 404, message: 'Connector c not found' } },
        { status: 201, body: {} },
      ],
      2,
    ],
    [
      'updated',
      [
        { status: 200, body: { ...wanted, 'topic.prefix': 'old', name: 'c' } },
        { status: 200, body: {} },
      ],
      2,
    ],
    [
      'updated',
      [
        { status: 200, body: { ...wanted, extra: '1', name: 'c' } },
        { status: 200, body: {} },
      ],
      2,
    ],
    ['unchanged', [{ status: 200, body: { ...wanted, name: 'c' } }], 1],
  ] as const)('applies a config: %s', async (outcome, replies, callCount) => {
    const { fetch, calls } = fakeFetch([...replies]);
    const client = createConnectClient({ url: `${URL_BASE}/`, fetch });
    expect(await client.apply('c', wanted)).toBe(outcome);
    expect(calls).toHaveLength(callCount);
    expect(calls[0]).toEqual({ method: 'GET', url: `${URL_BASE}/connectors/c/config` });
    if (callCount === 2)
      expect(calls[1]).toEqual({ method: 'PUT', url: `${URL_BASE}/connectors/c/config`, body: wanted });
  });

  it('reads the status and restarts failed tasks', async () => {
    const status = {
      name: 'c',
      connector: { state: 'RUNNING', worker_id: 'w:8083' },
      tasks: [{ id: 0, state: 'FAILED', worker_id: 'w:8083', trace: 'java.lang.Boom' }],
      type: 'source',
    };
    const { fetch, calls } = fakeFetch([
      { status: 200, body: status },
      { status: 202 },
      { status: 204 },
      { status: 204 },
    ]);
    const client = createConnectClient({ url: URL_BASE, fetch });
    expect(await client.status('c')).toEqual(status);
    await client.restart('c');
    await client.restartTask('c', 0);
    expect(await client.remove('c')).toBe(true);
    expect(calls.map((call) => `${call.method} ${call.url}`)).toEqual([
      `GET ${URL_BASE}/connectors/c/status`,
      `POST ${URL_BASE}/connectors/c/restart?includeTasks=true&onlyFailed=true`,
      `POST ${URL_BASE}/connectors/c/tasks/0/restart`,
      `DELETE ${URL_BASE}/connectors/c`,
    ]);
  });

  it.each([
    [
      'unreachable',
      new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8083') }),
      SourceUnavailableError,
      `Kafka Connect at ${URL_BASE} is unreachable: GET ${URL_BASE}/connectors/c/status failed: fetch failed: connect ECONNREFUSED 127.0.0.1:8083`,
    ],
    [
      'a 500',
      { status: 500, body: { error_code: 500, message: 'Request timed out' } },
      SourceUnavailableError,
      `Kafka Connect GET ${URL_BASE}/connectors/c/status answered 500: Request timed out`,
    ],
    [
      'a 409 rebalance',
      {
        status: 409,
        body: { error_code: 409, message: 'Cannot complete request momentarily due to stale configuration' },
      },
      SourceUnavailableError,
      `Kafka Connect GET ${URL_BASE}/connectors/c/status answered 409: Cannot complete request momentarily due to stale configuration`,
    ],
    [
      'a 404',
      { status: 404, body: { error_code: 404, message: 'No status found for connector c' } },
      ConfigError,
      `Kafka Connect GET ${URL_BASE}/connectors/c/status answered 404: No status found for connector c`,
    ],
    [
      'a non-JSON 502',
      { status: 502, body: '<html>Bad gateway</html>' },
      SourceUnavailableError,
      `Kafka Connect GET ${URL_BASE}/connectors/c/status answered 502: <html>Bad gateway</html>`,
    ],
  ] as const)('reports %s with the URL, status and body', async (_label, reply, type, message) => {
    const { fetch } = fakeFetch([reply as Reply]);
    const error = await createConnectClient({ url: URL_BASE, fetch })
      .status('c')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toBe(message);
  });

  it('reports a rejected config (400) as a ConfigError', async () => {
    const { fetch } = fakeFetch([
      { status: 404, body: { error_code: 404, message: 'Connector c not found' } },
      {
        status: 400,
        body: { error_code: 400, message: 'Connector configuration is invalid and contains the following 1 error(s)' },
      },
    ]);
    await expect(createConnectClient({ url: URL_BASE, fetch }).apply('c', wanted)).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          `Kafka Connect PUT ${URL_BASE}/connectors/c/config answered 400: Connector configuration is invalid and contains the following 1 error(s)`,
    );
  });

  it('treats a missing connector as absent when reading its config or deleting it', async () => {
    const { fetch } = fakeFetch([
      { status: 404, body: {} },
      { status: 404, body: {} },
    ]);
    const client = createConnectClient({ url: URL_BASE, fetch });
    expect(await client.getConfig('c')).toBeUndefined();
    expect(await client.remove('c')).toBe(false);
  });
});
