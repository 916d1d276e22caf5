import { type PipelineMetrics } from './metrics.js';
import { type OpsRoutes } from './ops-server.js';
import { type Readiness } from './readiness.js';

/** What {@link createHealthRoutes} serves from. */
export type HealthRoutesOptions = {
  readonly metrics: Pick<PipelineMetrics, 'text' | 'contentType'>;
  readonly readiness: Pick<Readiness, 'report'>;
};

/**
 * The ops server's health and metrics routes:
 *
 * - `/metrics`: every metric in the Prometheus text format, with its
 *   content type; scrape-time readers (consumer lag, milestone latencies)
 *   are refreshed first.
 * - `/healthz`: liveness; 200 `ok` while the process serves requests.
 * - `/readyz`: readiness as JSON (`{ ready, failing, checks }`, see
 *   `ReadinessReport`); 200 when ready, 503 when a check fails, the failing
 *   checks named in `failing` and in each check's `detail`.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function createHealthRoutes(options: HealthRoutesOptions): OpsRoutes {
  return {
    '/metrics': async (_request, response) => {
      const text = await options.metrics.text();
      response.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' }).end(text);
    },
    '/healthz': (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    },
    '/readyz': (_request, response) => {
      const report = options.readiness.report();
      response
        .writeHead(report.ready ? 200 : 503, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        })
        .end(`${JSON.stringify(report)}\n`);
    },
  };
}
