import { type Db } from 'mongodb';
import { type InventoryAvailabilityDocument, quantityTexts } from './inventory-availability.js';
import { MILESTONES, type OrderViewDocument } from './order-view.js';

/** One line of inventory availability, as a person reads it. */
export type AvailabilityRow = {
  readonly sku: string;
  readonly location: string;
  readonly onHand: string;
  readonly reserved: string;
  readonly available: string;
  readonly flags: readonly string[];
};

/** One order, summarised from its view. */
export type OrderRow = {
  readonly orderNumber: string;
  readonly status: string;
  readonly lines: number;
  readonly payments: number;
  readonly shipments: number;
  readonly trackingNumbers: readonly string[];
  readonly milestones: readonly string[];
};

/** What the read models say now, in the default collections; for the demo and operators' terminals. */
export type ReadModelSnapshot = {
  readonly availability: readonly AvailabilityRow[];
  readonly orders: readonly OrderRow[];
};

/** Reads up to `limit` rows of each default read model, in key order. */
export async function readModelSnapshot(db: Db, limit = 20): Promise<ReadModelSnapshot> {
  const availability = await db
    .collection<InventoryAvailabilityDocument>('inventory_availability')
    .find()
    .sort({ _id: 1 })
    .limit(limit)
    .toArray();
  const orders = await db.collection<OrderViewDocument>('order_view').find().sort({ _id: 1 }).limit(limit).toArray();
  return {
    availability: availability.map((doc) => {
      const { onHand, reserved, available } = quantityTexts(doc, `inventory_availability ${doc._id}`);
      return {
        sku: doc.sku,
        location: doc.location,
        onHand,
        reserved,
        available,
        flags: [doc.removed && 'removed', doc.lowStock && 'low', doc.oversold && 'oversold'].filter(
          (flag): flag is string => typeof flag === 'string',
        ),
      };
    }),
    orders: orders.map((doc) => ({
      orderNumber: doc.orderNumber,
      status: doc.deleted ? 'DELETED' : (doc.status ?? 'UNKNOWN'),
      lines: Object.keys(doc.lines).length,
      payments: Object.keys(doc.payments).length,
      shipments: Object.keys(doc.shipments).length,
      trackingNumbers: doc.trackingNumbers,
      milestones: MILESTONES.filter((name) => doc.milestones[name] !== undefined),
    })),
  };
}
