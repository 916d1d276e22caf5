import { describe, expect, it } from 'vitest';
import { parseCpuSeconds, parseStatusMb } from './proc.js';
import {
  type BenchReport,
  checkTargets,
  computeRatios,
  formatReport,
  type Measurement,
  missingFigures,
  RESULT_NAMES,
  type ResultName,
} from './report.js';

function row(eventsPerS: number, cpuSPer1M: number, peakRssMB = 150): Measurement {
  return {
    eventsPerS,
    cpuSPer1M,
    peakRssMB,
    seconds: 20_000 / eventsPerS,
    events: 20_000,
    serverCpuSPer1M: { kafka: 10, schemaRegistry: 1, mongoWire: 50 },
  };
}

const results: Record<ResultName, Measurement> = {
  cdcSync: row(3_000, 200),
  cdcSyncTransform: row(9_000, 120),
  cdcSyncSink: row(4_000, 80),
  mongoKafkaConnector: row(1_000, 300, 600),
  rawConsumeDecode: row(60_000, 20),
  rawBulkWrite: row(5_000, 10),
};

function report(overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    machine: { cpus: 2, date: '2026-01-01T00:00:00.000Z', commit: 'abc1234' },
    workload: { events: 20_000, partitions: 3 },
    results,
    freshness: {
      p50Ms: 80,
      p99Ms: 240,
      rateEventsPerS: 1_500,
      seconds: 30,
      samples: 400,
      unresolved: 0,
      pollIntervalMs: 25,
    },
    scaleOut: [1, 2, 3].map((workersPerRole) => ({
      workersPerRole,
      partitions: 3,
      eventsPerS: 2_000 * workersPerRole,
      cpuSPer1M: 250,
      peakRssMB: 180,
      seconds: 5,
    })),
    ratios: computeRatios(results),
    ...overrides,
  };
}

describe('the JSON report', () => {
  it("has exactly issue #10's top-level keys and result rows, each with its three figures", () => {
    const json = JSON.parse(JSON.stringify(report())) as Record<string, Record<string, unknown>>;
    expect(Object.keys(json)).toEqual(['machine', 'workload', 'results', 'freshness', 'scaleOut', 'ratios']);
    expect(Object.keys(json['results']!)).toEqual([...RESULT_NAMES]);
    for (const name of RESULT_NAMES) {
      expect(json['results']![name]).toMatchObject({
        eventsPerS: expect.any(Number),
        cpuSPer1M: expect.any(Number),
        peakRssMB: expect.any(Number),
      });
    }
    expect(json['freshness']).toMatchObject({
      p50Ms: expect.any(Number),
      p99Ms: expect.any(Number),
      rateEventsPerS: expect.any(Number),
    });
    expect(json['ratios']).toMatchObject({ cdcSyncVsConnector: 3, cdcSyncVsBound: 0.6 });
  });

  it('computes the ratios against the slower bound and the bare decode', () => {
    expect(computeRatios(results)).toEqual({ cdcSyncVsConnector: 3, cdcSyncVsBound: 0.6, transformCpuVsDecode: 6 });
  });

  it('leaves a ratio null when a row it needs could not be measured', () => {
    const failed = { ...results, mongoKafkaConnector: { ...row(1, 1), eventsPerS: null, error: 'no plugin' } };
    expect(computeRatios(failed).cdcSyncVsConnector).toBeNull();
  });

  it('lists no missing figure for a complete report', () => {
    expect(missingFigures(report())).toEqual([]);
  });

  it('names every missing figure by its path', () => {
    const broken = report({
      results: { ...results, mongoKafkaConnector: { ...row(1, 1), eventsPerS: null, error: 'failed' } },
      freshness: { ...report().freshness, p99Ms: null },
      scaleOut: [],
    });
    expect(missingFigures({ ...broken, ratios: computeRatios(broken.results) })).toEqual([
      'results.mongoKafkaConnector.eventsPerS',
      'results.mongoKafkaConnector.error',
      'freshness.p99Ms',
      'scaleOut',
      'ratios.cdcSyncVsConnector',
    ]);
  });
});

describe('the targets', () => {
  it('says which of issue #10 targets the run meets', () => {
    expect(checkTargets(report()).map(({ target, met }) => [target, met])).toEqual([
      ['end to end ≥ 2× the MongoDB Kafka connector', true],
      ['end to end ≥ 50% of min(consume+decode, bulk write)', true],
      ['transform CPU ≤ 3× bare consume+decode per event', false],
      ['p99 freshness ≤ 250 ms at half load', true],
      ['RSS ≤ 300 MB per worker', true],
    ]);
  });

  it('prints the tables with every row and the targets', () => {
    const text = formatReport(report());
    expect(text).toContain('cdc-sync run --role transform');
    expect(text).toContain('MongoDB Kafka sink connector (RdbmsHandler)');
    expect(text).toMatch(/p50 80 ms, p99 240 ms/);
    expect(text).toMatch(/transform CPU ≤ 3× bare consume\+decode per event\s+6×\s+no/);
  });
});

describe('/proc parsing', () => {
  it('reads user plus system time after a command name with spaces and parentheses', () => {
    const stat = '4242 (node (worker) 1) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 566 0 0 20 0 11 0 100 0 0';
    expect(parseCpuSeconds(stat, 100)).toBe(18);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseCpuSeconds('nothing here', 100)).toThrow(RangeError);
  });

  it('reads the peak resident set in MB', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    expect(parseStatusMb(status, 'VmHWM')).toBe(200);
    expect(parseStatusMb(status, 'VmRSS')).toBe(100);
    expect(parseStatusMb('Name:\tkthreadd\n', 'VmHWM')).toBeUndefined();
  });
});
