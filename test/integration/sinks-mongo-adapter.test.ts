import { type Db, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { bulkWriteIdempotent } from '../../sinks/mongo/bulk.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import { connectMongo, ensureIndexes } from '../../sinks/mongo/connect.js';
import { services, uniqueName } from './services.js';

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

  describe('single-document updates', () => {
    // The sinks take no locks: they rely on the server applying each update to one document atomically, filter and
    // modification together, as MongoDB does. These prove it of the server the tests run against.
    it('loses no $inc of 200 sent concurrently from two clients', async () => {
      const name = 'atomic_inc';
      await db.collection<{ _id: string; n: number }>(name).insertOne({ _id: 'c', n: 0 });

      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          clients[i % 2]!.db(database)
            .collection<{ _id: string; n: number }>(name)
            .updateOne({ _id: 'c' }, { $inc: { n: 1 } }),
        ),
      );

      expect(await db.collection(name).findOne({ _id: 'c' as never })).toEqual({ _id: 'c', n: 200 });
    });

    it('applies each version once under guarded writers racing from two clients on the same documents', async () => {
      const name = 'atomic_guard';
      const ids = ['a', 'b', 'c', 'd'];
      await db
        .collection<{ _id: string; version: number; writes: number }>(name)
        .insertMany(ids.map((_id) => ({ _id, version: 0, writes: 0 })));
      // Every version of every document is sent by both clients, in opposite orders: the guard must let exactly
      // the updates through that raise the version, and count one write for each.
      const versions = Array.from({ length: 50 }, (_, i) => i + 1);
      const writer = (client: MongoClient, order: readonly number[]) =>
        Promise.all(
          order.flatMap((version) =>
            ids.map((_id) =>
              client
                .db(database)
                .collection<{ _id: string; version: number; writes: number }>(name)
                .updateOne({ _id, version: { $lt: version } }, { $set: { version }, $inc: { writes: 1 } }),
            ),
          ),
        );
      const results = await Promise.all([writer(clients[0]!, versions), writer(clients[1]!, [...versions].reverse())]);

      const documents = await db.collection(name).find().sort({ _id: 1 }).toArray();
      expect(documents.map(({ _id, version }) => ({ _id, version }))).toEqual(ids.map((_id) => ({ _id, version: 50 })));
      // Each successful guarded update raised the version, so the writes counted equal the updates that matched.
      const matched = results.flat().reduce((sum, result) => sum + result.matchedCount, 0);
      expect(documents.reduce((sum, document) => sum + Number(document['writes']), 0)).toBe(matched);
      for (const document of documents) expect(document['writes']).toBeLessThanOrEqual(50);
    });
  });

  describe('ensureIndexes', () => {
    it('creates indexes idempotently', async () => {
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
      const failure = await ensureIndexes(collection, [{ key: { b: 1 }, name: 'by_a' }]).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).message).toBe(
        'Index conflict on indexed_conflict: an index named by_a exists over {"a":1}, not {"b":1}; ' +
          'drop the old index or rename the new one',
      );
    });
  });

  describe('bulkWriteIdempotent', () => {
    it('reports the refused operation by its index and applies the others', async () => {
      const collection = db.collection<{ _id: number; s?: string; v?: string }>('bulk');
      await collection.insertMany([{ _id: 1, s: 'text' }, { _id: 2 }, { _id: 3 }]);

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
});
