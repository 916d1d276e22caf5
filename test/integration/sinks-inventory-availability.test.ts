import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkWriteError } from '../../core/errors.js';
import { type Sink, type SinkWriteOutcome } from '../../core/sink.js';
import { connectMongo } from '../../sinks/mongo/connect.js';
import { inventoryAvailability, inventoryAvailabilityConfigSchema } from '../../sinks/mongo/inventory-availability.js';
import {
  dec,
  expectedSkuEntry,
  canonicalAt,
  expectedMeta,
  inBatches,
  inventoryBurst,
  shuffledWithDuplicates,
  stockLevelChanged,
  testSinkContext,
  writeConcurrently,
} from '../../sinks/testing.js';
import { services, uniqueName } from './services.js';

/** 42 moves: six ordinary rounds over 3 SKUs × 2 locations, then the final round (see BURST_FINAL). */
const BURST = inventoryBurst(1000);
const [aWh1, aWh2, bWh1, bWh2, cWh1, cWh2Removed] = BURST.slice(36);

const EXPECTED_LOCATIONS = [
  {
    _id: 'SKU-A@WH-1',
    sku: 'SKU-A',
    location: 'WH-1',
    onHand: dec('120.000'),
    reserved: dec('20.000'),
    safetyStock: dec('10.000'),
    available: dec('90.000'),
    lowStock: false,
    oversold: false,
    removed: false,
    _meta: expectedMeta(aWh1!),
  },
  {
    _id: 'SKU-A@WH-2',
    sku: 'SKU-A',
    location: 'WH-2',
    onHand: dec('12.500'),
    reserved: dec('7.500'),
    safetyStock: dec('5.000'),
    available: dec('0.000'),
    lowStock: true,
    oversold: false,
    removed: false,
    _meta: expectedMeta(aWh2!),
  },
  {
    _id: 'SKU-B@WH-1',
    sku: 'SKU-B',
    location: 'WH-1',
    onHand: dec('3.000'),
    reserved: dec('8.000'),
    safetyStock: dec('2.000'),
    available: dec('-7.000'),
    lowStock: true,
    oversold: true,
    removed: false,
    _meta: expectedMeta(bWh1!),
  },
  {
    _id: 'SKU-B@WH-2',
    sku: 'SKU-B',
    location: 'WH-2',
    onHand: dec('45.250'),
    reserved: dec('0.000'),
    safetyStock: dec('5.000'),
    available: dec('40.250'),
    lowStock: false,
    oversold: false,
    removed: false,
    _meta: expectedMeta(bWh2!),
  },
  {
    _id: 'SKU-C@WH-1',
    sku: 'SKU-C',
    location: 'WH-1',
    onHand: dec('7.000'),
    reserved: dec('1.000'),
    safetyStock: dec('2.000'),
    available: dec('4.000'),
    lowStock: false,
    oversold: false,
    removed: false,
    _meta: expectedMeta(cWh1!),
  },
  {
    // A tombstone: the last known quantities, no flags, and the removal's version.
    _id: 'SKU-C@WH-2',
    sku: 'SKU-C',
    location: 'WH-2',
    onHand: dec('9.000'),
    reserved: dec('0.000'),
    safetyStock: dec('1.000'),
    available: dec('8.000'),
    lowStock: false,
    oversold: false,
    removed: true,
    _meta: expectedMeta(cWh2Removed!),
  },
];

/** A SKU document's entry for one location, as the location document above shows it. */
const entry = expectedSkuEntry;

const EXPECTED_SKUS = [
  {
    _id: 'SKU-A',
    sku: 'SKU-A',
    locations: { 'WH-1': entry(aWh1!), 'WH-2': entry(aWh2!) },
    locationCount: 2,
    totals: { onHand: dec('132.500'), reserved: dec('27.500'), safetyStock: dec('15.000'), available: dec('90.000') },
    _meta: expectedMeta(aWh2!),
  },
  {
    _id: 'SKU-B',
    sku: 'SKU-B',
    locations: { 'WH-1': entry(bWh1!), 'WH-2': entry(bWh2!) },
    locationCount: 2,
    totals: { onHand: dec('48.250'), reserved: dec('8.000'), safetyStock: dec('7.000'), available: dec('33.250') },
    _meta: expectedMeta(bWh2!),
  },
  {
    // WH-2 was removed: it stays listed, and counts in no total.
    _id: 'SKU-C',
    sku: 'SKU-C',
    locations: { 'WH-1': entry(cWh1!), 'WH-2': entry(cWh2Removed!) },
    locationCount: 2,
    totals: { onHand: dec('7.000'), reserved: dec('1.000'), safetyStock: dec('2.000'), available: dec('4.000') },
    _meta: expectedMeta(cWh2Removed!),
  },
];

const SEEDS = [1, 7, 42, 1234, 2025];

describe('inventory_availability on the MongoDB-wire server', () => {
  const database = uniqueName('sink_inventory').replace(/-/g, '_');
  let clients: MongoClient[] = [];
  let models = 0;

  beforeAll(async () => {
    clients = await Promise.all([connectMongo(services().mongodbUri), connectMongo(services().mongodbUri)]);
  });

  afterAll(async () => {
    await clients[0]?.db(database).dropDatabase();
    await Promise.all(clients.map((client) => client.close()));
  });

  /** Collection names of a fresh read model. */
  function freshModel(): { collection: string; bySkuCollection: string } {
    models += 1;
    return { collection: `availability_${models}`, bySkuCollection: `availability_${models}_by_sku` };
  }

  async function inventorySink(
    model: { collection: string; bySkuCollection: string },
    worker = 0,
    settings: Record<string, unknown> = {},
  ): Promise<Sink> {
    const config = inventoryAvailabilityConfigSchema.parse({ ...model, ...settings });
    return inventoryAvailability.create(config, { ...testSinkContext(), db: clients[worker]!.db(database) });
  }

  async function documents(model: { collection: string; bySkuCollection: string }) {
    const db = clients[0]!.db(database);
    return {
      locations: await db.collection(model.collection).find().sort({ _id: 1 }).toArray(),
      skus: await db.collection(model.bySkuCollection).find().sort({ _id: 1 }).toArray(),
    };
  }

  const EXPECTED = { locations: EXPECTED_LOCATIONS, skus: EXPECTED_SKUS };

  function expectAddsUp(outcomes: readonly SinkWriteOutcome[], events: number): void {
    expect(outcomes.reduce((sum, o) => sum + o.applied + o.stale + o.rejected.length, 0)).toBe(events);
    expect(outcomes.flatMap((o) => o.rejected)).toEqual([]);
  }

  it('given the burst in source order in one batch, expects exactly these documents', async () => {
    const model = freshModel();
    const outcome = await (await inventorySink(model)).write(BURST);

    // Only each balance's last move changes a document; the earlier ones are superseded within the batch.
    expect(outcome).toEqual({ applied: 6, stale: 36, rejected: [] });
    expect(await documents(model)).toEqual(EXPECTED);
  });

  it('given the burst one move at a time, applies every move and ends the same', async () => {
    const model = freshModel();
    const sink = await inventorySink(model);
    const outcomes: SinkWriteOutcome[] = [];
    for (const event of BURST) outcomes.push(await sink.write([event]));

    expect(outcomes.every((o) => o.applied === 1 && o.stale === 0)).toBe(true);
    expect(await documents(model)).toEqual(EXPECTED);
  });

  it.each(SEEDS)('given the burst shuffled and duplicated (seed %i) in one batch, expects the same', async (seed) => {
    const model = freshModel();
    const events = shuffledWithDuplicates(BURST, seed);
    const outcome = await (await inventorySink(model)).write(events);

    expect(outcome).toEqual({ applied: 6, stale: events.length - 6, rejected: [] });
    expect(await documents(model)).toEqual(EXPECTED);
  });

  it.each(SEEDS)('given it shuffled and duplicated (seed %i) in batches of 5, expects the same', async (seed) => {
    const model = freshModel();
    const sink = await inventorySink(model);
    const events = shuffledWithDuplicates(BURST, seed);
    const outcomes: SinkWriteOutcome[] = [];
    for (const batch of inBatches(events, 5)) outcomes.push(await sink.write(batch));

    expectAddsUp(outcomes, events.length);
    expect(await documents(model)).toEqual(EXPECTED);
  });

  it.each(SEEDS)(
    'given it shuffled and duplicated (seed %i) across two workers writing concurrently, expects the same',
    async (seed) => {
      const model = freshModel();
      const workers = [await inventorySink(model, 0), await inventorySink(model, 1)];
      const events = shuffledWithDuplicates(BURST, seed, 0.5);

      const outcomes = await writeConcurrently(workers, inBatches(events, 4));

      expectAddsUp(outcomes, events.length);
      expect(await documents(model)).toEqual(EXPECTED);
    },
  );

  it('writes a batch in four round trips: two for the locations, one read and one write of the SKUs, no re-read', async () => {
    const model = freshModel();
    const client = await MongoClient.connect(services().mongodbUri, { monitorCommands: true });
    try {
      const sink = await inventoryAvailability.create(inventoryAvailabilityConfigSchema.parse(model), {
        ...testSinkContext(),
        db: client.db(database),
      });
      const commands: string[] = [];
      client.on('commandStarted', (event) =>
        commands.push(`${event.commandName} ${String(event.command[event.commandName])}`),
      );
      // New SKU documents (upserts), then a later batch that changes them (compare-and-set updates).
      await sink.write(BURST.slice(0, 6));
      await sink.write(BURST.slice(36));

      const round = [
        `update ${model.collection}`,
        `update ${model.collection}`,
        `find ${model.bySkuCollection}`,
        `update ${model.bySkuCollection}`,
      ];
      expect(commands).toEqual([...round, ...round]);
      expect(await documents(model)).toEqual(EXPECTED);
    } finally {
      await client.close();
    }
  });

  it('counts a move older than the stored state as stale and changes no document', async () => {
    const model = freshModel();
    const sink = await inventorySink(model);
    await sink.write(BURST);
    const before = await documents(model);

    expect(await sink.write([BURST[0]!, structuredClone(aWh1!)])).toEqual({ applied: 0, stale: 2, rejected: [] });
    expect(await documents(model)).toEqual(before);
  });

  it('keeps a removed balance removed when an older move arrives late, and revives it on a newer one', async () => {
    const model = freshModel();
    const sink = await inventorySink(model);
    const level = { sku: 'SKU-D', location: 'WH-1', onHand: '10.000', reserved: '0.000', safetyStock: '0.000' };
    const removed = stockLevelChanged(2002, { ...level, removed: true });
    const late = stockLevelChanged(2001, { ...level, onHand: '99.000' });

    await sink.write([removed]);
    expect(await sink.write([late])).toEqual({ applied: 0, stale: 1, rejected: [] });
    expect(await documents(model)).toEqual({
      locations: [expect.objectContaining({ removed: true, onHand: dec('10.000'), _meta: expectedMeta(removed) })],
      skus: [
        expect.objectContaining({
          totals: { onHand: dec('0.000'), reserved: dec('0.000'), safetyStock: dec('0.000'), available: dec('0.000') },
        }),
      ],
    });

    const recreated = stockLevelChanged(2003, { ...level, onHand: '4.000' });
    expect(await sink.write([recreated])).toEqual({ applied: 1, stale: 0, rejected: [] });
    expect(await documents(model)).toEqual({
      locations: [expect.objectContaining({ removed: false, onHand: dec('4.000'), lowStock: false })],
      skus: [
        expect.objectContaining({
          totals: { onHand: dec('4.000'), reserved: dec('0.000'), safetyStock: dec('0.000'), available: dec('4.000') },
        }),
      ],
    });
  });

  it('stores quantities as Decimal128, so MongoDB compares and sums them as numbers, exactly', async () => {
    const model = freshModel();
    await (await inventorySink(model)).write(BURST);
    const locations = clients[0]!.db(database).collection(model.collection);

    // As strings, '-7.000' < '0.000' < '4.000' < '40.250' < '8.000' < '90.000' would sort and compare wrongly.
    const below = await locations
      .find({ available: { $lt: dec('5') } }, { projection: { _id: 1 } })
      .sort({ available: 1 })
      .toArray();
    expect(below.map((document) => document._id)).toEqual(['SKU-B@WH-1', 'SKU-A@WH-2', 'SKU-C@WH-1']);
    const [sums] = await locations
      .aggregate<{ onHand: unknown; available: unknown }>([
        { $match: { removed: false } },
        { $group: { _id: null, onHand: { $sum: '$onHand' }, available: { $sum: '$available' } } },
      ])
      .toArray();
    expect(sums).toEqual({ _id: null, onHand: dec('187.750'), available: dec('127.250') });
  });

  it('sums totals exactly, where binary floating point would not', async () => {
    const model = freshModel();
    const level = (at: number, location: string, onHand: string) =>
      stockLevelChanged(at, { sku: 'SKU-E', location, onHand, reserved: '0.000', safetyStock: '0.000' });
    await (await inventorySink(model)).write([level(3001, 'WH-1', '0.100'), level(3002, 'WH-2', '0.200')]);

    expect((await documents(model)).skus[0]).toMatchObject({
      totals: { onHand: dec('0.300'), available: dec('0.300') },
    });
  });

  it('flags low stock against the configured threshold', async () => {
    const model = freshModel();
    await (await inventorySink(model, 0, { lowStockThreshold: '5.000' })).write(BURST);

    const flagged = (await documents(model)).locations.filter((document) => document['lowStock'] === true);
    expect(flagged.map((document) => document._id)).toEqual(['SKU-A@WH-2', 'SKU-B@WH-1', 'SKU-C@WH-1']);
  });

  it('keeps a location whose name has a dot apart from others in its SKU document', async () => {
    const model = freshModel();
    const level = { sku: 'SKU-F', onHand: '1.000', reserved: '0.000', safetyStock: '0.000' };
    await (
      await inventorySink(model)
    ).write([
      stockLevelChanged(4001, { ...level, location: 'WH.1' }),
      stockLevelChanged(4002, { ...level, location: 'WH%2E1' }),
    ]);

    const [sku] = (await documents(model)).skus;
    expect(Object.keys(sku!['locations'] as object).sort()).toEqual(['WH%252E1', 'WH%2E1']);
    expect(sku!['totals']).toMatchObject({ onHand: dec('2.000') });
  });

  it('rejects a move it can never apply and applies the rest of the batch', async () => {
    const model = freshModel();
    const bad = canonicalAt(5001, 'StockLevelChanged', 'SKU-G@WH-1', {
      sku: 'SKU-G',
      location: 'WH-1',
      onHand: '1e3',
      reserved: '0.000',
      safetyStock: '0.000',
      available: '1000.000',
      removed: false,
    });
    const outcome = await (await inventorySink(model)).write([bad, aWh1!]);

    expect(outcome.applied).toBe(1);
    expect(outcome.rejected.map((r) => r.event)).toEqual([bad]);
    expect(outcome.rejected[0]!.error).toBeInstanceOf(SinkWriteError);
    expect(outcome.rejected[0]!.error.retriable).toBe(false);
    expect(outcome.rejected[0]!.error.message).toMatch(/^Invalid decimal "1e3" in onHand of StockLevelChanged /);
    expect((await documents(model)).locations.map((document) => document._id)).toEqual(['SKU-A@WH-1']);
  });

  it('creates its indexes once and finds low-stock and oversold balances by them', async () => {
    const model = freshModel();
    await (await inventorySink(model)).write(BURST);
    await inventorySink(model);
    const locations = clients[0]!.db(database).collection(model.collection);

    const names = (await locations.listIndexes().toArray()).map((index) => index.name as string).sort();
    expect(names).toEqual(['_id_', 'lowStock_1__id_1', 'oversold_1__id_1', 'sku_1']);
    expect(await locations.countDocuments({ lowStock: true, sku: 'SKU-B' })).toBe(1);
    expect(await locations.countDocuments({ oversold: true })).toBe(1);
  });
});
