import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { type PipelineConfig } from '../../ops/pipeline-config.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { startPipeline } from '../../ops/pipeline.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import {
  groupProgress,
  isolatedPipelineConfig,
  kafkaFor,
  produceFixtures,
  readTopic,
  waitCaughtUp,
  waitCaughtUpTransactional,
  withoutAppliedAt,
} from './pipeline-harness.js';

const READ_MODELS = ['inventory_availability', 'inventory_availability_by_sku', 'order_view'] as const;
const MOVES = 3000;

/** A long burst of stock moves over the sample SKUs and locations, from a seeded generator. */
function stockMoves(): { name: string; raw: unknown } {
  const burst = JSON.parse(readFileSync('test/fixtures/erp/inventory-burst.json', 'utf8')) as {
    changes: { op?: string; after?: Record<string, unknown> }[];
  };
  const rows = burst.changes.filter((c) => c.op === 'r').map((c) => ({ ...c.after! }));
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const changes: unknown[] = rows.map((after) => ({ table: 'dbo.InventoryBalance', op: 'r', after }));
  for (let i = 0; i < MOVES; i++) {
    const index = Math.floor(random() * rows.length);
    const before = rows[index]!;
    // Never zero: a move that changes no quantity is skipped by the stage and would emit no event.
    const step = Math.floor(random() * 20) - 10;
    const onHand = (Number(before['QtyOnHand']) + (step >= 0 ? step + 1 : step)).toFixed(3);
    const after = { ...before, QtyOnHand: onHand };
    changes.push({ table: 'dbo.InventoryBalance', op: 'u', before, after });
    rows[index] = after;
  }
  return { name: 'generated stock moves', raw: { server: 'erp', database: 'ErpDemo', changes } };
}

function startWorker(configFile: string): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'run', '--config', configFile], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function readModels(mongo: MongoClient, config: PipelineConfig): Promise<Record<string, unknown[]>> {
  const db = mongo.db(config.mongodb.database);
  const models: Record<string, unknown[]> = {};
  for (const name of READ_MODELS) {
    models[name] = (await db.collection(name).find().sort({ _id: 1 }).toArray()).map(withoutAppliedAt);
  }
  return models;
}

describe('a worker killed mid-stream', () => {
  const killed = isolatedPipelineConfig({ logLevel: 'info', kafka: { maxBytesPerPartition: 4096 } });
  // The reference run reads the same source topics into topics, groups and a database of its own.
  const reference = isolatedPipelineConfig({ source: { topicPrefix: killed.source.topicPrefix } });
  const kafka = kafkaFor(killed);
  const mongo = new MongoClient(killed.mongodb.uri);
  const sourceTopics = killed.source.tables.map((table) => sourceTopic(killed.source, table));
  const workers: ChildProcess[] = [];

  afterAll(async () => {
    for (const worker of workers) {
      try {
        process.kill(-worker.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const config of [killed, reference]) await mongo.db(config.mongodb.database).dropDatabase();
    await mongo.close();
  });

  it('restarts to identical read models and no duplicate canonical events', async () => {
    await produceFixtures(killed, ['test/fixtures/erp/order-lifecycle.json', stockMoves()]);
    const configFile = join(mkdtempSync(join(tmpdir(), 'cdc-sync-restart-')), 'pipeline.yaml');
    writeFileSync(configFile, stringify(killed));

    const first = startWorker(configFile);
    workers.push(first.child);
    const inventoryTopic = `${sourceTopic(killed.source, 'dbo.InventoryBalance')}[0]`;
    let committedAtKill = -1;
    for (let waited = 0; waited < 120_000 && committedAtKill < 0; waited += 50) {
      const { committed } = await groupProgress(kafka, killed.transform.groupId, sourceTopics);
      const offset = Number(committed[inventoryTopic] ?? -1);
      if (offset > 0) {
        process.kill(-first.child.pid!, 'SIGKILL');
        committedAtKill = offset;
      } else await sleep(50);
    }
    expect(await first.exit).toBeNull();
    expect(committedAtKill).toBeGreaterThan(0);
    // The kill landed mid-run: once the worker was gone, the transform had not committed the whole source. (Seen
    // before the kill, as committedAtKill is, it could have finished meanwhile.)
    const atDeath = await groupProgress(kafka, killed.transform.groupId, [
      sourceTopic(killed.source, 'dbo.InventoryBalance'),
    ]);
    expect(atDeath.ends[inventoryTopic]).toBe(String(MOVES + 6));
    expect(BigInt(atDeath.committed[inventoryTopic]!)).toBeLessThan(BigInt(MOVES + 6));

    const second = startWorker(configFile);
    workers.push(second.child);
    await waitCaughtUp(kafka, killed.transform.groupId, sourceTopics, 180_000);
    await waitCaughtUpTransactional(
      kafka,
      killed.sink.groupId,
      [killed.topics.inventory, killed.topics.order],
      180_000,
    );
    process.kill(-second.child.pid!, 'SIGTERM');
    expect(await second.exit, second.output().slice(-3000)).toBe(0);
    const stopped = second
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; counters?: Record<string, number> })
      .filter((line) => line.msg === 'Stopped');
    expect(stopped).toHaveLength(1);
    // And so the restarted worker had stock moves left to transform: the first did not finish before it died.
    expect(stopped[0]!.counters?.['stage.stock_level.in']).toBeGreaterThan(0);

    const uninterrupted = await startPipeline(reference, 'all', pino({ level: 'silent' }));
    try {
      await waitCaughtUp(kafka, reference.transform.groupId, sourceTopics, 180_000);
      await waitCaughtUpTransactional(
        kafka,
        reference.sink.groupId,
        [reference.topics.inventory, reference.topics.order],
        180_000,
      );
    } finally {
      await uninterrupted.stop();
    }

    await mongo.connect();
    const afterRestart = await readModels(mongo, killed);
    expect(afterRestart['inventory_availability']).toHaveLength(6);
    expect(afterRestart['order_view']).toHaveLength(1);
    expect(afterRestart).toEqual(await readModels(mongo, reference));

    const codec = createCanonicalRegistryCodec({
      registryUrl: killed.schemaRegistry.url,
      topics: { inventory: killed.topics.inventory, order: killed.topics.order },
    });
    const eventIds: string[] = [];
    for (const topic of [killed.topics.inventory, killed.topics.order]) {
      for (const record of await readTopic(kafka, topic))
        eventIds.push((await codec.decode({ ...record, topic })).meta.eventId);
    }
    // Every stock move and snapshot read, plus the order lifecycle's 12 events, exactly once.
    expect(eventIds).toHaveLength(MOVES + 6 + 12);
    expect(new Set(eventIds).size).toBe(eventIds.length);
  }, 600_000);
});
