import { type Db, type Filter } from 'mongodb';
import { type BalanceKey, type ReconcileView, type ViewBalance, type ViewOrder } from './reconcile.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import { decimalText } from '../../sinks/mongo/decimal128.js';
import { type InventoryAvailabilityDocument } from '../../sinks/mongo/inventory-availability.js';
import { type OrderViewDocument } from '../../sinks/mongo/order-view.js';

/** The read model collections a reconciliation reads; null skips that side (its sink is disabled). */
export type ReconcileViewCollections = {
  readonly availability: string | null;
  readonly orders: string | null;
};

/**
 * Reads `inventory_availability` and `order_view` for `ops/reconcile/reconcile.ts` in
 * keyset pages: balances sorted by `{sku, location}` (served by the `sku_1`
 * index), orders by `_id`. MongoDB compares strings by UTF-8 bytes, the
 * code point order the comparison merges in. Only the compared fields are
 * fetched. A page of a skipped collection is empty. Rejects with a
 * classified `SinkWriteError` (retriable for network failures).
 */
export function createReconcileView(db: Db, collections: ReconcileViewCollections): ReconcileView {
  return {
    description: `MongoDB database ${db.databaseName}`,
    async balancePage(after, limit) {
      if (collections.availability === null) return [];
      const name = collections.availability;
      const documents = await read(name, () =>
        db
          .collection<InventoryAvailabilityDocument>(name)
          .find(balancesAfter(after), {
            projection: { _id: 0, sku: 1, location: 1, onHand: 1, reserved: 1, safetyStock: 1, removed: 1 },
          })
          .sort({ sku: 1, location: 1 })
          .limit(limit)
          .toArray(),
      );
      return documents.map((document): ViewBalance => {
        const where = `${name} ${document.sku}@${document.location}`;
        return {
          sku: document.sku,
          location: document.location,
          onHand: decimalText(document.onHand, `${where}.onHand`),
          reserved: decimalText(document.reserved, `${where}.reserved`),
          safetyStock: decimalText(document.safetyStock, `${where}.safetyStock`),
          removed: document.removed === true,
        };
      });
    },
    async orderPage(after, limit) {
      if (collections.orders === null) return [];
      const name = collections.orders;
      const documents = await read(name, () =>
        db
          .collection<OrderViewDocument>(name)
          .find(after === undefined ? {} : { _id: { $gt: after } }, { projection: { status: 1, deleted: 1 } })
          .sort({ _id: 1 })
          .limit(limit)
          .toArray(),
      );
      return documents.map((document): ViewOrder => ({
        orderNumber: document._id,
        status: document.status ?? null,
        deleted: document.deleted === true,
      }));
    },
  };
}

/** Documents after `after` in `{sku, location}` order. */
function balancesAfter(after: BalanceKey | undefined): Filter<InventoryAvailabilityDocument> {
  if (after === undefined) return {};
  return { $or: [{ sku: { $gt: after.sku } }, { sku: after.sku, location: { $gt: after.location } }] };
}

async function read<T>(collection: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: 'reconcile read', collection }) ?? error;
  }
}
