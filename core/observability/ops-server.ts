import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Logger } from 'pino';
import { z } from 'zod';

/** The pipeline's `ops` section: whether and where the ops server listens, and how often readiness is probed. */
export const opsConfigSchema = z.object({
  enabled: z.boolean().default(true).describe('Serve /metrics, /healthz, /readyz and the ops dashboard'),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the ops server binds; keep 127.0.0.1 unless a scraper must reach it from elsewhere'),
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(9464)
    .describe('Port of the ops server; 0 picks a free one (logged at start-up)'),
  probeIntervalMs: z
    .number()
    .int()
    .positive()
    .default(1_000)
    .describe('Time between readiness probes of each dependency (Kafka, the registry, MongoDB)'),
  probeTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(1_500)
    .describe('Longest a readiness probe may take before the dependency counts as down'),
});

/** The validated `ops` section. */
export type OpsConfig = z.output<typeof opsConfigSchema>;

/** One GET route of the ops server; it writes the whole response itself. */
export type OpsRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** Routes by exact path, e.g. `/metrics`. */
export type OpsRoutes = Readonly<Record<string, OpsRoute>>;

export type OpsServerOptions = {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in {@link OpsServer.url}. */
  readonly port: number;
  readonly routes: OpsRoutes;
  readonly logger: Logger;
};

/** A listening ops server. */
export type OpsServer = {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  close(): Promise<void>;
};

/**
 * Starts the pipeline's ops HTTP server: metrics, health and the dashboard,
 * one route per path. Only GET and HEAD are served; an unknown path is 404,
 * and a route that throws answers 500 with the error message and is logged.
 * Rejects when the address is taken, naming it.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((request, response) => {
    void serve(options, request, response);
  });
  // Keep-alive connections from a browser or scraper must not hold up a stop.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(`Cannot start the ops server on ${options.host}:${options.port}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

async function serve(options: OpsServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://ops.invalid').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response
      .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      .end('Method not allowed\n');
    return;
  }
  const route = Object.hasOwn(options.routes, path) ? options.routes[path] : undefined;
  if (route === undefined) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`No ops route ${path}\n`);
    return;
  }
  try {
    await route(request, response);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    options.logger.warn({ err: error, path }, 'An ops route failed');
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${message}\n`);
  }
}

/**
 * Combines route tables into one, e.g. the health routes and the
 * dashboard's. Throws naming the path when two tables serve the same one,
 * rather than letting one silently shadow the other.
 */
export function combineOpsRoutes(...tables: readonly OpsRoutes[]): OpsRoutes {
  const combined: Record<string, OpsRoute> = {};
  for (const table of tables) {
    for (const [path, route] of Object.entries(table)) {
      if (Object.hasOwn(combined, path)) throw new Error(`Ops route ${path} is defined twice`);
      combined[path] = route;
    }
  }
  return combined;
}
