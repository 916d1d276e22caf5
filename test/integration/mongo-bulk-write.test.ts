import { MongoBulkWriteError, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, uniqueName } from './services.js';

describe('MongoDB-wire server', () => {
  const client = new MongoClient(services().mongodbUri, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(uniqueName('bulk').replace(/-/g, '_'));

  beforeAll(async () => {
    await client.connect();
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('upserts with bulkWrite and reads the documents back', async () => {
    const stock = db.collection<{ _id: string; sku: string; onHand: number; reserved?: number }>('stock');
    const result = await stock.bulkWrite(
      [
        { updateOne: { filter: { _id: 'SKU-1@WH-1' }, update: { $set: { sku: 'SKU-1', onHand: 10 } }, upsert: true } },
        { updateOne: { filter: { _id: 'SKU-2@WH-1' }, update: { $set: { sku: 'SKU-2', onHand: 4 } }, upsert: true } },
        { updateOne: { filter: { _id: 'SKU-1@WH-1' }, update: { $set: { reserved: 3 } }, upsert: true } },
      ],
      { ordered: false },
    );

    expect(result.upsertedCount).toBe(2);
    expect(result.modifiedCount).toBe(1);
    expect(await stock.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'SKU-1@WH-1', sku: 'SKU-1', onHand: 10, reserved: 3 },
      { _id: 'SKU-2@WH-1', sku: 'SKU-2', onHand: 4 },
    ]);
  });

  it('reports a unique-index violation per document and applies the other writes', async () => {
    const orders = db.collection<{ _id: string; orderNumber: string }>('orders');
    await orders.createIndex({ orderNumber: 1 }, { unique: true, name: 'orderNumber_unique' });
    await orders.insertOne({ _id: 'o-1', orderNumber: 'SO-1' });

    const failure = await orders
      .bulkWrite(
        [
          { insertOne: { document: { _id: 'o-2', orderNumber: 'SO-2' } } },
          { insertOne: { document: { _id: 'o-3', orderNumber: 'SO-1' } } },
          { insertOne: { document: { _id: 'o-4', orderNumber: 'SO-4' } } },
        ],
        { ordered: false },
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(failure).toBeInstanceOf(MongoBulkWriteError);
    const writeErrors = (failure as MongoBulkWriteError).writeErrors;
    const perDocument = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]).map((e) => ({
      index: e.index,
      code: e.code,
    }));
    expect(perDocument).toEqual([{ index: 1, code: 11000 }]);
    // No count is asserted: mongo-java-server counts the refused insert in `n` (3 here, MongoDB says 2). The sinks
    // read per-operation errors and the documents, never that count.
    expect(await orders.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'o-1', orderNumber: 'SO-1' },
      { _id: 'o-2', orderNumber: 'SO-2' },
      { _id: 'o-4', orderNumber: 'SO-4' },
    ]);
  });
});
