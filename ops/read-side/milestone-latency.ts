import { type Collection, type Filter } from 'mongodb';
import { type MilestoneName, type OrderViewDocument } from '../../sinks/mongo/order-view.js';
import { type StalledThresholds } from './stalled-orders.js';

/**
 * Order milestone latencies, computed from the `order_view` read model:
 * how long orders waited between two milestones of their timeline, by the
 * ERP's business timestamps (`milestones.<name>.at`), not by when the
 * pipeline saw the events. The metrics side turns them into the histogram
 * `cdc_sync_order_milestone_latency_seconds{from,to}`.
 */

/** One pair of milestones, measured `from` → `to`. */
export type MilestonePair = { readonly from: MilestoneName; readonly to: MilestoneName };

/**
 * The milestone pairs a profile measures: the waits its `stalled` section has (a wait set to `false` is not
 * measured). Payment waits from acceptance and shipment from the payment; without a payment wait, shipment waits
 * from acceptance (an ERP whose header status ships the order, with no payments). Refund waits from the return.
 */
export function milestonePairsOf(waits: StalledThresholds): MilestonePair[] {
  const pairs: MilestonePair[] = [];
  if (waits.awaitingPayment !== false) pairs.push({ from: 'accepted', to: 'paymentCaptured' });
  if (waits.awaitingShipment !== false) {
    pairs.push({ from: waits.awaitingPayment !== false ? 'paymentCaptured' : 'accepted', to: 'shipped' });
  }
  if (waits.awaitingRefund !== false) pairs.push({ from: 'returnReceived', to: 'refunded' });
  return pairs;
}

/** The pairs the sample ERP's profile measures (every wait on): see {@link milestonePairsOf}. */
export const MILESTONE_LATENCY_PAIRS: readonly MilestonePair[] = [
  { from: 'accepted', to: 'paymentCaptured' },
  { from: 'paymentCaptured', to: 'shipped' },
  { from: 'returnReceived', to: 'refunded' },
];

/** One order's wait between the two milestones of a pair. */
export type MilestoneLatency = MilestonePair & { readonly seconds: number };

/** How much of the collection one read may cost; see {@link createMilestoneLatencyReader}. */
export type MilestoneLatencyReaderOptions = {
  /** Most orders read per recomputation; more are left out (and the result says so). Default 100 000. */
  readonly maxDocuments?: number;
  /** Documents per cursor batch (round trip). Default 1 000. */
  readonly batchSize?: number;
  /**
   * Longest one recomputation may take, waiting for a server included (the driver's `timeoutMS`), so a scrape
   * while MongoDB is down fails fast instead of hanging. Default 5 s.
   */
  readonly timeoutMs?: number;
  /** A result younger than this is served again instead of re-reading the collection. Default 10 s. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** The pairs measured, the profile's ({@link milestonePairsOf}). Default {@link MILESTONE_LATENCY_PAIRS}. */
  readonly pairs?: readonly MilestonePair[];
};

/** The latencies of every order read, and whether `maxDocuments` cut the read short. */
export type MilestoneLatencyResult = {
  readonly latencies: readonly MilestoneLatency[];
  readonly orders: number;
  readonly truncated: boolean;
};

/**
 * Creates a reader that recomputes every order's milestone latencies from
 * `orders`. Each call returns the complete set, never a delta, so the caller
 * resets its histogram and observes them all: replays and rebuilds of the
 * read model can never count an order twice.
 *
 * Cost: one `find` over the orders that reached a `to` milestone
 * (`$or` of one `$exists` per `to`), projected onto their `at` strings
 * (about 150 bytes per order), in cursor batches of `batchSize`, at most
 * `maxDocuments` orders and `timeoutMs` in all. There is no index on
 * milestones, so it is a collection scan: 100 000 orders are roughly 15 MB
 * read and 100 round trips. Results are reused for `maxAgeMs`, so frequent
 * scrapes (Prometheus, the dashboard) cost one scan per `maxAgeMs` at most.
 * Rejects with the driver's error when MongoDB cannot be reached in time.
 */
export function createMilestoneLatencyReader(
  orders: Collection<OrderViewDocument>,
  options: MilestoneLatencyReaderOptions = {},
): () => Promise<MilestoneLatencyResult> {
  const maxDocuments = options.maxDocuments ?? 100_000;
  const batchSize = options.batchSize ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxAgeMs = options.maxAgeMs ?? 10_000;
  const now = options.now ?? Date.now;
  const pairs = options.pairs ?? MILESTONE_LATENCY_PAIRS;
  let cached: { at: number; result: Promise<MilestoneLatencyResult> } | undefined;

  const filter = {
    $or: [...new Set(pairs.map((pair) => pair.to))].map((name) => ({
      [`milestones.${name}`]: { $exists: true },
    })),
  } as Filter<OrderViewDocument>;
  const projection = Object.fromEntries([
    ['_id', 0],
    ...[...new Set(pairs.flatMap((pair) => [pair.from, pair.to]))].map((name) => [`milestones.${name}.at`, 1]),
  ]);

  async function read(): Promise<MilestoneLatencyResult> {
    // A profile with every wait off measures nothing; `$or` of nothing is no valid filter.
    if (pairs.length === 0) return { latencies: [], orders: 0, truncated: false };
    const cursor = orders.find(filter, { projection, batchSize, timeoutMS: timeoutMs }).limit(maxDocuments + 1);
    const latencies: MilestoneLatency[] = [];
    let count = 0;
    try {
      for await (const document of cursor) {
        if (++count > maxDocuments) break;
        latencies.push(...milestoneLatencies(document as Pick<OrderViewDocument, 'milestones'>, pairs));
      }
    } finally {
      await cursor.close();
    }
    return { latencies, orders: Math.min(count, maxDocuments), truncated: count > maxDocuments };
  }

  return () => {
    const at = now();
    if (cached === undefined || at - cached.at >= maxAgeMs) {
      const result = read();
      cached = { at, result };
      // A failed read is not reused: the next call tries again.
      result.catch(() => {
        if (cached?.result === result) cached = undefined;
      });
    }
    return cached.result;
  };
}

/**
 * The latencies of one order: one per pair whose two milestones both have a
 * parsable `at`. A `to` earlier than its `from` (a payment captured only at
 * shipment, say) counts as 0 s rather than a negative wait; a timestamp that
 * cannot be parsed leaves its pairs out.
 */
export function milestoneLatencies(
  order: Pick<OrderViewDocument, 'milestones'>,
  pairs: readonly MilestonePair[] = MILESTONE_LATENCY_PAIRS,
): MilestoneLatency[] {
  const latencies: MilestoneLatency[] = [];
  for (const pair of pairs) {
    const from = parseBusinessInstant(order.milestones?.[pair.from]?.at);
    const to = parseBusinessInstant(order.milestones?.[pair.to]?.at);
    if (from === undefined || to === undefined) continue;
    latencies.push({ ...pair, seconds: Math.max(0, to - from) / 1000 });
  }
  return latencies;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Epoch milliseconds of an ERP business timestamp as the canonical events
 * carry it: ISO-8601 date and time with `T` or a space, any number of
 * fraction digits (SQL Server's `datetime2` and `datetimeoffset` have 7),
 * and an optional `Z` or `±hh:mm` offset; without an offset the time is
 * taken as UTC. Undefined for anything else.
 */
export function parseBusinessInstant(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = INSTANT.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], millis);
  const check = new Date(utc);
  // Date.UTC rolls 2025-02-30 over into March; a timestamp that does not come back unchanged is no timestamp.
  const roundTrip = [
    check.getUTCFullYear(),
    check.getUTCMonth() + 1,
    check.getUTCDate(),
    check.getUTCHours(),
    check.getUTCMinutes(),
    check.getUTCSeconds(),
  ];
  if (roundTrip.some((value, index) => value !== fields[index])) return undefined;
  if (zone === 'Z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return utc - sign * offsetMinutes * 60_000;
}
