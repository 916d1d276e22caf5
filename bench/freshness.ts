import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { createSqlServerEncoder, type SqlServerEncoder } from '../connectors/debezium/encode.js';
import { type Fixture, type FixtureChange } from '../devtools/fixtures/fixture-file.js';
import { type ProducedTopic } from '../devtools/fixtures/producer.js';
import { percentile } from './stats.js';

/**
 * Freshness: how long after its source commit a change is visible in
 * MongoDB, while the source writes at a steady rate.
 *
 * A paced source writes a continuation of the workload to the source topics
 * as Debezium would, whole transactions at a time, each change stamped with
 * the moment it is written as its commit time (`source.ts_ms`) and
 * processing time (`ts_ms`). Among those changes, every one that moves a
 * quantity of a probe key (a few SKU × location keys) is a sample. A poller
 * reads the probe keys' `inventory_availability` documents every
 * `pollIntervalMs`; a sample is visible at the first read whose document
 * carries that change or a newer one (`_meta.sourceCommittedAt` at or after
 * the sample's commit time), and its freshness is that read's time minus the
 * commit time. Reads are by `_id`, so polling costs the server little.
 *
 * kafkajs and the MongoDB driver are imported here rather than through the
 * adapters: this is the load generator and the observer, not the pipeline.
 */
export type FreshnessOptions = {
  readonly brokers: readonly string[];
  /** The continuation of the workload, positions after the preloaded part. */
  readonly fixture: Fixture;
  /** Registry ids of each topic's schemas, as the preload registered them. */
  readonly schemaIds: readonly ProducedTopic[];
  /** The probe key (`sku@location`) whose quantities an entry of `fixture` moves, by the entry's index. */
  readonly probeKeyOf: (index: number) => string | undefined;
  readonly rateEventsPerS: number;
  readonly seconds: number;
  readonly mongo: MongoClient;
  readonly database: string;
  readonly collection: string;
  readonly pollIntervalMs: number;
  /** How long to keep polling for samples not yet visible once the source has stopped. */
  readonly settleMs: number;
};

export type FreshnessResult = {
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly samples: number;
  readonly unresolved: number;
  readonly sentEvents: number;
  /** The rate the source actually reached. */
  readonly achievedEventsPerS: number;
};

/** Ticks of the paced source: each writes the transactions that are due. */
const TICK_MS = 20;

export async function measureFreshness(options: FreshnessOptions): Promise<FreshnessResult> {
  const kafka = new Kafka({
    clientId: 'cdc-sync-bench-source',
    brokers: [...options.brokers],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const encoders = encodersFor(options.fixture, options.schemaIds);
  const transactions = groupTransactions(options.fixture);
  const pending = new Map<string, number[]>();
  const latencies: number[] = [];
  let polling = true;

  const poller = (async () => {
    const collection = options.mongo.db(options.database).collection<{ _id: string }>(options.collection);
    while (polling) {
      const keys = [...pending.keys()];
      if (keys.length > 0) {
        const docs = await collection
          .find({ _id: { $in: keys } }, { projection: { '_meta.sourceCommittedAt': 1 } })
          .toArray();
        const readAt = Date.now();
        for (const doc of docs) {
          const committedAt = (doc as { _meta?: { sourceCommittedAt?: Date } })._meta?.sourceCommittedAt?.getTime();
          const waiting = pending.get(doc._id);
          if (committedAt === undefined || waiting === undefined) continue;
          const still = waiting.filter((ts) => {
            if (ts > committedAt) return true;
            latencies.push(readAt - ts);
            return false;
          });
          if (still.length === 0) pending.delete(doc._id);
          else pending.set(doc._id, still);
        }
      }
      await sleep(options.pollIntervalMs);
    }
  })();

  let sent = 0;
  const started = Date.now();
  try {
    let next = 0;
    while (next < transactions.length) {
      const elapsed = Date.now() - started;
      if (elapsed >= options.seconds * 1_000) break;
      const due = (options.rateEventsPerS * elapsed) / 1_000;
      const batch: { topic: string; message: Message }[] = [];
      const now = Date.now();
      while (next < transactions.length && sent + batch.length < due) {
        for (const entry of transactions[next]!) {
          const change = { ...entry.change, tsMs: now, source: { ...entry.change.source, tsMs: now } };
          const record = encoders.get(entry.topic)!.encode(change);
          batch.push({ topic: entry.topic, message: { key: record.key, value: record.value } });
          const probe = options.probeKeyOf(entry.index);
          if (probe !== undefined) pending.set(probe, [...(pending.get(probe) ?? []), now]);
        }
        next++;
      }
      if (batch.length > 0) {
        const byTopic = new Map<string, Message[]>();
        for (const { topic, message } of batch) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        sent += batch.length;
      }
      await sleep(TICK_MS);
    }
    const sourceSeconds = (Date.now() - started) / 1_000;
    const settleDeadline = Date.now() + options.settleMs;
    while (pending.size > 0 && Date.now() < settleDeadline) await sleep(options.pollIntervalMs);
    polling = false;
    await poller;
    const unresolved = [...pending.values()].reduce((sum, waiting) => sum + waiting.length, 0);
    return {
      p50Ms: percentile(latencies, 0.5) ?? null,
      p99Ms: percentile(latencies, 0.99) ?? null,
      samples: latencies.length,
      unresolved,
      sentEvents: sent,
      achievedEventsPerS: sent / sourceSeconds,
    };
  } finally {
    polling = false;
    await poller.catch(() => undefined);
    await producer.disconnect();
  }
}

/** One encoder per topic, with the registry ids the preload got for its schemas. */
function encodersFor(fixture: Fixture, schemaIds: readonly ProducedTopic[]): Map<string, SqlServerEncoder> {
  const ids = new Map(schemaIds.map((topic) => [topic.topic, topic]));
  const encoders = new Map<string, SqlServerEncoder>();
  for (const entry of fixture.entries) {
    if (encoders.has(entry.topic)) continue;
    const topic = ids.get(entry.topic);
    if (topic === undefined) throw new Error(`No schema ids for ${entry.topic}; it was not in the preloaded workload`);
    encoders.set(
      entry.topic,
      createSqlServerEncoder(entry.table, { keySchemaId: topic.keySchemaId ?? 0, valueSchemaId: topic.valueSchemaId }),
    );
  }
  return encoders;
}

/** The fixture's row changes as whole transactions, in order; a change outside any transaction is one of its own. */
function groupTransactions(fixture: Fixture): FixtureChange[][] {
  const groups: FixtureChange[][] = [];
  let current: string | undefined;
  for (const entry of fixture.entries) {
    if (entry.kind !== 'change') continue;
    const id = entry.change.transaction?.id;
    if (id !== undefined && id === current) groups.at(-1)!.push(entry);
    else groups.push([entry]);
    current = id;
  }
  return groups;
}
