import { createServer } from 'node:net';
import { inject } from 'vitest';

/** The endpoints integration tests talk to, chosen once by the global setup. */
export type ServiceEndpoints = {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly mongodbUri: string;
  /** Where each endpoint came from: given by env, a testcontainer, or the native local stack. */
  readonly origin: Readonly<Record<ServiceKey, ServiceOrigin>>;
};

export type ServiceKey = 'kafka' | 'schemaRegistry' | 'mongodb';
export type ServiceOrigin = 'env' | 'testcontainers' | 'native-stack';

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceEndpoints;
  }
}

/** The endpoints provided by `test/integration/global-setup.ts`. */
export function services(): ServiceEndpoints {
  return inject('services');
}

/** A name no other test run uses, for topics, subjects, databases and collections. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a server of a test's own. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error(`No port from ${String(address)}`);
  return address.port;
}
