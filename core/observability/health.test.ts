import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthRoutes } from './health.js';
import { createPipelineMetrics, METRIC } from './metrics.js';
import { parseMetricsText, sampleValue } from './metrics-testing.js';
import { combineOpsRoutes, type OpsServer, startOpsServer } from './ops-server.js';
import { type ReadinessReport } from './readiness.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(report: ReadinessReport) {
  const metrics = createPipelineMetrics({ processMetrics: false });
  metrics.sourceRecords('sink', 'canonical.order.v1', 3);
  server = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    routes: combineOpsRoutes(createHealthRoutes({ metrics, readiness: { report: () => report } }), {
      '/extra': (_request, response) => void response.writeHead(200).end('extra\n'),
    }),
    logger: pino({ level: 'silent' }),
  });
  return server.url;
}

const ready: ReadinessReport = {
  ready: true,
  failing: [],
  checks: [{ name: 'kafka', ok: true, detail: 'reachable', checkedAt: '2026-11-27T08:00:00.000Z' }],
};

describe('the health routes over HTTP', () => {
  it('/metrics answers the text format with its content type', async () => {
    const response = await fetch(`${await serve(ready)}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseMetricsText(await response.text());
    expect(sampleValue(samples, METRIC.sourceRecords, { role: 'sink', topic: 'canonical.order.v1' })).toBe(3);
  });

  it('/readyz answers 200 with every check while ready', async () => {
    const response = await fetch(`${await serve(ready)}/readyz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual(ready);
  });

  it('/readyz answers 503 naming the failing checks while not ready', async () => {
    const notReady: ReadinessReport = {
      ready: false,
      failing: ['mongodb'],
      checks: [
        { name: 'pipeline', ok: true, detail: 'running' },
        { name: 'mongodb', ok: false, detail: 'MongoDB of mongodb.uri did not answer ping: connection refused' },
      ],
    };
    const response = await fetch(`${await serve(notReady)}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual(notReady);
  });

  it('/healthz answers ok, and extra routes are served beside the health routes', async () => {
    const url = await serve(ready);
    const health = await fetch(`${url}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const extra = await fetch(`${url}/extra`);
    expect([extra.status, await extra.text()]).toEqual([200, 'extra\n']);
    const unknown = await fetch(`${url}/nothing`);
    expect([unknown.status, await unknown.text()]).toEqual([404, 'No ops route /nothing\n']);
  });
});

describe('combineOpsRoutes', () => {
  it('refuses a path served twice, naming it', () => {
    const route = () => {};
    expect(() => combineOpsRoutes({ '/metrics': route }, { '/readyz': route }, { '/metrics': route })).toThrow(
      new Error('Ops route /metrics is defined twice'),
    );
  });
});
