import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createPipelineMetrics, METRIC } from './metrics.js';
import { parseMetricsText, sampleValue } from './metrics-testing.js';
import { createReadiness, type CheckStatus } from './readiness.js';

const NOW = new Date('2026-11-27T08:00:00.000Z');

/** A logger whose lines land in `lines` as [level, msg, dependency]. */
function capturingLogger() {
  const lines: [string, string, unknown][] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const parsed = JSON.parse(line) as { level: number; msg: string; dependency?: unknown };
        lines.push([pino.levels.labels[parsed.level]!, parsed.msg, parsed.dependency]);
      },
    },
  );
  return { logger, lines };
}

function world() {
  const state = {
    mongodb: true,
    /** How many MongoDB probes have finished. */
    mongodbProbes: 0,
    consumer: { ok: true, detail: 'group g: assigned t[0]' } as CheckStatus,
  };
  const metrics = createPipelineMetrics({ processMetrics: false });
  const { logger, lines } = capturingLogger();
  const readiness = createReadiness({
    dependencies: [
      { dependency: 'kafka', probe: async () => {} },
      {
        dependency: 'mongodb',
        probe: async () => {
          state.mongodbProbes += 1;
          if (!state.mongodb) throw new Error('MongoDB of mongodb.uri did not answer ping: connection refused');
        },
      },
    ],
    checks: [{ name: 'sink_consumer', status: () => state.consumer }],
    metrics,
    logger,
    intervalMs: 10,
    timeoutMs: 50,
    now: () => NOW,
  });
  const gauges = async () => {
    const samples = parseMetricsText(await metrics.text());
    return {
      ready: sampleValue(samples, METRIC.ready),
      kafka: sampleValue(samples, METRIC.dependencyUp, { dependency: 'kafka' }),
      mongodb: sampleValue(samples, METRIC.dependencyUp, { dependency: 'mongodb' }),
    };
  };
  return { state, readiness, lines, gauges };
}

describe('readiness', () => {
  it('logs a dependency unreachable at start-up at info, and at warn only once it had been reachable', async () => {
    const { logger, lines } = capturingLogger();
    let up = false;
    const readiness = createReadiness({
      dependencies: [
        {
          dependency: 'mongodb',
          probe: async () => {
            if (!up) throw new Error('MongoDB not connected yet; start-up is retrying');
          },
        },
      ],
      checks: [],
      logger,
      intervalMs: 1_000,
    });
    await readiness.probeNow();
    up = true;
    await readiness.probeNow();
    up = false;
    await readiness.probeNow();
    up = true;
    await readiness.probeNow();
    readiness.stop();
    expect(lines).toEqual([
      ['info', 'Dependency not reachable yet; not ready', 'mongodb'],
      ['info', 'Dependency reachable', 'mongodb'],
      ['warn', 'Dependency unreachable; not ready', 'mongodb'],
      ['info', 'Dependency reachable again', 'mongodb'],
    ]);
  });

  it('is not ready until the pipeline has started, then lists every check as passing', async () => {
    const { readiness } = world();
    await readiness.probeNow();
    expect(readiness.report()).toEqual({
      ready: false,
      failing: ['pipeline'],
      checks: [
        { name: 'pipeline', ok: false, detail: 'starting' },
        { name: 'kafka', ok: true, detail: 'reachable', checkedAt: NOW.toISOString() },
        { name: 'mongodb', ok: true, detail: 'reachable', checkedAt: NOW.toISOString() },
        { name: 'sink_consumer', ok: true, detail: 'group g: assigned t[0]' },
      ],
    });
    readiness.started();
    expect(readiness.report()).toMatchObject({ ready: true, failing: [] });
    readiness.stop();
  });

  it('turns not ready while a dependency is down and ready again once it is back, logging each change once', async () => {
    const { state, readiness, lines, gauges } = world();
    await readiness.probeNow();
    readiness.started();
    expect(await gauges()).toEqual({ ready: 1, kafka: 1, mongodb: 1 });

    state.mongodb = false;
    await vi.waitFor(() => expect(readiness.report().ready).toBe(false));
    expect(readiness.report().failing).toEqual(['mongodb']);
    expect(readiness.report().checks.find((check) => check.name === 'mongodb')).toEqual({
      name: 'mongodb',
      ok: false,
      detail: 'MongoDB of mongodb.uri did not answer ping: connection refused',
      checkedAt: NOW.toISOString(),
    });
    expect(await gauges()).toEqual({ ready: 0, kafka: 1, mongodb: 0 });
    // Several more probes fail; the change is logged only once.
    const probedWhenDown = state.mongodbProbes;
    await vi.waitFor(() => expect(state.mongodbProbes).toBeGreaterThanOrEqual(probedWhenDown + 3));
    expect(readiness.report().ready).toBe(false);

    state.mongodb = true;
    await vi.waitFor(() => expect(readiness.report().ready).toBe(true));
    expect(await gauges()).toEqual({ ready: 1, kafka: 1, mongodb: 1 });
    readiness.stop();
    expect(lines).toEqual([
      ['warn', 'Dependency unreachable; not ready', 'mongodb'],
      ['info', 'Dependency reachable again', 'mongodb'],
    ]);
  });

  it('counts a probe that does not answer in time as down, naming the time-out', async () => {
    const readiness = createReadiness({
      dependencies: [{ dependency: 'schema_registry', probe: () => new Promise(() => {}) }],
      checks: [],
      logger: pino({ level: 'silent' }),
      intervalMs: 1_000,
      timeoutMs: 20,
      now: () => NOW,
    });
    await readiness.probeNow();
    expect(readiness.report().checks[1]).toEqual({
      name: 'schema_registry',
      ok: false,
      detail: 'schema_registry did not answer within 270 ms',
      checkedAt: NOW.toISOString(),
    });
    readiness.stop();
  });

  it('names a consumer without its assignment as failing', async () => {
    const { state, readiness } = world();
    await readiness.probeNow();
    readiness.started();
    state.consumer = { ok: false, detail: 'group g: rebalancing' };
    expect(readiness.report()).toMatchObject({
      ready: false,
      failing: ['sink_consumer'],
      checks: expect.arrayContaining([{ name: 'sink_consumer', ok: false, detail: 'group g: rebalancing' }]),
    });
    readiness.stop();
  });

  it('is not ready once stopping, and stops probing', async () => {
    vi.useFakeTimers();
    try {
      let probes = 0;
      const readiness = createReadiness({
        dependencies: [
          {
            dependency: 'kafka',
            probe: async () => {
              probes += 1;
            },
          },
        ],
        checks: [],
        logger: pino({ level: 'silent' }),
        intervalMs: 5,
      });
      await readiness.probeNow();
      readiness.started();
      expect(readiness.report().ready).toBe(true);
      // While running it probes every interval, so the check below would see probes if stopping left the timer on.
      const running = probes;
      await vi.advanceTimersByTimeAsync(20);
      expect(probes).toBe(running + 4);

      readiness.stop();
      await vi.advanceTimersByTimeAsync(1_000);

      expect(probes).toBe(running + 4);
      expect(vi.getTimerCount()).toBe(0);
      expect(readiness.report()).toMatchObject({
        ready: false,
        failing: ['pipeline'],
        checks: [{ name: 'pipeline', ok: false, detail: 'stopping' }, expect.anything()],
      });
    } finally {
      vi.useRealTimers();
    }
  });
});
