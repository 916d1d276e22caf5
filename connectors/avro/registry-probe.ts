import { createRegistryRequest, parseRegistrySettings } from './confluent-decoder.js';

/**
 * Resolves once the schema registry at `registryUrl` answers `GET /subjects`
 * with a 2xx within `timeoutMs`; rejects otherwise, with a message naming the
 * registry and what went wrong. For readiness: the cheapest request that
 * proves the registry serves its API.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#get--subjects
 */
export async function probeSchemaRegistry(
  registryUrl: string,
  timeoutMs: number,
  doFetch: typeof fetch = fetch,
): Promise<void> {
  const request = createRegistryRequest(parseRegistrySettings({ registryUrl, requestTimeoutMs: timeoutMs }), doFetch);
  try {
    await request('GET', '/subjects');
  } catch (error: unknown) {
    const reason = error instanceof Error ? describeFailure(error) : String(error);
    throw new Error(`Schema registry at ${registryUrl} did not answer GET /subjects: ${reason}`, { cause: error });
  }
}

/** fetch's own errors say only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in the cause. */
function describeFailure(error: Error): string {
  if (error.name === 'TimeoutError') return 'timed out';
  const cause = error.cause;
  if (cause instanceof Error && cause.message !== '') return `${error.message} (${cause.message})`;
  return error.message;
}
