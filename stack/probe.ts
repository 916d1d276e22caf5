import { connect } from 'node:net';
import { type HealthResult } from './service.js';

/** Resolves true when something accepts TCP connections on 127.0.0.1:port within the timeout. */
export function isPortOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Healthy when a GET of the URL answers with a 2xx status within the timeout. */
export async function httpHealth(url: string, timeoutMs = 3000): Promise<HealthResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok ? { healthy: true } : { healthy: false, reason: `GET ${url} answered ${response.status}` };
  } catch (error: unknown) {
    return { healthy: false, reason: `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
