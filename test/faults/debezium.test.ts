import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { createConfluentDecoder } from '../../connectors/avro/confluent-decoder.js';
import { createEnvelopeReader } from '../../connectors/debezium/envelope.js';
import { createSourceDecoder } from '../../connectors/debezium/source-decoder.js';
import { waitForStreaming } from '../integration/debezium-stack.js';
import { groupProgress } from '../integration/pipeline-harness.js';
import { debeziumScenario, startDebeziumServices, stopDebeziumServices } from './harness/debezium.js';
import { expectClean, readDeadLetters, readRaw, waitPipelineDone, waitTransformDone } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { LEVEL } from './harness/workers.js';
import { snapshotTable } from '../../cli/connectors-command.js';

// The scenarios on real Debezium: PostgreSQL → Debezium in Kafka Connect → cdc-sync run → MongoDB-wire, each ending
// with the shared check plus `cdc-sync reconcile` against the ERP tables themselves.

type Capture = ReturnType<typeof debeziumScenario>;

/** Source records of the capture that Debezium wrote more than once (same table, same source position). */
async function redelivered(c: Capture): Promise<number> {
  const decode = createSourceDecoder(
    createConfluentDecoder({ registryUrl: c.config.schemaRegistry.url }),
    createEnvelopeReader({
      connector: 'postgresql',
      topicPrefix: c.config.source.topicPrefix,
      database: c.config.source.database,
    }),
  );
  let repeats = 0;
  for (const table of c.config.source.tables) {
    const topic = sourceTopic(c.config.source, table);
    const seen = new Set<string>();
    for (const record of await readRaw(c.kafka, topic)) {
      const decoded = await decode({ ...record, topic, timestamp: '0' });
      if (decoded.kind !== 'change') continue;
      const at = `${decoded.event.position}/${JSON.stringify(decoded.event.key)}`;
      if (seen.has(at)) repeats += 1;
      seen.add(at);
    }
  }
  return repeats;
}

/** Where the replication slot stands against the WAL: bytes written but not yet confirmed by the connector. */
async function unconfirmedWal(c: Capture): Promise<number> {
  const [row] = await c.sql(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS behind FROM pg_replication_slots WHERE slot_name = $1',
    [c.config.connector.slotName],
  );
  return Number(row?.['behind'] ?? 0);
}

/** Random stock moves on the seeded balances, one transaction each, about every 10 ms, until `stop()` says so. */
function streamStockMoves(c: Capture) {
  let running = true;
  let count = 0;
  const done = (async () => {
    const balances = await c.sql('SELECT sku, location_code FROM public.inventory_balance ORDER BY 1, 2');
    while (running) {
      const row = balances[Math.floor(Math.random() * balances.length)]!;
      await c.sql(
        'UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + $1 WHERE sku = $2 AND location_code = $3',
        [(1 + Math.floor(Math.random() * 9)).toString(), row['sku'], row['location_code']],
      );
      count += 1;
      await sleep(10);
    }
  })();
  return {
    count: () => count,
    async stop(): Promise<number> {
      running = false;
      await done;
      return count;
    },
  };
}

describe('the Debezium scenarios (PostgreSQL and Kafka Connect)', () => {
  beforeAll(() => startDebeziumServices());
  afterAll(() => stopDebeziumServices());

  describe('scenario 6: the Kafka Connect worker killed mid-stream, then restarted', () => {
    const c = debeziumScenario('faults_connect');

    afterAll(async () => {
      await c.stack.heal(['kafka-connect']);
      await c.dispose();
    });

    it('re-delivered changes leave the read models as the ERP says: reconcile finds no drift', async () => {
      await c.start();
      const workers = [c.worker('transform', 'transform'), c.worker('sink', 'sink')];
      await Promise.all(workers.map((worker) => worker.ready()));
      await waitPipelineDone(c.kafka, c.config);

      // The kill lands while Debezium streams: its topic grew by hundreds of records since the traffic began.
      const topic = sourceTopic(c.config.source, 'public.inventory_balance');
      const written = async () =>
        Number((await groupProgress(c.kafka, c.config.transform.groupId, [topic])).ends[`${topic}[0]`]);
      const before = await written();
      const moves = streamStockMoves(c);
      await waitUntil(async () => (await written()) - before > 300, 'Debezium to stream the ERP traffic', 60_000, 250);
      const streamed = (await written()) - before;
      const behind = await unconfirmedWal(c);
      const killed = await c.stack.kill('kafka-connect');
      const movedAtKill = moves.count();
      await sleep(10_000);
      await c.stack.restart('kafka-connect');
      await waitForStreaming(c.connectUrl, c.config.connector.name, c.database(), c.config.connector.slotName);
      await sleep(5_000);
      const total = await moves.stop();
      await waitTransformDone(c.kafka, c.config);
      // Debezium re-delivers what it sent after its last committed offset: at-least-once, as documented.
      const repeats = await redelivered(c);
      expect(repeats, 'changes Debezium wrote twice after the restart').toBeGreaterThan(0);

      const result = await c.endCheck(
        {
          name: '6 Kafka Connect killed mid-stream',
          fault: 'SIGKILL of the Connect worker, down 10 s, restarted',
          landed:
            `${killed.at.toISOString()}: ${movedAtKill} of ${total} ERP updates made, ${streamed} streamed, the slot ` +
            `${behind} WAL bytes unconfirmed; Debezium re-delivered ${repeats} changes after the restart`,
        },
        workers,
      );
      expectClean(result);
    });
  });

  describe('scenario 15: a delete and re-insert of one key; a primary-key change on an order and on a balance', () => {
    const c = debeziumScenario('faults_keys');

    afterAll(() => c.dispose());

    it('projects each as the ERP has it: reconcile finds no drift', async () => {
      await c.start();
      const workers = [c.worker('transform', 'transform'), c.worker('sink', 'sink')];
      await Promise.all(workers.map((worker) => worker.ready()));
      await c.sql(`
        INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code, order_total, placed_at, row_guid)
          VALUES ('SO-KEY-1', 'CUST-1', 'a@example.com', 'WEB', 'NW', 'EUR', 10.00, '2025-11-27T09:00:00+01:00', '3f2504e0-4f89-41d3-9a0c-0305e82c5001'),
                 ('SO-KEY-2', 'CUST-2', 'b@example.com', 'WEB', 'NW', 'EUR', 20.00, '2025-11-27T09:00:00+01:00', '3f2504e0-4f89-41d3-9a0c-0305e82c5002');
        UPDATE public.sales_order_header SET status_code = 'AC' WHERE order_number = 'SO-KEY-2';
      `);
      await waitPipelineDone(c.kafka, c.config);
      // A delete and a re-insert of one balance, each its own transaction, then one of one order in a single one.
      await c.sql(`DELETE FROM public.inventory_balance WHERE sku = 'MUG-STONE-350' AND location_code = 'ST-AIRPORT'`);
      await c.sql(`
        INSERT INTO public.inventory_balance (sku, location_code, qty_on_hand, qty_allocated, safety_stock)
          VALUES ('MUG-STONE-350', 'ST-AIRPORT', 77.000, 1.000, 12.000)`);
      await c.sql(`
        BEGIN;
        DELETE FROM public.sales_order_header WHERE order_number = 'SO-KEY-1';
        INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code, order_total, placed_at, row_guid)
          VALUES ('SO-KEY-1', 'CUST-1', 'a@example.com', 'WEB', 'AC', 'EUR', 11.00, '2025-11-27T10:00:00+01:00', '3f2504e0-4f89-41d3-9a0c-0305e82c5003');
        COMMIT;`);
      // Primary-key changes: Debezium writes a delete of the old key (and its tombstone) and a create of the new one.
      await c.sql(
        `UPDATE public.inventory_balance SET location_code = 'ST-AIRPORT' WHERE sku = 'HOODIE-GRY-L' AND location_code = 'ST-DOWNTOWN'`,
      );
      await c.sql(`UPDATE public.sales_order_header SET order_number = 'SO-KEY-3' WHERE order_number = 'SO-KEY-2'`);
      const changedAt = new Date();

      const result = await c.endCheck(
        {
          name: '15 delete and re-insert, primary-key changes',
          fault:
            'a balance deleted and re-inserted, an order deleted and re-inserted in one transaction, a key change on a balance and on an order',
          landed: `${changedAt.toISOString()}: MUG-STONE-350@ST-AIRPORT, SO-KEY-1, HOODIE-GRY-L@ST-DOWNTOWN→ST-AIRPORT, SO-KEY-2→SO-KEY-3`,
        },
        workers,
      );
      expectClean(result);
    });
  });

  describe('scenario 11: schema evolution mid-stream on PostgreSQL', () => {
    const c = debeziumScenario('faults_ddl');

    afterAll(() => c.dispose());

    it('follows added, dropped and widened columns with no dead letter; a dropped column a stage reads dead-letters', async () => {
      await c.start();
      await c.sql(`
        INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code, order_total, placed_at)
          VALUES ('SO-DDL-1', 'CUST-1', 'a@example.com', 'WEB', 'NW', 'EUR', 10.00, '2025-11-27T09:00:00+01:00')`);
      const workers = [c.worker('transform', 'transform'), c.worker('sink', 'sink')];
      await Promise.all(workers.map((worker) => worker.ready()));
      const moves = streamStockMoves(c);
      try {
        await waitUntil(() => moves.count() > 50, 'the ERP traffic to flow', 60_000, 100);
        for (const ddl of EVOLUTION) {
          await c.sql(ddl);
          const from = moves.count();
          await waitUntil(() => moves.count() > from + 50, `ERP traffic after ${ddl}`, 60_000, 100);
        }
        await c.sql(
          `UPDATE public.inventory_balance SET bin_note = 'B-7', reorder_point = 12 WHERE sku = 'ROPE-DYN-10MM'`,
        );
      } finally {
        await moves.stop();
      }
      const subject = `${sourceTopic(c.config.source, 'public.inventory_balance')}-value`;
      const versions = (await (
        await fetch(`${c.config.schemaRegistry.url}/subjects/${subject}/versions`)
      ).json()) as number[];

      const result = await c.endCheck(
        {
          name: '11 schema evolution on PostgreSQL',
          fault: EVOLUTION.map((ddl) => ddl.replace(/^ALTER TABLE public\.inventory_balance /, '')).join('; '),
          landed: `mid-stream, between ERP updates; ${subject} went through ${versions.length} schema versions`,
        },
        workers,
      );
      expectClean(result);
      // Each change of the row's shape is a new version (widening a numeric keeps the Avro schema as it is).
      expect(versions.length, 'schema versions').toBeGreaterThanOrEqual(EVOLUTION.length);

      // A change that breaks the stage's contract: the column the available quantity needs is gone.
      await c.sql('ALTER TABLE public.inventory_balance DROP COLUMN safety_stock');
      await c.sql(`UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + 1 WHERE sku = 'MUG-STONE-350'`);
      const letters = async () => readDeadLetters(c.kafka, c.config.topics.deadLetter);
      await waitUntil(async () => (await letters()).length === 2, 'the two changes to be dead-lettered', 120_000, 500);
      // One UPDATE of two rows: two changes, dead-lettered in whichever order the stage met them.
      expect(
        (await letters())
          .map(({ stage, errorClass, errorMessage }) => ({ stage, errorClass, errorMessage }))
          .sort((a, b) => a.errorMessage.localeCompare(b.errorMessage)),
      ).toEqual(
        ['ST-AIRPORT', 'WH-EAST'].map((location) => ({
          stage: 'stock_level',
          errorClass: 'TransformError',
          errorMessage: expect.stringMatching(
            new RegExp(`^Missing column SafetyStock in .*"Sku":"MUG-STONE-350","LocationCode":"${location}"`),
          ),
        })),
      );
      // No crash loop: the same workers run, and other tables keep flowing.
      const orders = new MongoClient(c.config.mongodb.uri);
      try {
        const view = orders.db(c.config.mongodb.database).collection('order_view');
        const before = (await view.findOne({ _id: 'SO-DDL-1' as never }))?.['status'];
        await c.sql(`UPDATE public.sales_order_header SET status_code = 'AC' WHERE order_number = 'SO-DDL-1'`);
        await waitUntil(
          async () => (await view.findOne({ _id: 'SO-DDL-1' as never }))?.['status'] !== before,
          'the order change to reach order_view',
          120_000,
          500,
        );
      } finally {
        await orders.close();
      }
      expect(workers.map((worker) => worker.running())).toEqual([true, true]);
      expect(workers.flatMap((worker) => worker.lines().filter((line) => line.level >= LEVEL.error))).toEqual([]);
    });
  });

  describe('scenario 14: an incremental snapshot while the same rows are updated', () => {
    const c = debeziumScenario('faults_snapshot');

    afterAll(() => c.dispose());

    it('ends as the ERP has it: snapshot reads never overwrite newer streamed changes', async () => {
      // Small chunks, so that the snapshot reads come out chunk by chunk between streamed changes.
      await c.start({ 'incremental.snapshot.chunk.size': String(CHUNK) });
      await c.sql(`
        INSERT INTO public.item (item_id, sku, list_price) SELECT 9000 + n, 'BULK-' || n, 1.00 FROM generate_series(1, ${BULK_ROWS}) AS n;
        INSERT INTO public.inventory_balance (sku, location_code, qty_on_hand) SELECT 'BULK-' || n, 'WH-EAST', n FROM generate_series(1, ${BULK_ROWS}) AS n;`);
      const workers = [c.worker('transform', 'transform'), c.worker('sink', 'sink')];
      await Promise.all(workers.map((worker) => worker.ready()));
      const moves = streamStockMoves(c);
      let signalled: Date;
      try {
        await waitUntil(() => moves.count() > 100, 'the ERP traffic to flow', 60_000, 100);
        await snapshotTable(c.config, 'public.inventory_balance', { env: c.env, write: () => undefined });
        signalled = new Date();
        const topic = sourceTopic(c.config.source, 'public.inventory_balance');
        // Done when no read came for a while: rows updated during their chunk's window are not read (Debezium drops them).
        let reads = 0;
        let quietSince = Date.now();
        await waitUntil(
          async () => {
            const now = (await snapshotReads(c, topic)).incremental;
            if (now !== reads) [reads, quietSince] = [now, Date.now()];
            return reads > 0 && Date.now() - quietSince > 10_000;
          },
          'the incremental snapshot to read the table',
          180_000,
          1_000,
        );
        const from = moves.count();
        await waitUntil(() => moves.count() > from + 100, 'ERP traffic after the snapshot', 60_000, 100);
      } finally {
        await moves.stop();
      }
      await waitTransformDone(c.kafka, c.config);
      const reads = await snapshotReads(c, sourceTopic(c.config.source, 'public.inventory_balance'));
      expect(reads.interleaved, 'streamed updates between the first and the last snapshot read').toBeGreaterThan(0);

      const result = await c.endCheck(
        {
          name: '14 incremental snapshot while updating',
          fault: 'cdc-sync connectors snapshot public.inventory_balance during a stream of updates of the same rows',
          landed: `${signalled!.toISOString()}: ${reads.incremental} snapshot reads, ${reads.interleaved} streamed updates between the first and the last`,
        },
        workers,
      );
      expectClean(result);
    });
  });
});

/** Scenario 14: balances added for the snapshot to read in many chunks of this size. */
const BULK_ROWS = 300;
const CHUNK = 25;

/** The DDL of scenario 11, in order, each followed by ERP traffic. */
const EVOLUTION = [
  'ALTER TABLE public.inventory_balance ADD COLUMN bin_note varchar(20) NULL',
  'ALTER TABLE public.inventory_balance ADD COLUMN reorder_point numeric(18,3) NOT NULL DEFAULT 5',
  'ALTER TABLE public.inventory_balance DROP COLUMN last_counted_at',
  'ALTER TABLE public.inventory_balance ALTER COLUMN qty_on_hand TYPE numeric(20,3)',
] as const;

/** The incremental snapshot's reads on a source topic, and the streamed changes between its first and last read. */
async function snapshotReads(c: Capture, topic: string): Promise<{ incremental: number; interleaved: number }> {
  const decoder = createConfluentDecoder({ registryUrl: c.config.schemaRegistry.url });
  const kinds: ('incremental' | 'streamed' | 'other')[] = [];
  for (const record of await readRaw(c.kafka, topic)) {
    if (record.value === null) continue;
    const { value } = await decoder.decode(record.value, { topic, partition: record.partition, offset: record.offset });
    const envelope = value as { op?: string; source?: { snapshot?: string } };
    kinds.push(
      envelope.op === 'r' && envelope.source?.snapshot === 'incremental'
        ? 'incremental'
        : envelope.op === 'u'
          ? 'streamed'
          : 'other',
    );
  }
  const first = kinds.indexOf('incremental');
  const last = kinds.lastIndexOf('incremental');
  return {
    incremental: kinds.filter((kind) => kind === 'incremental').length,
    interleaved: first < 0 ? 0 : kinds.slice(first, last).filter((kind) => kind === 'streamed').length,
  };
}
