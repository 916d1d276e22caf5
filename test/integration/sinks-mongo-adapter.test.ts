import { type Db, type MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SinkWriteError, SourceUnavailableError } from '../../core/errors.js';
import { bulkWriteIdempotent, insertMissing } from '../../sinks/mongo/bulk.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import { connectMongo, describeServer, ensureIndexes } from '../../sinks/mongo/connect.js';
import { createDocumentLocks, documentLocksConfigSchema } from '../../sinks/mongo/document-locks.js';
import { services, uniqueName } from './services.js';

const logger = pino({ level: 'silent' });

describe('the Mongo sinks adapter on the MongoDB-wire server', () => {
  const database = uniqueName('sink_adapter').replace(/-/g, '_');
  let clients: MongoClient[] = [];
  let db: Db;

  beforeAll(async () => {
    clients = await Promise.all([connectMongo(services().mongodbUri), connectMongo(services().mongodbUri)]);
    db = clients[0]!.db(database);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await Promise.all(clients.map((client) => client.close()));
  });

  describe('connectMongo', () => {
    it('hands out a connected client whose writes are majority-acknowledged and journaled', async () => {
      expect(db.writeConcern).toMatchObject({ w: 'majority', journal: true });
      await expect(db.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    });

    it('fails retriably when no server answers', async () => {
      const failure = await connectMongo('mongodb://127.0.0.1:9/', { serverSelectionTimeoutMs: 300 }).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(SourceUnavailableError);
      expect((failure as SourceUnavailableError).message).toMatch(
        /^MongoDB unreachable at mongodb:\/\/127\.0\.0\.1:9\//,
      );
    });

    it('refuses a malformed URI as configuration', async () => {
      await expect(connectMongo('mongodb://user:secret@/nohost')).rejects.toThrow(ConfigError);
      await expect(connectMongo('mongodb://user:secret@/nohost')).rejects.toThrow(/mongodb:\/\/user:\*\*\*@\/nohost/);
    });
  });

  describe('describeServer', () => {
    it('tells FerretDB v1, whose updates are not atomic, from MongoDB', async () => {
      const server = await describeServer(db);
      expect(server.atomicDocumentUpdates).toBe(server.product === 'mongodb');
      if (services().origin.mongodb === 'native-stack') {
        expect(server).toMatchObject({ product: 'ferretdb', replicaSet: null, atomicDocumentUpdates: false });
      }
    });
  });

  describe('ensureIndexes', () => {
    it('creates indexes idempotently, without upsetting FerretDB', async () => {
      const collection = db.collection('indexed');
      const indexes = [
        { key: { a: 1 }, name: 'a_1' },
        { key: { b: 1, c: 1 }, name: 'b_1_c_1' },
        { key: { d: 1 }, name: 'd_1' },
      ] as const;
      await ensureIndexes(collection, indexes);
      await ensureIndexes(collection, indexes);

      const names = (await collection.listIndexes().toArray()).map((index) => index.name as string).sort();
      expect(names).toEqual(['_id_', 'a_1', 'b_1_c_1', 'd_1']);
    });

    it('reports an index of the same name over other fields as configuration', async () => {
      const collection = db.collection('indexed_conflict');
      await ensureIndexes(collection, [{ key: { a: 1 }, name: 'by_a' }]);
      await expect(ensureIndexes(collection, [{ key: { b: 1 }, name: 'by_a' }])).rejects.toThrow(ConfigError);
    });
  });

  describe('bulkWriteIdempotent', () => {
    it('finds the refused operation by re-running a failed bulk one at a time, and applies the others', async () => {
      const collection = db.collection<{ _id: number; s?: string; v?: string }>('bulk');
      await collection.insertMany([{ _id: 1, s: 'text' }, { _id: 2 }, { _id: 3 }]);

      // FerretDB stops this bulk at the second operation and reports index 0.
      const outcome = await bulkWriteIdempotent(collection, [
        { updateOne: { filter: { _id: 2 }, update: { $set: { v: 'b' } } } },
        { updateOne: { filter: { _id: 1 }, update: { $inc: { s: 1 } as never } } },
        { updateOne: { filter: { _id: 3 }, update: { $set: { v: 'c' } } } },
      ]);

      expect([...outcome.refused.keys()]).toEqual([1]);
      expect(outcome.refused.get(1)?.retriable).toBe(false);
      expect(outcome.matched).toBe(2);
      expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, s: 'text' },
        { _id: 2, v: 'b' },
        { _id: 3, v: 'c' },
      ]);
    });
  });

  describe('insertMissing', () => {
    it('inserts what is missing, keeps nulls and empty arrays, and ignores what exists', async () => {
      const collection = db.collection<{ _id: string; n: null; list: string[] }>('missing');
      await collection.insertOne({ _id: 'old', n: null, list: ['kept'] });

      const refused = await insertMissing(collection, [
        { _id: 'old', n: null, list: [] },
        { _id: 'new', n: null, list: [] },
      ]);

      expect(refused.size).toBe(0);
      expect(await collection.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'new', n: null, list: [] },
        { _id: 'old', n: null, list: ['kept'] },
      ]);
    });
  });

  describe('classifyMongoError with errors the driver really raises', () => {
    it('refuses a duplicate key', async () => {
      const collection = db.collection<{ _id: string }>('duplicates');
      await collection.insertOne({ _id: 'k' });
      const error = await collection.insertOne({ _id: 'k' }).catch((e: unknown) => e);

      const classified = classifyMongoError(error, { operation: 'insertOne', collection: 'duplicates' });
      expect(classified?.retriable).toBe(false);
      expect(classified?.message).toMatch(/^Duplicate key in insertOne on duplicates: E11000 duplicate key error/);
    });
  });

  describe('document locks', () => {
    const config = (settings: Record<string, unknown> = {}) =>
      documentLocksConfigSchema.parse({ mode: 'always', collection: 'locks', ...settings });

    it('serialises read-modify-write of one document across two clients', async () => {
      const counters = db.collection<{ _id: string; n: number }>('counters');
      await counters.insertOne({ _id: 'c', n: 0 });
      const workers = await Promise.all(
        clients.map((client) => createDocumentLocks(client.db(database), config(), logger)),
      );

      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          workers[i % 2]!.withEach(
            ['c'],
            (id) => `counters/${id}`,
            async () => {
              const { n } = (await clients[i % 2]!.db(database)
                .collection<{ _id: string; n: number }>('counters')
                .findOne({ _id: 'c' }))!;
              await clients[i % 2]!.db(database)
                .collection<{ _id: string; n: number }>('counters')
                .updateOne({ _id: 'c' }, { $set: { n: n + 1 } });
            },
          ),
        ),
      );

      expect(await counters.findOne({ _id: 'c' })).toEqual({ _id: 'c', n: 60 });
      expect(await db.collection('locks').countDocuments()).toBe(0);
    });

    it('takes over a lock whose holder let its lease run out', async () => {
      await db
        .collection('locks')
        .insertOne({ _id: 'orders/SO-1' as never, owner: 'crashed', expiresAt: new Date(Date.now() - 1000) });
      const locks = await createDocumentLocks(db, config(), logger);
      const done: string[] = [];

      await locks.withEach(
        ['SO-1', 'SO-2'],
        (id) => `orders/${id}`,
        async (held) => {
          done.push(...held);
        },
      );

      expect(done.sort()).toEqual(['SO-1', 'SO-2']);
      expect(await db.collection('locks').countDocuments()).toBe(0);
    });

    it('gives up retriably when a live lock is held for longer than it may wait', async () => {
      await db
        .collection('locks')
        .insertOne({ _id: 'orders/SO-3' as never, owner: 'busy', expiresAt: new Date(Date.now() + 60_000) });
      const locks = await createDocumentLocks(db, config({ waitMs: 200 }), logger);

      const failure = await locks
        .withEach(
          ['SO-3'],
          (id) => `orders/${id}`,
          async () => {},
        )
        .catch((e: unknown) => e);

      expect(failure).toBeInstanceOf(SinkWriteError);
      expect((failure as SinkWriteError).retriable).toBe(true);
      expect((failure as SinkWriteError).message).toBe(
        'Timed out after 200 ms waiting for document locks on orders/SO-3 in locks',
      );
    });

    it('does not lock at all where the server updates documents atomically (mode auto)', async () => {
      const locks = await createDocumentLocks(db, config({ mode: 'auto' }), logger);
      expect(locks.enabled).toBe(!(await describeServer(db)).atomicDocumentUpdates);
    });
  });
});
