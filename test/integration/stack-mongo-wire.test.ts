import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal128, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStackPaths } from '../../stack/paths.js';
import { isAlive } from '../../stack/process.js';
import { createMongoWireService } from '../../stack/services/mongo-wire.js';
import { createStack } from '../../stack/stack.js';
import { freePort } from './services.js';

type Stock = { _id: string; onHand: Decimal128; moves: number };

// A server of this test's own (the install comes from the shared cache), since it is killed.
const stackRoot = mkdtempSync(join(tmpdir(), 'cdc-sync-mongo-wire-'));
let stack: ReturnType<typeof createStack>;
let endpoint: string;

async function withClient<T>(work: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(endpoint, { directConnection: true, serverSelectionTimeoutMS: 10_000 });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

async function killServer(): Promise<number> {
  const [status] = await stack.status();
  const pid = status!.pid!;
  process.kill(pid, 'SIGKILL');
  for (let waited = 0; isAlive(pid) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return pid;
}

describe('the local MongoDB-wire server', () => {
  beforeAll(async () => {
    const service = createMongoWireService({ ...process.env, CDC_SYNC_MONGO_PORT: String(await freePort()) });
    endpoint = service.endpoint;
    stack = createStack([service], { cacheRoot: resolveStackPaths().cacheRoot, stackRoot });
    await stack.up();
  });

  afterAll(async () => {
    await stack.down();
    rmSync(stackRoot, { recursive: true, force: true });
  });

  it('keeps every acknowledged write through a SIGKILL of the server', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `SKU-${String(i).padStart(4, '0')}@WH-EAST`);
    await withClient(async (client) => {
      const stock = client.db('durability').collection<Stock>('stock');
      for (let start = 0; start < ids.length; start += 500) {
        await stock.bulkWrite(
          ids.slice(start, start + 500).map((_id, i) => ({
            updateOne: {
              filter: { _id },
              update: { $set: { onHand: Decimal128.fromString(`${start + i}.125`) }, $setOnInsert: { moves: 0 } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
      await Promise.all(Array.from({ length: 200 }, () => stock.updateOne({ _id: ids[0]! }, { $inc: { moves: 1 } })));
    });
    // Killed right after the last acknowledgement: nothing had a chance to be written in the background.
    const killed = await killServer();
    expect(isAlive(killed)).toBe(false);

    await stack.up();
    const after = await withClient(async (client) => {
      const stock = client.db('durability').collection<Stock>('stock');
      return {
        count: await stock.countDocuments(),
        first: await stock.findOne({ _id: ids[0]! }),
        last: await stock.findOne({ _id: ids.at(-1)! }),
        lowStock: (await stock.find({ onHand: { $lt: Decimal128.fromString('3') } }).toArray()).map((d) => d._id),
      };
    });
    expect(after.count).toBe(2000);
    expect(after.first).toEqual({ _id: ids[0], onHand: Decimal128.fromString('0.125'), moves: 200 });
    expect(after.last).toEqual({ _id: ids.at(-1), onHand: Decimal128.fromString('1999.125'), moves: 0 });
    // Decimal128 compares as a number, not as text.
    expect(after.lowStock).toEqual(ids.slice(0, 3));
  });

  it('reports MongoDB 6.0 (wire version 17), which current drivers accept', async () => {
    const { build, hello } = await withClient(async (client) => ({
      build: await client.db('admin').command({ buildInfo: 1 }),
      hello: await client.db('admin').command({ hello: 1 }),
    }));
    expect(build['version']).toBe('6.0.0');
    expect(hello).toMatchObject({ isWritablePrimary: true, maxWireVersion: 17, ok: 1 });
  });
});
