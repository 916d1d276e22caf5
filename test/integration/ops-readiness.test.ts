import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../core/observability/metrics.js';
import { parseMetricsText, sampleValue } from '../../core/observability/metrics-testing.js';
import { type ReadinessReport } from '../../core/observability/readiness.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createMongoWireService } from '../../stack/services/mongo-wire.js';
import { createStack } from '../../stack/stack.js';
import { waitFor } from './debezium-stack.js';
import { isolatedPipelineConfig, produceFixtures } from './pipeline-harness.js';
import { freePort } from './services.js';

// A MongoDB-wire server of this test's own, on a free port and in a state folder of its own (its install comes
// from the shared cache), so that stopping it leaves the shared one on 27017, which other tests use, alone.
const stackRoot = mkdtempSync(join(tmpdir(), 'cdc-sync-readiness-'));
let mongoStack: ReturnType<typeof createStack> | undefined;
let pipeline: RunningPipeline | undefined;
let config: ReturnType<typeof isolatedPipelineConfig>;

async function readyz(): Promise<{ status: number; body: ReadinessReport }> {
  const response = await fetch(`${pipeline!.opsUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as ReadinessReport };
}

async function gauges() {
  const samples = parseMetricsText(await (await fetch(`${pipeline!.opsUrl}/metrics`)).text());
  return {
    ready: sampleValue(samples, METRIC.ready),
    kafka: sampleValue(samples, METRIC.dependencyUp, { dependency: 'kafka' }),
    schemaRegistry: sampleValue(samples, METRIC.dependencyUp, { dependency: 'schema_registry' }),
    mongodb: sampleValue(samples, METRIC.dependencyUp, { dependency: 'mongodb' }),
    inventoryPaused: sampleValue(samples, METRIC.pausedPartitions, {
      group: config.sink.groupId,
      topic: config.topics.inventory,
      partition: '0',
    }),
  };
}

describe('readiness of a running pipeline while MongoDB goes away and comes back', () => {
  beforeAll(async () => {
    const service = createMongoWireService({ ...process.env, CDC_SYNC_MONGO_PORT: String(await freePort()) });
    mongoStack = createStack([service], { cacheRoot: resolveStackPaths().cacheRoot, stackRoot });
    await mongoStack.up((line) => process.stderr.write(`${line}\n`));
    config = isolatedPipelineConfig({
      mongodb: { uri: service.endpoint },
      ops: { port: 0, probeIntervalMs: 500, probeTimeoutMs: 1_000 },
    });
    pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }), 'the test');
  });

  afterAll(async () => {
    await pipeline?.stop();
    await mongoStack?.down();
    rmSync(stackRoot, { recursive: true, force: true });
  });

  it('is ready with every check passing once started', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.failing).toEqual([]);
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ['pipeline', true],
      ['kafka', true],
      ['schema_registry', true],
      ['mongodb', true],
      ['transform_consumer', true],
      ['sink_consumer', true],
    ]);
    expect(await gauges()).toEqual({ ready: 1, kafka: 1, schemaRegistry: 1, mongodb: 1, inventoryPaused: undefined });
  });

  it('answers 503 naming mongodb while MongoDB is stopped, pauses the partition it cannot write, and recovers', async () => {
    await mongoStack!.down();
    await waitFor(async () => (await readyz()).status === 503, '/readyz to answer 503', 15_000);
    const down = await readyz();
    expect(down.body.ready).toBe(false);
    expect(down.body.failing).toEqual(['mongodb']);
    expect(down.body.checks.find((check) => check.name === 'mongodb')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^MongoDB of mongodb\.uri did not answer ping: /),
    });
    expect(await gauges()).toEqual({
      ready: 0,
      kafka: 1,
      schemaRegistry: 1,
      mongodb: 0,
      inventoryPaused: undefined,
    });

    // Stock changes arrive meanwhile: the sink cannot write them, so it pauses the partition and backs off.
    await produceFixtures(config, ['test/fixtures/erp/inventory-burst.json']);
    await waitFor(async () => (await gauges()).inventoryPaused === 1, 'the inventory partition to pause', 60_000);

    await mongoStack!.up();
    await waitFor(async () => (await readyz()).status === 200, '/readyz to answer 200 again', 30_000);
    expect((await readyz()).body.failing).toEqual([]);
    // The retried batch is written once MongoDB answers, and the partition resumes.
    await waitFor(async () => (await gauges()).inventoryPaused === 0, 'the inventory partition to resume', 60_000);
    expect(await gauges()).toEqual({ ready: 1, kafka: 1, schemaRegistry: 1, mongodb: 1, inventoryPaused: 0 });
    expect(pipeline!.counters.get('sink.inventory_availability.applied')).toBe(6);
  });
});
