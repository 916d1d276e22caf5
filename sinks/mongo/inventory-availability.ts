import { type AnyBulkWriteOperation, type Decimal128, type IndexDescription } from 'mongodb';
import { z } from 'zod';
import { type CanonicalEvent, type DecimalString, type InventoryEvent } from '../../core/canonical.js';
import {
  compareDecimals,
  formatDecimal,
  isDecimalString,
  parseDecimal,
  SCALE,
  sumDecimals,
} from '../../core/decimal.js';
import { SinkWriteError } from '../../core/errors.js';
import { type Sink, type SinkContext, type SinkWriteOutcome } from '../../core/sink.js';
import { bulkWriteIdempotent, findByIds } from './bulk.js';
import { ensureIndexes } from './connect.js';
import { decimalText, toDecimal128 } from './decimal128.js';
import { type MongoSinkContext, type SinkDefinition } from './definition.js';
import {
  eventVersion,
  fieldKey,
  invalidEvent,
  metaProblem,
  projectionMeta,
  type ProjectionMeta,
  type SourceStamp,
  sourceStamp,
  storedOlderThan,
} from './guard.js';
import { Rejections } from './write-outcome.js';

export const inventoryAvailabilityConfigSchema = z.object({
  collection: z
    .string()
    .min(1)
    .default('inventory_availability')
    .describe('Collection with one document per SKU and location, _id "sku@location"'),
  bySkuCollection: z
    .string()
    .min(1)
    .default('inventory_availability_by_sku')
    .describe('Collection with one document per SKU: its locations and exact totals'),
  lowStockThreshold: z
    .string()
    .refine(isDecimalString, { message: 'Expected a decimal string such as "0.000"' })
    .default('0.000')
    .describe(
      'A location is low on stock when its available quantity is at or below this. Available already ' +
        'excludes reserved and safety stock, so the default 0 means "into the safety buffer or worse"',
    ),
});

export type InventoryAvailabilityConfig = z.output<typeof inventoryAvailabilityConfigSchema>;

/**
 * `inventory_availability`: what commerce reads to promise stock.
 *
 * One document per SKU and location ({@link InventoryAvailabilityDocument}),
 * written whole by one guarded update, so a reader always sees one event's
 * complete state; and one document per SKU ({@link SkuAvailabilityDocument})
 * with every location's entry (each guarded by its own version) and exact
 * totals over the locations not removed.
 *
 * A removed balance row (`removed: true`) stays as a tombstone: quantities as
 * last known, `removed: true`, both flags false, its version kept, so a late
 * older update is stale and never resurrects it. A newer update (the ERP
 * re-created the row) does bring it back.
 */
export const inventoryAvailability = {
  name: 'inventory_availability',
  summary: 'StockLevelChanged becomes availability per SKU and location (low stock, oversold) and exact totals per SKU',
  input: ['StockLevelChanged'],
  requirements: { idempotent: true, keyed: false },
  configSchema: inventoryAvailabilityConfigSchema,
  create: createInventoryAvailabilitySink,
} as const satisfies SinkDefinition<typeof inventoryAvailabilityConfigSchema>;

/** A created `inventory_availability` sink. */
export type InventoryAvailabilitySink = Sink;

/** The quantity fields of the read model. */
export const QUANTITY_FIELDS = ['onHand', 'reserved', 'safetyStock', 'available'] as const;

export type QuantityField = (typeof QUANTITY_FIELDS)[number];

/** Quantities as stored: `Decimal128` with 3 decimals, so MongoDB compares and sums them exactly. */
export type StoredQuantities = Readonly<Record<QuantityField, Decimal128>>;

/** Availability at one SKU and location. */
export type InventoryAvailabilityDocument = StoredQuantities & {
  readonly _id: string;
  readonly sku: string;
  readonly location: string;
  /** `available` is `onHand − reserved − safetyStock`, as the ERP change reported it. */
  /** `available ≤ lowStockThreshold`, and not removed. */
  readonly lowStock: boolean;
  /** `available < 0`, and not removed. */
  readonly oversold: boolean;
  readonly removed: boolean;
  /** The guard is `_meta.version`. */
  readonly _meta: ProjectionMeta;
};

/** One location inside a {@link SkuAvailabilityDocument}; guarded by `source.version`. */
export type SkuLocationEntry = StoredQuantities & {
  readonly location: string;
  readonly removed: boolean;
  readonly source: SourceStamp;
};

/** Availability of one SKU over all its locations. */
export type SkuAvailabilityDocument = {
  readonly _id: string;
  readonly sku: string;
  /** By location, the key escaped with `fieldKey` (`.` and `$` are not allowed in field names). */
  readonly locations: Readonly<Record<string, SkuLocationEntry>>;
  /** Entries in `locations`, removed ones included; part of the compare-and-set. */
  readonly locationCount: number;
  /** Exact sums over the locations not removed. */
  readonly totals: StoredQuantities;
  /** The newest location entry's source. */
  readonly _meta: ProjectionMeta;
};

/**
 * The indexes commerce reads by: all locations of a SKU, and the low-stock and oversold lists in `_id` (SKU, then
 * location) order, which the ops dashboard reads too.
 */
export const INVENTORY_AVAILABILITY_INDEXES: readonly IndexDescription[] = [
  { key: { sku: 1 }, name: 'sku_1' },
  { key: { lowStock: 1, _id: 1 }, name: 'lowStock_1__id_1' },
  { key: { oversold: 1, _id: 1 }, name: 'oversold_1__id_1' },
];

/** Compare-and-set rounds per SKU document before giving up retriably; each lost round means another writer won one. */
const MAX_ROLLUP_ROUNDS = 20;

/**
 * Creates the sink: ensures {@link INVENTORY_AVAILABILITY_INDEXES}. `write`:
 *
 * 1. rejects events it can never apply (bad position, decimal or key);
 * 2. keeps the newest event per SKU and location of the batch, then per
 *    document an `$setOnInsert` upsert of the whole document (creates new
 *    ones, a no-op otherwise) and a guarded `$set` of the whole document
 *    (`_meta.version` older than the event's), both idempotent;
 * 3. merges each SKU's newest entries into its SKU document with
 *    compare-and-set on the stored entries' versions and `locationCount`,
 *    totals recomputed exactly in TypeScript, re-reading and retrying on a
 *    lost race until every entry of the batch is in. (An update pipeline
 *    could sum in the server, but not every MongoDB-wire server has one.)
 *
 * `applied` counts events that changed their location document; the rest
 * are `stale`. Resolves after MongoDB acknowledged every write.
 */
export async function createInventoryAvailabilitySink(
  config: InventoryAvailabilityConfig,
  ctx: MongoSinkContext,
): Promise<InventoryAvailabilitySink> {
  const name = inventoryAvailability.name;
  const byLocation = ctx.db.collection<InventoryAvailabilityDocument>(config.collection);
  const bySku = ctx.db.collection<SkuAvailabilityDocument>(config.bySkuCollection);
  await ensureIndexes(byLocation, INVENTORY_AVAILABILITY_INDEXES);

  async function writeLocations(events: readonly InventoryEvent[], rejected: Rejections): Promise<number> {
    const documents = events.map((event) => availabilityDocument(event, config.lowStockThreshold, ctx));
    const ensured = await bulkWriteIdempotent(
      byLocation,
      documents.map(({ _id, ...fields }) => ({
        updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true },
      })),
    );
    for (const [index, error] of ensured.refused) rejected.add(events[index]!, error);
    // Every document gets the guarded update: one the upsert just created holds this very version, so it
    // does not match, and which ones were created need not be known.
    const existing = documents.flatMap((document, index) =>
      ensured.refused.has(index) ? [] : [{ document, event: events[index]! }],
    );
    const updated = await bulkWriteIdempotent(
      byLocation,
      existing.map(({ document: { _id, ...fields } }) => ({
        updateOne: {
          filter: { _id, ...storedOlderThan('_meta.version', fields._meta.version) },
          update: { $set: fields },
        },
      })),
    );
    for (const [index, error] of updated.refused) rejected.add(existing[index]!.event, error);
    return ensured.upserted + updated.matched;
  }

  /** Merges the batch's entries into the SKU documents; resolves to the merges redone after losing a round. */
  async function writeSkus(skus: readonly SkuBatch[], rejected: Rejections): Promise<number> {
    const pending = new Map(skus.map((batch) => [batch.sku, batch]));
    let redone = 0;
    for (let round = 1; pending.size > 0; round++) {
      if (round > MAX_ROLLUP_ROUNDS) {
        throw new SinkWriteError(
          `Gave up merging SKU ${[...pending.keys()][0]} into ${config.bySkuCollection} after ` +
            `${MAX_ROLLUP_ROUNDS} contended rounds`,
          { retriable: true, stage: name },
        );
      }
      const stored = new Map((await findByIds(bySku, [...pending.keys()])).map((document) => [document._id, document]));
      const writes: {
        batch: SkuBatch;
        upsert: boolean;
        operation: AnyBulkWriteOperation<SkuAvailabilityDocument>;
      }[] = [];
      for (const batch of pending.values()) {
        const current = stored.get(batch.sku);
        if (current === undefined) {
          const { _id, ...fields } = skuDocument(batch.sku, Object.fromEntries(batch.entries), ctx);
          writes.push({
            batch,
            upsert: true,
            operation: { updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true } },
          });
          continue;
        }
        const merged = mergeLocations(current.locations, batch.entries);
        if (merged === undefined) {
          pending.delete(batch.sku);
          continue;
        }
        const { _id, ...fields } = skuDocument(batch.sku, merged, ctx);
        const unchanged = Object.fromEntries(
          Object.entries(current.locations).map(([key, entry]) => [
            `locations.${key}.source.version`,
            entry.source.version,
          ]),
        );
        writes.push({
          batch,
          upsert: false,
          operation: {
            updateOne: {
              filter: { _id, locationCount: current.locationCount, ...unchanged },
              update: { $set: fields },
            },
          },
        });
      }
      if (round > 1) redone += writes.length;
      const outcome = await bulkWriteIdempotent(
        bySku,
        writes.map((write) => write.operation),
      );
      for (const [index, error] of outcome.refused) {
        const { batch } = writes[index]!;
        for (const event of batch.events) rejected.add(event, error);
        pending.delete(batch.sku);
      }
      // Every write took effect when each upsert inserted and each compare-and-set matched (an upsert that met an
      // existing document counts as matched instead): the batch's entries are all in, with no re-read. Otherwise
      // the next round re-reads every pending SKU: written ones then show the batch's entries and drop out, ones
      // another writer changed in between are merged again, and count as contention.
      const upserts = writes.filter((write) => write.upsert).length;
      if (outcome.refused.size === 0 && outcome.upserted === upserts && outcome.matched === writes.length - upserts) {
        pending.clear();
      }
    }
    return redone;
  }

  return {
    name,
    input: inventoryAvailability.input,
    requirements: inventoryAvailability.requirements,
    async write(events): Promise<SinkWriteOutcome> {
      const rejected = new Rejections();
      const valid: InventoryEvent[] = [];
      for (const event of events) {
        const problem = stockEventProblem(event);
        if (problem === undefined) valid.push(event as InventoryEvent);
        else rejected.add(event, invalidEvent(name, event, problem));
      }

      const newest = newestPerKey(valid, (event) => availabilityId(event));
      const applied = await writeLocations([...newest.values()], rejected);
      const contention = await writeSkus(skuBatches(valid.filter((event) => !rejected.has(event))), rejected);
      return rejected.outcome(events.length, applied, contention);
    },
  };
}

/** The per-location document an event describes; `_meta.appliedAt` is `ctx.now()`. */
export function availabilityDocument(
  event: InventoryEvent,
  lowStockThreshold: DecimalString,
  ctx: Pick<SinkContext, 'now' | 'pipelineVersion'>,
): InventoryAvailabilityDocument {
  const { sku, location, removed } = event.payload;
  const quantities = normalisedQuantities(event);
  return {
    _id: availabilityId(event),
    sku,
    location,
    ...storedQuantities(quantities),
    lowStock: !removed && compareDecimals(quantities.available, lowStockThreshold) <= 0,
    oversold: !removed && compareDecimals(quantities.available, '0') < 0,
    removed,
    _meta: projectionMeta(sourceStamp(event), ctx),
  };
}

/**
 * A SKU document from its location entries: exact totals over those not removed, `_meta` from the newest. Entries
 * stored before quantities were `Decimal128` (decimal strings) are rewritten as `Decimal128`.
 */
export function skuDocument(
  sku: string,
  locations: Readonly<Record<string, SkuLocationEntry>>,
  ctx: Pick<SinkContext, 'now' | 'pipelineVersion'>,
): SkuAvailabilityDocument {
  const texts = Object.entries(locations).map(([key, entry]) => ({
    key,
    entry,
    quantities: quantityTexts(entry, `locations.${key}`),
  }));
  const active = texts.filter(({ entry }) => !entry.removed);
  const total = (field: QuantityField) =>
    sumDecimals(
      SCALE.quantity,
      active.map(({ quantities }) => quantities[field]),
    );
  const newest = texts.reduce((a, b) => (b.entry.source.version > a.entry.source.version ? b : a)).entry;
  return {
    _id: sku,
    sku,
    locations: Object.fromEntries(
      texts.map(({ key, entry, quantities }) => [key, { ...entry, ...storedQuantities(quantities) }]),
    ),
    locationCount: texts.length,
    totals: storedQuantities({
      onHand: total('onHand'),
      reserved: total('reserved'),
      safetyStock: total('safetyStock'),
      available: total('available'),
    }),
    _meta: projectionMeta(newest.source, ctx),
  };
}

/** The stored quantities of a document or entry as decimal strings; `where` names it in errors. */
export function quantityTexts(
  stored: Readonly<Record<QuantityField, unknown>>,
  where: string,
): Record<QuantityField, DecimalString> {
  const text = (field: QuantityField) => decimalText(stored[field], `${where}.${field}`);
  return {
    onHand: text('onHand'),
    reserved: text('reserved'),
    safetyStock: text('safetyStock'),
    available: text('available'),
  };
}

function storedQuantities(quantities: Readonly<Record<QuantityField, DecimalString>>): StoredQuantities {
  return {
    onHand: toDecimal128(quantities.onHand),
    reserved: toDecimal128(quantities.reserved),
    safetyStock: toDecimal128(quantities.safetyStock),
    available: toDecimal128(quantities.available),
  };
}

/** What is wrong with an event for this sink, or `undefined`. */
export function stockEventProblem(event: CanonicalEvent): string | undefined {
  if (event.meta.eventType !== 'StockLevelChanged') return `Unexpected event type ${event.meta.eventType}`;
  const metaIssue = metaProblem(event);
  if (metaIssue !== undefined) return metaIssue;
  const { sku, location, removed } = (event as InventoryEvent).payload;
  if (typeof sku !== 'string' || sku === '') return `Missing sku`;
  if (typeof location !== 'string' || location === '') return `Missing location`;
  if (typeof removed !== 'boolean') return `Invalid removed ${JSON.stringify(removed)}`;
  for (const field of QUANTITY_FIELDS) {
    const value = (event as InventoryEvent).payload[field];
    if (!isDecimalString(value)) return `Invalid decimal ${JSON.stringify(value)} in ${field}`;
  }
  return undefined;
}

function availabilityId(event: InventoryEvent): string {
  return `${event.payload.sku}@${event.payload.location}`;
}

function normalisedQuantities(event: InventoryEvent): Record<QuantityField, DecimalString> {
  const quantity = (field: QuantityField) => formatDecimal(parseDecimal(event.payload[field], field), SCALE.quantity);
  return {
    onHand: quantity('onHand'),
    reserved: quantity('reserved'),
    safetyStock: quantity('safetyStock'),
    available: quantity('available'),
  };
}

function locationEntry(event: InventoryEvent): SkuLocationEntry {
  return {
    location: event.payload.location,
    ...storedQuantities(normalisedQuantities(event)),
    removed: event.payload.removed,
    source: sourceStamp(event),
  };
}

/** One SKU's newest entry per location in a batch, and every event behind them. */
type SkuBatch = {
  readonly sku: string;
  readonly entries: ReadonlyMap<string, SkuLocationEntry>;
  readonly events: readonly InventoryEvent[];
};

function skuBatches(events: readonly InventoryEvent[]): SkuBatch[] {
  const bySku = new Map<string, InventoryEvent[]>();
  for (const event of events) bySku.set(event.payload.sku, [...(bySku.get(event.payload.sku) ?? []), event]);
  return [...bySku].map(([sku, skuEvents]) => ({
    sku,
    events: skuEvents,
    entries: new Map(
      [...newestPerKey(skuEvents, (event) => fieldKey(event.payload.location))].map(([key, event]) => [
        key,
        locationEntry(event),
      ]),
    ),
  }));
}

/** The stored entries with the newer incoming ones merged in, or `undefined` when none is newer. */
export function mergeLocations(
  stored: Readonly<Record<string, SkuLocationEntry>>,
  incoming: ReadonlyMap<string, SkuLocationEntry>,
): Record<string, SkuLocationEntry> | undefined {
  let changed = false;
  const merged = { ...stored };
  for (const [key, entry] of incoming) {
    const current = stored[key];
    if (current === undefined || current.source.version < entry.source.version) {
      merged[key] = entry;
      changed = true;
    }
  }
  return changed ? merged : undefined;
}

/** The newest event per key; duplicates and older events of a key drop out (they count as stale). */
function newestPerKey<E extends InventoryEvent>(events: readonly E[], keyOf: (event: E) => string): Map<string, E> {
  const newest = new Map<string, E>();
  for (const event of events) {
    const key = keyOf(event);
    const current = newest.get(key);
    if (current === undefined || eventVersion(current) < eventVersion(event)) newest.set(key, event);
  }
  return newest;
}
