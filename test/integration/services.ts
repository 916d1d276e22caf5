import { readFileSync } from 'node:fs';
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

/**
 * A TCP port on 127.0.0.1 that is free now and lies below the kernel's ephemeral range, for a server that binds it
 * only later, such as a stack service started after the ones it needs. A {@link freePort} port can be handed to any
 * other process's bind to port 0, or to an outgoing connection, the moment it is released; one below the range can be
 * taken only by a process that asks for it by number. Skips the ports in `taken`.
 */
export async function freePortBelowEphemeral(taken: ReadonlySet<number> = new Set()): Promise<number> {
  const lowest = 10_000;
  const ephemeralStart = ephemeralPortStart();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = lowest + Math.floor(Math.random() * (ephemeralStart - lowest));
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(`No free port between ${lowest} and ${ephemeralStart - 1} after 200 tries`);
}

/** The first port of the kernel's ephemeral range (Linux' default 32768). */
function ephemeralPortStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 10_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
