import { type Db, type Filter, type Sort } from 'mongodb';
import { parseWithSchema } from '../../core/config.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { type ReadModelsReport, type StockRow } from '../dashboard/dashboard.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import {
  type InventoryAvailabilityDocument,
  inventoryAvailabilityConfigSchema,
  quantityTexts,
} from '../../sinks/mongo/inventory-availability.js';
import { orderViewConfigSchema } from '../../sinks/mongo/order-view.js';
import { findStalledOrders } from './stalled-orders.js';

/**
 * The read-model queries of the ops dashboard (`/api/read-models`): low-stock
 * and oversold locations of `inventory_availability`, stalled orders of
 * `order_view`, and document counts.
 */

/** How many rows each list holds at most; counts are exact. */
export const OPS_LIST_LIMIT = 50;

/** The dashboard's read-model queries against one database. */
export type OpsQueries = {
  /**
   * What the read models say at `now`. Throws a `SinkWriteError` (retriable
   * when MongoDB is unreachable) for a failed query, and a `DecodeError` for
   * an order whose business timestamp is not a date.
   */
  readModels(now: Date): Promise<ReadModelsReport>;
};

/**
 * Creates the queries for the collections the config gives the sinks
 * (`sinks.inventory_availability.collection`, `sinks.order_view.collection`)
 * and the `stalled` thresholds; a disabled sink's section is left out.
 * Throws a `ConfigError` for an invalid sink setting, naming its key path.
 */
export function createOpsQueries(
  db: Db,
  config: PipelineConfig,
  origin = 'the pipeline config',
  limit = OPS_LIST_LIMIT,
): OpsQueries {
  const inventorySettings = config.sinks['inventory_availability'];
  const orderSettings = config.sinks['order_view'];
  const inventory =
    inventorySettings === false
      ? undefined
      : parseWithSchema(
          inventoryAvailabilityConfigSchema,
          inventorySettings ?? {},
          ['sinks', 'inventory_availability'],
          origin,
        ).collection;
  const orders =
    orderSettings === false
      ? undefined
      : parseWithSchema(orderViewConfigSchema, orderSettings ?? {}, ['sinks', 'order_view'], origin).collection;

  return {
    async readModels(now) {
      const [inventorySection, ordersSection] = await Promise.all([
        inventory === undefined ? undefined : readInventory(db, inventory, limit),
        orders === undefined ? undefined : readOrders(db, orders, config.stalled, now, limit),
      ]);
      return {
        asOf: now.toISOString(),
        ...(inventorySection === undefined ? {} : { inventory: inventorySection }),
        ...(ordersSection === undefined ? {} : { orders: ordersSection }),
      };
    },
  };
}

/**
 * The dashboard's read-model source for a database that connects later (the
 * pipeline's ops server starts before MongoDB): resolves undefined until
 * `db()` returns one, then queries it with {@link createOpsQueries}.
 */
export function createReadModelsSource(
  db: () => Db | undefined,
  config: PipelineConfig,
  origin = 'the pipeline config',
): () => Promise<ReadModelsReport | undefined> {
  let queries: { readonly db: Db; readonly queries: OpsQueries } | undefined;
  return async () => {
    const current = db();
    if (current === undefined) return undefined;
    if (queries?.db !== current) queries = { db: current, queries: createOpsQueries(current, config, origin) };
    return queries.queries.readModels(new Date());
  };
}

/** The flags the dashboard lists locations by. */
export type StockFlag = 'lowStock' | 'oversold';

/**
 * The dashboard's list of flagged locations, in `_id` order; the `{flag: 1, _id: 1}` indexes of
 * `INVENTORY_AVAILABILITY_INDEXES` serve both the filter and the order, so neither a scan nor a sort is needed.
 * Counts use the same filter. Document totals come from the collection's metadata (`estimatedDocumentCount`).
 */
export function flaggedLocationsQuery(flag: StockFlag): {
  readonly filter: Filter<InventoryAvailabilityDocument>;
  readonly sort: Sort;
} {
  return { filter: { [flag]: true }, sort: { _id: 1 } };
}

async function readInventory(
  db: Db,
  collection: string,
  limit: number,
): Promise<NonNullable<ReadModelsReport['inventory']>> {
  const locations = db.collection<InventoryAvailabilityDocument>(collection);
  const list = async (flag: StockFlag) => {
    const { filter, sort } = flaggedLocationsQuery(flag);
    return (await locations.find(filter).sort(sort).limit(limit).toArray()).map((document) =>
      stockRow(document, collection),
    );
  };
  try {
    const [documents, lowStockCount, oversoldCount, lowStock, oversold] = await Promise.all([
      locations.estimatedDocumentCount(),
      locations.countDocuments(flaggedLocationsQuery('lowStock').filter),
      locations.countDocuments(flaggedLocationsQuery('oversold').filter),
      list('lowStock'),
      list('oversold'),
    ]);
    return { collection, documents, lowStockCount, oversoldCount, lowStock, oversold };
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: 'find', collection }) ?? error;
  }
}

async function readOrders(
  db: Db,
  collection: string,
  thresholds: PipelineConfig['stalled'],
  now: Date,
  limit: number,
): Promise<NonNullable<ReadModelsReport['orders']>> {
  let documents: number;
  try {
    documents = await db.collection(collection).estimatedDocumentCount();
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: 'estimatedDocumentCount', collection }) ?? error;
  }
  const stalled = await findStalledOrders(db, { collection, thresholds, now, limit });
  return { collection, documents, stalled, stalledLimit: limit };
}

function stockRow(document: InventoryAvailabilityDocument, collection: string): StockRow {
  return {
    sku: document.sku,
    location: document.location,
    ...quantityTexts(document, `${collection} ${document._id}`),
  };
}
