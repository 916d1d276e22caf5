import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { METRIC } from '../../core/observability/metrics.js';
import { parseMetricsText, sampleValue } from '../../core/observability/metrics-testing.js';
import { SAMPLE_ERP_TABLE_DEFINITIONS } from '../../devtools/erp/sample-erp.js';
import { validateFixture } from '../../devtools/fixtures/fixture-file.js';
import { createFixtureProducer } from '../../devtools/fixtures/producer.js';
import { endCheck, expectClean, waitPipelineDone } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 4: the schema registry stops answering mid-stream while records arrive framed with a schema id the
// transform has not cached: the ERP added a nullable column to InventoryBalance, so Debezium registered a new value
// schema. The registry is frozen (it accepts connections and never answers: the local Apicurio keeps its schemas in
// memory, so a restarted one would have lost the id for good). The transform must pause the partition (its lookup
// times out, a transient failure), dead-letter nothing, and resume once the registry answers again.

const INVENTORY = 'dbo.InventoryBalance';
const STALLED_MS = 25_000;

describe('scenario 4: the registry stalled with a new, uncached schema id', () => {
  const s = fixtureScenario();

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('pauses, dead-letters nothing, and resumes: same read models, every event once', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(4100, 4, 2), ...s.erp.stockMoves(300)]);
    const transform = s.worker('transform', 'transform');
    const sink = s.worker('sink', 'sink');
    await Promise.all([transform.ready(), sink.ready()]);
    await waitPipelineDone(s.kafka, s.config);
    const topic = sourceTopic(s.config.source, INVENTORY);
    const paused = async () =>
      sampleValue(
        parseMetricsText(await (await fetch(`${await transform.opsUrl()}/metrics`)).text()),
        METRIC.pausedPartitions,
        {
          group: s.config.transform.groupId,
          topic,
          partition: '0',
        },
      );

    // The ERP's DDL change reaches Kafka while the transform is busy elsewhere (frozen for the moment), so that the
    // new schema id is in no cache of the pipeline when the registry stops.
    transform.freeze();
    let newId: number;
    let stalled: { at: Date } | undefined;
    try {
      newId = await produceWithNewColumn(s);
      stalled = s.stack.freeze('schema-registry');
    } finally {
      transform.thaw();
    }
    let pausedAt: Date | undefined;
    try {
      await waitUntil(
        async () => {
          if ((await paused()) !== 1) return false;
          pausedAt = new Date();
          return true;
        },
        `the transform to pause ${topic}[0] on schema id ${newId}`,
        60_000,
        250,
      );
      await sleep(Math.max(0, STALLED_MS - (Date.now() - stalled.at.getTime())));
      expect(await paused(), 'still paused while the registry does not answer').toBe(1);
    } finally {
      s.stack.thaw('schema-registry');
    }
    await waitUntil(async () => (await paused()) === 0, `the transform to resume ${topic}[0]`, 120_000, 250);

    const result = await endCheck({
      report: {
        name: '4 registry stalled with an uncached schema id',
        fault: `the schema registry frozen (SIGSTOP) for ${STALLED_MS / 1000} s`,
        landed:
          `${stalled.at.toISOString()}: records with new schema id ${newId} waiting, uncached; ` +
          `${topic.split('.').slice(-2).join('.')}[0] paused at ${pausedAt!.toISOString()}, resumed after the thaw`,
      },
      config: s.config,
      erp: s.erp,
      running: [transform, sink],
    });
    expectClean(result);
  });
});

/**
 * Stock moves after the ERP added a nullable column (`BinCode`) to InventoryBalance, written as Debezium writes them
 * (a new value schema version registered first); resolves with the new schema's id.
 */
async function produceWithNewColumn(s: ReturnType<typeof fixtureScenario>): Promise<number> {
  const tables = SAMPLE_ERP_TABLE_DEFINITIONS.map((table) =>
    table.table === 'InventoryBalance'
      ? { ...table, columns: [...table.columns, { name: 'BinCode', type: 'nvarchar(20)', nullable: true }] }
      : table,
  );
  const moves = s.erp.stockMoves(200).map((change) => ({
    ...change,
    before: { ...(change['before'] as object), BinCode: null },
    after: { ...(change['after'] as object), BinCode: 'A-01' },
  }));
  const source = s.erp.fixture(moves, 'stock moves with a new column') as { name: string; raw: unknown };
  const fixture = validateFixture(source.raw, source.name, { server: s.config.source.topicPrefix, tables });
  const producer = createFixtureProducer({ brokers: s.config.kafka.brokers, registryUrl: s.config.schemaRegistry.url });
  try {
    await producer.produce(fixture);
  } finally {
    await producer.disconnect();
  }
  const subject = `${sourceTopic(s.config.source, INVENTORY)}-value`;
  const latest = (await (await fetch(`${s.config.schemaRegistry.url}/subjects/${subject}/versions/latest`)).json()) as {
    id: number;
    version: number;
  };
  expect(latest.version).toBe(2);
  return latest.id;
}
