import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrderStatus } from '../../core/canonical.js';
import { createStalledCommand } from '../../cli/stalled-command.js';
import { type StalledReport } from '../../ops/read-side/stalled-report.js';
import { type SourceStamp } from '../../sinks/mongo/guard.js';
import {
  type MilestoneEntry,
  type OrderRefundEntry,
  type OrderReturnEntry,
  type OrderViewDocument,
} from '../../sinks/mongo/order-view.js';
import { findStalledOrders, type StalledOrder } from '../../ops/read-side/stalled-orders.js';
import { writeConfigFile } from './config-file.js';
import { isolatedPipelineConfig } from './pipeline-harness.js';
import { dec } from '../../sinks/testing.js';

// `findStalledOrders` and `cdc-sync stalled` against a crafted order view on the real MongoDB-wire server.

const SECOND = 1000;
const HOUR = 3_600_000;
const NOW = '2025-12-10T12:00:00.000Z';
const nowMs = Date.parse(NOW);
const config = isolatedPipelineConfig({
  stalled: { awaitingPayment: '24h', awaitingShipment: '48h', awaitingRefund: '72h' },
});
const thresholds = config.stalled;
const mongo = new MongoClient(config.mongodb.uri);
let db: Db;

/** `ms` before NOW as the ERP writes a DATETIMEOFFSET(7) at +01:00. */
function ago(ms: number): string {
  return `${new Date(nowMs - ms + HOUR).toISOString().replace('Z', '')}0000+01:00`;
}

const source = {
  version: 'v',
  position: 'p',
  eventId: 'e',
  committedAt: 0,
  correlationId: 'c',
} as unknown as SourceStamp;
const milestone = (at: string, ref: string | null = null): MilestoneEntry => ({
  at,
  time: new Date(Date.parse(at)),
  ref,
  source,
});

/** An order view document as the sink writes it, with only the parts a case needs. */
function view(
  orderNumber: string,
  parts: {
    status?: OrderStatus | null;
    deleted?: boolean;
    milestones?: OrderViewDocument['milestones'];
    returns?: Record<string, string>;
    refunds?: Record<string, [rmaNumber: string | null, completedAt: string]>;
  },
): OrderViewDocument {
  const returns = Object.fromEntries(
    Object.entries(parts.returns ?? {}).map(([rma, at]) => [
      rma,
      { rmaNumber: rma, reason: null, receivedAt: at, source } satisfies OrderReturnEntry,
    ]),
  );
  const refunds = Object.fromEntries(
    Object.entries(parts.refunds ?? {}).map(([id, [rma, at]]) => [
      id,
      {
        refundId: id,
        rmaNumber: rma,
        amount: dec('5.0000'),
        currency: 'EUR',
        completedAt: at,
        source,
      } satisfies OrderRefundEntry,
    ]),
  );
  return {
    _id: orderNumber,
    orderNumber,
    customerId: parts.status === null ? null : 'CUST-1',
    status: parts.status === undefined ? 'ACCEPTED' : parts.status,
    deleted: parts.deleted ?? false,
    trackingNumbers: [],
    header: null,
    statusInfo: null,
    deletion: null,
    lines: {},
    payments: {},
    shipments: {},
    returns,
    refunds,
    milestones: parts.milestones ?? {},
  };
}

const accepted = (ms: number) => ({ accepted: milestone(ago(ms)) });
const paid = (ms: number, ref: string) => ({ paymentCaptured: milestone(ago(ms), ref) });
const shipped = (ms: number) => ({ shipped: milestone(ago(ms), 'SHP-1') });

const DOCUMENTS: OrderViewDocument[] = [
  view('SO-PAY-OVER', { milestones: accepted(24 * HOUR + SECOND) }),
  view('SO-PAY-UNDER', { milestones: accepted(24 * HOUR - SECOND) }),
  // 11:00Z on Dec 9 (25 h), though as a string it sorts after NOW's date written at +01:00.
  view('SO-PAY-TOKYO', { status: 'PENDING', milestones: { accepted: milestone('2025-12-09T20:00:00.0000000+09:00') } }),
  // 17:00Z on Dec 9 (19 h), though as a string it sorts before.
  view('SO-PAY-NEWYORK', { milestones: { accepted: milestone('2025-12-09T12:00:00.0000000-05:00') } }),
  view('SO-SHIP-OVER', {
    status: 'PICKING',
    milestones: { ...accepted(100 * HOUR), ...paid(48 * HOUR + SECOND, 'PAY-31') },
  }),
  view('SO-SHIP-UNDER', {
    status: 'PICKING',
    milestones: { ...accepted(100 * HOUR), ...paid(48 * HOUR - SECOND, 'PAY-32') },
  }),
  // The payment arrived before the header: no status yet, still waiting for shipment.
  view('SO-PAID-EARLY', { status: null, milestones: paid(60 * HOUR, 'PAY-33') }),
  view('SO-RETURNS', {
    status: 'SHIPPED',
    milestones: {
      ...accepted(500 * HOUR),
      ...paid(499 * HOUR, 'PAY-34'),
      ...shipped(498 * HOUR),
      returnReceived: milestone(ago(300 * HOUR), 'RMA-1'),
      refunded: milestone(ago(290 * HOUR), 'RF-1'),
    },
    returns: { 'RMA-1': ago(300 * HOUR), 'RMA-2': ago(72 * HOUR + SECOND), 'RMA-3': ago(72 * HOUR - SECOND) },
    refunds: { 'RF-1': ['RMA-1', ago(290 * HOUR)] },
  }),
  view('SO-GOODWILL', {
    status: 'SHIPPED',
    milestones: { ...accepted(500 * HOUR), ...paid(499 * HOUR, 'PAY-35'), ...shipped(498 * HOUR) },
    returns: { 'RMA-5': ago(100 * HOUR) },
    refunds: { 'RF-5': [null, ago(90 * HOUR)] },
  }),
  view('SO-DONE', {
    status: 'SHIPPED',
    milestones: { ...accepted(500 * HOUR), ...paid(499 * HOUR, 'PAY-36'), ...shipped(498 * HOUR) },
  }),
  view('SO-CANCELLED', { status: 'CANCELLED', milestones: accepted(200 * HOUR) }),
  view('SO-CLOSED', { status: 'CLOSED', milestones: { ...accepted(300 * HOUR), ...paid(200 * HOUR, 'PAY-37') } }),
  view('SO-DELETED', { deleted: true, milestones: accepted(200 * HOUR) }),
  view('SO-EMPTY', {}),
];

function expected(orderNumber: string, state: StalledOrder['state'], since: string, ref: string | null): StalledOrder {
  return { orderNumber, state, since, ageMs: nowMs - Date.parse(since), thresholdMs: thresholds[state] as number, ref };
}

const EXPECTED: StalledOrder[] = [
  expected('SO-SHIP-OVER', 'awaitingShipment', ago(48 * HOUR + SECOND), 'PAY-31'),
  expected('SO-RETURNS', 'awaitingRefund', ago(72 * HOUR + SECOND), 'RMA-2'),
  expected('SO-PAID-EARLY', 'awaitingShipment', ago(60 * HOUR), 'PAY-33'),
  expected('SO-PAY-TOKYO', 'awaitingPayment', '2025-12-09T20:00:00.0000000+09:00', null),
  expected('SO-PAY-OVER', 'awaitingPayment', ago(24 * HOUR + SECOND), null),
].sort((a, b) => b.ageMs - a.ageMs);

/** A fixed permutation, so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('stalled orders in the order view', () => {
  beforeAll(async () => {
    await mongo.connect();
    db = mongo.db(config.mongodb.database);
    await db.collection<OrderViewDocument>('order_view').insertMany(shuffled(DOCUMENTS, 7), { ordered: true });
    await db.collection<OrderViewDocument>('order_view_reversed').insertMany([...DOCUMENTS].reverse());
  });

  afterAll(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  it('lists exactly the waits longer than their threshold, oldest first', async () => {
    expect(EXPECTED.map((row) => row.orderNumber)).toEqual([
      'SO-RETURNS',
      'SO-PAID-EARLY',
      'SO-SHIP-OVER',
      'SO-PAY-TOKYO',
      'SO-PAY-OVER',
    ]);
    const rows = await findStalledOrders(db, {
      collection: 'order_view',
      thresholds,
      now: new Date(NOW),
      batchSize: 3,
    });
    expect(rows).toEqual(EXPECTED);
  });

  it('gives the same rows whatever order the documents were written in', async () => {
    const rows = await findStalledOrders(db, { collection: 'order_view_reversed', thresholds, now: new Date(NOW) });
    expect(rows).toEqual(EXPECTED);
  });

  it('keeps only the oldest with a limit', async () => {
    const rows = await findStalledOrders(db, {
      collection: 'order_view',
      thresholds,
      now: new Date(NOW),
      limit: 2,
      batchSize: 2,
    });
    expect(rows).toEqual(EXPECTED.slice(0, 2));
  });

  it('moves orders in and out as time passes', async () => {
    // Two seconds later SO-PAY-UNDER and SO-SHIP-UNDER cross their thresholds; RMA-3 crosses too.
    const later = new Date(nowMs + 2 * SECOND);
    const rows = await findStalledOrders(db, { collection: 'order_view', thresholds, now: later });
    expect(rows.map((row) => `${row.orderNumber} ${row.state} ${row.ref}`)).toEqual([
      'SO-RETURNS awaitingRefund RMA-2',
      'SO-RETURNS awaitingRefund RMA-3',
      'SO-PAID-EARLY awaitingShipment PAY-33',
      'SO-SHIP-OVER awaitingShipment PAY-31',
      'SO-SHIP-UNDER awaitingShipment PAY-32',
      'SO-PAY-TOKYO awaitingPayment null',
      'SO-PAY-OVER awaitingPayment null',
      'SO-PAY-UNDER awaitingPayment null',
    ]);
  });

  describe('in a profile whose orders ship from a header status, without payments', () => {
    // AdventureWorks: no payments; header status 5 sets `shipped` at ShipDate, with no ref.
    const noPayments = isolatedPipelineConfig({
      stalled: { awaitingPayment: false, awaitingShipment: '48h', awaitingRefund: '72h' },
    }).stalled;
    const HEADER_SHIPS = [
      view('SO43659', {
        status: 'SHIPPED',
        milestones: { ...accepted(200 * HOUR), shipped: milestone(ago(190 * HOUR)) },
      }),
      view('SO43660', { milestones: accepted(48 * HOUR + SECOND) }),
      view('SO43661', { milestones: accepted(48 * HOUR - SECOND) }),
      view('SO43662', { status: 'CANCELLED', milestones: accepted(300 * HOUR) }),
    ];

    beforeAll(async () => {
      await db.collection<OrderViewDocument>('order_view_header_ships').insertMany(HEADER_SHIPS);
    });

    it('lists the orders accepted longer ago than the shipment threshold and never a shipped one', async () => {
      const rows = await findStalledOrders(db, {
        collection: 'order_view_header_ships',
        thresholds: noPayments,
        now: new Date(NOW),
      });
      expect(rows).toEqual([
        {
          orderNumber: 'SO43660',
          state: 'awaitingShipment',
          since: ago(48 * HOUR + SECOND),
          ageMs: 48 * HOUR + SECOND,
          thresholdMs: 48 * HOUR,
          ref: null,
        },
      ]);
    });

    it('does not report the order shipped by its status as awaiting payment under the default waits either', async () => {
      const rows = await findStalledOrders(db, {
        collection: 'order_view_header_ships',
        thresholds,
        now: new Date(NOW),
      });
      expect(rows.map((row) => `${row.orderNumber} ${row.state}`)).toEqual([
        'SO43660 awaitingPayment',
        'SO43661 awaitingPayment',
      ]);
    });

    it('says the payment wait is off in the report', async () => {
      const path = writeConfigFile({
        ...config,
        stalled: noPayments,
        sinks: { order_view: { collection: 'order_view_header_ships' } },
      });
      let output = '';
      await createStalledCommand({ stdout: (text) => (output += text), env: {} }).parseAsync(
        ['--config', path, '--now', NOW],
        { from: 'user' },
      );
      expect(output.split('\n').at(-2)).toBe(
        `1 stalled wait in order_view_header_ships as of ${NOW} (thresholds: awaitingPayment off, awaitingShipment 2d, awaitingRefund 3d)`,
      );
    });
  });

  describe('cdc-sync stalled', () => {
    async function run(args: string[], collection = 'order_view'): Promise<string> {
      const path = writeConfigFile({ ...config, sinks: { order_view: { collection } } });
      let output = '';
      await createStalledCommand({ stdout: (text) => (output += text), env: {} }).parseAsync(
        ['--config', path, ...args],
        { from: 'user' },
      );
      return output;
    }

    it('prints the report as JSON', async () => {
      const report = JSON.parse(await run(['--json', '--now', NOW])) as StalledReport;
      expect(report).toEqual({
        now: NOW,
        thresholdsMs: { awaitingPayment: 24 * HOUR, awaitingShipment: 48 * HOUR, awaitingRefund: 72 * HOUR },
        collection: 'order_view',
        stalled: EXPECTED,
      });
    });

    it('prints a table by default', async () => {
      expect(await run(['--now', NOW, '--limit', '2'])).toBe(
        [
          'ORDER          STATE             SINCE                              AGE     THRESHOLD  REF',
          `SO-RETURNS     awaitingRefund    ${ago(72 * HOUR + SECOND)}  3d 1s   3d         RMA-2`,
          `SO-PAID-EARLY  awaitingShipment  ${ago(60 * HOUR)}  2d 12h  2d         PAY-33`,
          '',
          `2 stalled waits in order_view as of ${NOW} (thresholds: awaitingPayment 1d, awaitingShipment 2d, awaitingRefund 3d)`,
          '',
        ].join('\n'),
      );
    });

    it('says so when nothing is stalled, and succeeds', async () => {
      const output = await run(['--now', NOW], 'order_view_empty');
      expect(output).toBe(
        `No stalled orders in order_view_empty as of ${NOW} (thresholds: awaitingPayment 1d, awaitingShipment 2d, awaitingRefund 3d)\n`,
      );
      expect(process.exitCode ?? 0).toBe(0);
    });

    it('rejects a time that is not ISO-8601, naming it', async () => {
      const command = createStalledCommand({ stdout: () => {}, env: {} })
        .exitOverride()
        .configureOutput({ writeErr: () => {} });
      await expect(command.parseAsync(['--now', 'yesterday'], { from: 'user' })).rejects.toThrow(
        'expected an ISO-8601 time such as 2025-12-01T08:00:00Z, got "yesterday"',
      );
    });
  });
});
