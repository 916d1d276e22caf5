import { Decimal128, type Document, MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { silentProgress } from '../../ops/progress.js';
import { type RebuildIo, rebuildReadModel } from '../../ops/rebuild/rebuild-read-model.js';
import { decimalText } from '../../sinks/mongo/decimal128.js';
import { QUANTITY_FIELDS } from '../../sinks/mongo/inventory-availability.js';
import { collectionExists, indexNames } from '../../ops/rebuild/collections.js';
import {
  isolatedPipelineConfig,
  kafkaFor,
  produceFixtures,
  waitCaughtUp,
  waitCaughtUpTransactional,
} from './pipeline-harness.js';
import { eventually } from './erp-scenario.js';
import { dec } from '../../sinks/testing.js';

// The real pipeline builds the live read models from fixture records; `rebuild` re-consumes the canonical topics
// into shadow collections while that pipeline keeps running, diffs them against the live ones, and swaps one in.

const config = isolatedPipelineConfig();
const kafka = kafkaFor(config);
const mongo = new MongoClient(config.mongodb.uri);
const sourceTopics = config.source.tables.map((table) => sourceTopic(config.source, table));
const canonicalTopics = [config.topics.inventory, config.topics.order];
let pipeline: RunningPipeline | undefined;
let second = 0;

const LIVE = {
  inventory_availability: ['inventory_availability', 'inventory_availability_by_sku'],
  order_view: ['order_view'],
} as const;

/** A report writer, silent progress and a clock that names each rebuild's collections after the next second. */
function testIo(lines: string[], beforeSwap?: () => Promise<void>): RebuildIo {
  return {
    write: (line) => lines.push(line),
    progress: silentProgress,
    logger: pino({ level: 'silent' }),
    now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, ++second)),
    ...(beforeSwap === undefined ? {} : { beforeSwap }),
  };
}

function db() {
  return mongo.db(config.mongodb.database);
}

async function documents(collection: string): Promise<Document[]> {
  return db().collection(collection).find().sort({ _id: 1 }).toArray();
}

/** A document without the fields a rebuild writes differently by design: when, and by which build. */
function withoutRunFields(document: Document): Document {
  const copy = structuredClone(document);
  if (copy['_meta'] !== undefined) {
    delete copy['_meta'].appliedAt;
    delete copy['_meta'].pipelineVersion;
  }
  return copy;
}

/** One stock change of TSHIRT-ORG-BLK-M at WH-EAST after everything in inventory-burst.json, at a later LSN. */
function stockChange(startLsn: string, fromOnHand: string, toOnHand: string) {
  const row = (qty: string, modifiedAt: string) => ({
    Sku: 'TSHIRT-ORG-BLK-M',
    LocationCode: 'WH-EAST',
    QtyOnHand: qty,
    QtyAllocated: '12.000',
    SafetyStock: '50.000',
    LastCountedAt: '2025-11-20T07:30:00.0000000+01:00',
    ModifiedAt: modifiedAt,
  });
  return {
    name: `stock change to ${toOnHand}`,
    raw: {
      server: 'erp',
      database: 'ErpDemo',
      startLsn,
      changes: [
        {
          table: 'dbo.InventoryBalance',
          op: 'u',
          before: row(fromOnHand, '2025-11-27T08:00:55.000000000'),
          after: row(toOnHand, '2025-11-27T09:00:00.000000000'),
        },
      ],
    },
  };
}

/** The quantities of a location document as decimal strings, as documents before Decimal128 stored them. */
function legacyQuantities(document: Document): Record<string, string> {
  return Object.fromEntries(QUANTITY_FIELDS.map((field) => [field, decimalText(document[field], field)]));
}

async function onHandOf(collection: string, id: string): Promise<unknown> {
  return (
    await db()
      .collection(collection)
      .findOne({ _id: id as never })
  )?.['onHand'];
}

describe('cdc-sync rebuild: blue/green rebuild of a read model while the pipeline runs', () => {
  beforeAll(async () => {
    await produceFixtures(config, ['test/fixtures/erp/order-lifecycle.json', 'test/fixtures/erp/inventory-burst.json']);
    pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }));
    await waitCaughtUp(kafka, config.transform.groupId, sourceTopics);
    await waitCaughtUpTransactional(kafka, config.sink.groupId, canonicalTopics);
    await mongo.connect();
  });

  afterAll(async () => {
    await pipeline?.stop();
    await db()
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  });

  it.each(['inventory_availability', 'order_view'] as const)(
    'rebuilds %s into shadows equal to the live collections, with their indexes',
    async (model) => {
      const lines: string[] = [];
      const result = await rebuildReadModel(config, model, { swap: false, keepShadow: true }, testIo(lines));

      expect(result.collections.map((collection) => collection.live)).toEqual(LIVE[model]);
      expect(result.keptShadows).toEqual(result.collections.map((collection) => collection.shadow));
      expect(result.rebuild.rejected).toBe(0);
      expect(result.rebuild.applied).toBeGreaterThan(0);
      for (const [i, collection] of result.collections.entries()) {
        const live = await documents(collection.live);
        const shadow = await documents(collection.shadow);
        expect(live.length).toBeGreaterThan(0);
        expect(result.diffs[i]).toEqual({
          expected: { collection: collection.shadow, documents: live.length },
          actual: { collection: collection.live, documents: live.length },
          identical: live.length,
          missing: 0,
          extra: 0,
          different: 0,
          samples: [],
        });
        expect(shadow.map(withoutRunFields)).toEqual(live.map(withoutRunFields));
        expect(await indexNames(db(), collection.shadow)).toEqual(await indexNames(db(), collection.live));
        await db().dropCollection(collection.shadow);
      }
      expect(lines).toContain(
        `Kept the shadow collections: ${result.collections.map((collection) => collection.shadow).join(', ')}`,
      );
    },
  );

  it('reports exactly a difference injected into the live collection, and drops the shadows', async () => {
    const live = db().collection('inventory_availability');
    const before = await documents('inventory_availability');
    await live.updateOne(
      { _id: 'COFFEE-ESP-BULK@WH-EAST' as never },
      { $set: { onHand: dec('999.000'), lowStock: true } },
    );
    await live.deleteOne({ _id: 'ROPE-DYN-10MM@WH-EAST' as never });
    await live.insertOne({ ...before[0]!, _id: 'ZZ-NOT-IN-ERP@WH-EAST' } as never);
    // A document as sinks wrote it before quantities were Decimal128: the same values, as decimal strings.
    const legacy = before.find((document) => document['_id'] === 'COFFEE-ESP-BULK@ST-DOWNTOWN')!;
    await live.updateOne({ _id: legacy['_id'] as never }, { $set: legacyQuantities(legacy) });

    const lines: string[] = [];
    const result = await rebuildReadModel(
      config,
      'inventory_availability',
      { swap: false, keepShadow: false },
      testIo(lines),
    );

    expect(result.diffs[0]).toMatchObject({
      identical: before.length - 3,
      missing: 1,
      extra: 1,
      different: 2,
      samples: [
        {
          kind: 'different',
          id: 'COFFEE-ESP-BULK@ST-DOWNTOWN',
          paths: ['available', 'onHand', 'reserved', 'safetyStock'],
        },
        { kind: 'different', id: 'COFFEE-ESP-BULK@WH-EAST', paths: ['lowStock', 'onHand'] },
        { kind: 'missing', id: 'ROPE-DYN-10MM@WH-EAST', paths: [] },
        { kind: 'extra', id: 'ZZ-NOT-IN-ERP@WH-EAST', paths: [] },
      ],
    });
    expect(result.diffs[1]).toMatchObject({ missing: 0, extra: 0, different: 0 });
    expect(result.collections.map((collection) => collection.live)).toEqual(LIVE.inventory_availability);
    const [byLocation] = result.collections;
    expect(lines).toEqual(
      expect.arrayContaining([
        `Diff of ${byLocation!.shadow} (rebuilt, ${before.length} documents) against inventory_availability ` +
          `(live, ${before.length} documents), ignoring _meta.appliedAt and _meta.pipelineVersion: ` +
          `${before.length - 3} identical, 1 missing in live, 1 extra in live, 2 different`,
        '  different: COFFEE-ESP-BULK@ST-DOWNTOWN (available, onHand, reserved, safetyStock)',
        '  different: COFFEE-ESP-BULK@WH-EAST (lowStock, onHand)',
        '  missing in live: ROPE-DYN-10MM@WH-EAST',
        '  extra in live: ZZ-NOT-IN-ERP@WH-EAST',
      ]),
    );
    for (const collection of result.collections) expect(await collectionExists(db(), collection.shadow)).toBe(false);
  });

  it('swaps the rebuilt collections in, keeps the old ones as backups, and catches up what the pipeline applied meanwhile', async () => {
    const lines: string[] = [];
    const oldLive: Record<string, Document[]> = {};
    const beforeSwap = async () => {
      // An event after the rebuild's stop offsets: the running pipeline applies it to the old live collection.
      await produceFixtures(config, [stockChange('00000100:00000100:0001', '597.000', '700.000')]);
      await eventually(async () =>
        expect(await onHandOf('inventory_availability', 'TSHIRT-ORG-BLK-M@WH-EAST')).toEqual(dec('700.000')),
      );
      for (const name of LIVE.inventory_availability) oldLive[name] = await documents(name);
    };
    const result = await rebuildReadModel(
      config,
      'inventory_availability',
      { swap: true, keepShadow: false },
      testIo(lines, beforeSwap),
    );

    // Both collections of the model, so that the checks per collection below check each of them.
    expect(result.collections.map((collection) => collection.live)).toEqual(LIVE.inventory_availability);
    expect(Object.keys(oldLive)).toEqual(LIVE.inventory_availability);
    expect(result.swap?.collections.map(({ live, backup, steps }) => ({ live, backup, steps }))).toEqual(
      result.collections.map(({ live, backup, shadow }) => ({
        live,
        backup,
        steps: [
          { kind: 'copy', from: live, to: backup },
          { kind: 'rename', from: shadow, to: live, dropTarget: true },
        ],
      })),
    );
    expect(result.swap?.collections.map(({ live, backup }) => ({ live, backup }))).toEqual(
      result.collections.map(({ live, backup }) => ({ live, backup })),
    );
    // The one event the live pipeline applied to the old collection after the rebuild's stop offsets: the catch-up
    // reads from exactly those offsets, and that event is the only record there.
    expect(result.swap?.catchUp.ranges.map(({ topic, partition, start }) => ({ topic, partition, start }))).toEqual(
      result.rebuild.ranges.map(({ topic, partition, stop }) => ({ topic, partition, start: stop })),
    );
    expect(result.swap?.catchUp.records).toBe(1);
    expect(result.swap?.catchUp.applied).toBe(1);
    for (const collection of result.collections) {
      expect(lines).toContain(`Renaming ${collection.shadow} to ${collection.live} (dropTarget, atomic)`);
    }

    for (const collection of result.collections) {
      // The backup is the old live collection as it was, the injected differences included.
      expect(await documents(collection.backup)).toEqual(oldLive[collection.live]);
      expect(await collectionExists(db(), collection.shadow)).toBe(false);
    }
    expect(await indexNames(db(), 'inventory_availability')).toEqual([
      '_id_',
      'lowStock_1__id_1',
      'oversold_1__id_1',
      'sku_1',
    ]);
    const live = await documents('inventory_availability');
    expect(live.map((document) => document['_id'])).not.toContain('ZZ-NOT-IN-ERP@WH-EAST');
    // The swap migrated the document with string decimals the diff test left in the old live collection.
    const migrated = live.find((document) => document['_id'] === 'COFFEE-ESP-BULK@ST-DOWNTOWN')!;
    expect(QUANTITY_FIELDS.map((field) => migrated[field] instanceof Decimal128)).toEqual([true, true, true, true]);
    expect(legacyQuantities(migrated)).toEqual(
      legacyQuantities(
        oldLive['inventory_availability']!.find((document) => document['_id'] === 'COFFEE-ESP-BULK@ST-DOWNTOWN')!,
      ),
    );
    expect(live.find((document) => document['_id'] === 'ROPE-DYN-10MM@WH-EAST')?.['onHand']).toEqual(dec('1315.000'));
    expect(live.find((document) => document['_id'] === 'COFFEE-ESP-BULK@WH-EAST')?.['onHand']).toEqual(dec('250.250'));
    expect(live.find((document) => document['_id'] === 'TSHIRT-ORG-BLK-M@WH-EAST')?.['onHand']).toEqual(dec('700.000'));
    const bySku = await db()
      .collection('inventory_availability_by_sku')
      .findOne({ _id: 'TSHIRT-ORG-BLK-M' as never });
    expect(bySku?.['locations']['WH-EAST']['onHand']).toEqual(dec('700.000'));

    // The pipeline keeps running on the swapped-in collection.
    await produceFixtures(config, [stockChange('00000200:00000100:0001', '700.000', '701.000')]);
    await eventually(async () =>
      expect(await onHandOf('inventory_availability', 'TSHIRT-ORG-BLK-M@WH-EAST')).toEqual(dec('701.000')),
    );

    // And a fresh rebuild of everything the topics hold now finds nothing to change.
    await waitCaughtUpTransactional(kafka, config.sink.groupId, canonicalTopics);
    const check = await rebuildReadModel(
      config,
      'inventory_availability',
      { swap: false, keepShadow: false },
      testIo([]),
    );
    expect(check.diffs.map(({ missing, extra, different }) => ({ missing, extra, different }))).toEqual(
      LIVE.inventory_availability.map(() => ({ missing: 0, extra: 0, different: 0 })),
    );
  });

  it('swaps order_view in with its backup equal to the old live collection', async () => {
    const old = await documents('order_view');
    const result = await rebuildReadModel(config, 'order_view', { swap: true, keepShadow: false }, testIo([]));
    const [collection] = result.collections;
    expect(result.diffs[0]).toMatchObject({ identical: old.length, missing: 0, extra: 0, different: 0 });
    expect(await documents(collection!.backup)).toEqual(old);
    expect((await documents('order_view')).map(withoutRunFields)).toEqual(old.map(withoutRunFields));
    expect(await indexNames(db(), 'order_view')).toEqual([
      '_id_',
      'customerId_1',
      'stalled_awaiting_payment_or_shipment',
      'stalled_awaiting_refund',
      'status_1',
      'trackingNumbers_1',
    ]);
    expect(result.swap?.catchUp.applied).toBe(0);
  });
});
