/**
 * Canonical business events: the contract between transforms and read models.
 *
 * The Avro schemas in `schemas/canonical/` are the source of truth; a test in
 * `connectors/canonical/` checks these types against them field by field.
 * Two topics carry them, each with one envelope record whose `event` field is
 * a union of the payload records, so adding an event type is a BACKWARD
 * compatible change:
 *
 * - `canonical.inventory.v1` — {@link InventoryEvent}, keyed by `sku@location`;
 * - `canonical.order.v1` — {@link OrderEvent}, keyed by the order number.
 *
 * Money and quantities are decimal strings with a fixed scale (quantities 3,
 * money 4), e.g. `"12.500"`, `"19.9900"`; never floats. Timestamps from the
 * ERP are ISO-8601 strings exactly as the source holds them.
 */

/** A decimal number as a string with its full scale, e.g. `"12.500"`. */
export type DecimalString = string;

/** Where an event came from and how it is identified; the same for every event type. */
export type EventMeta = {
  /**
   * Deterministic: derived from source table, key, position and event type,
   * so a replayed change yields the same id.
   */
  readonly eventId: string;
  readonly eventType: CanonicalEventType;
  /** `sku@location` for inventory, the order number for orders. */
  readonly aggregateKey: string;
  /** Debezium topic of the source table, e.g. `erp.ErpDemo.dbo.SalesOrderHeader`. */
  readonly sourceTable: string;
  /** The source position (see `core/position.ts`); the version read models guard on. */
  readonly sourcePosition: string;
  /** Source commit time, epoch milliseconds. */
  readonly sourceCommittedAt: number;
  /** Flows from the Debezium record (its transaction id, else table and position) into every projection's `_meta`. */
  readonly correlationId: string;
};

/** Canonical order status, mapped from the ERP's status codes by the order transforms. */
export const ORDER_STATUS = {
  pending: 'PENDING',
  accepted: 'ACCEPTED',
  picking: 'PICKING',
  shipped: 'SHIPPED',
  closed: 'CLOSED',
  cancelled: 'CANCELLED',
} as const;

export type OrderStatus = (typeof ORDER_STATUS)[keyof typeof ORDER_STATUS];

/**
 * The milestones of an order's timeline, in business order: the first time the order was accepted, paid, shipped,
 * had goods returned and was refunded. Read models record each once (the earliest event wins). Events of their own
 * set them (`OrderAccepted`, `PaymentCaptured`, `ShipmentDispatched`, `ReturnReceived`, `RefundCompleted`), and so
 * may a header status a profile declares, through `milestone` of {@link OrderAccepted} and
 * {@link OrderStatusChanged} (AdventureWorks ships from the header: status 5 sets `shipped`).
 */
export const ORDER_MILESTONES = ['accepted', 'paymentCaptured', 'shipped', 'returnReceived', 'refunded'] as const;

export type OrderMilestone = (typeof ORDER_MILESTONES)[number];

/**
 * The milestone an order status sets, as `OrderAccepted` and `OrderStatusChanged` carry it: its name and its business
 * time exactly as the ERP holds it. Absent (or null in decoded events) when the status sets none.
 */
export type StatusMilestoneFields = {
  /** The milestone the new status reached, e.g. `shipped`; null or absent when it sets none. */
  readonly milestone?: OrderMilestone | null;
  /** When it was reached (e.g. the header's ShipDate): ISO-8601 with offset; set exactly when `milestone` is. */
  readonly milestoneAt?: string | null;
};

/** Inventory at one SKU and location after a change. `available = onHand − reserved − safetyStock`. */
export type StockLevelChanged = {
  readonly sku: string;
  readonly location: string;
  readonly onHand: DecimalString;
  readonly reserved: DecimalString;
  readonly safetyStock: DecimalString;
  readonly available: DecimalString;
  /** True when the ERP deleted the balance row; the quantities are then the last known ones. */
  readonly removed: boolean;
};

/** An order entered the ERP (insert or initial snapshot). */
export type OrderAccepted = {
  readonly orderNumber: string;
  readonly customerId: string;
  readonly customerEmail: string | null;
  readonly channel: string;
  readonly status: OrderStatus;
  readonly erpStatus: string;
  readonly currency: string;
  readonly orderTotal: DecimalString;
  readonly placedAt: string;
} & StatusMilestoneFields;

/**
 * Header fields of an order changed after placement, without its status: the
 * whole header after the change (the fields of {@link OrderAccepted} minus
 * the status), so read models apply it like `OrderAccepted`'s header, newest
 * wins. A header update that also moves the status yields this beside
 * `OrderStatusChanged`.
 */
export type OrderHeaderChanged = {
  readonly orderNumber: string;
  readonly customerId: string;
  readonly customerEmail: string | null;
  readonly channel: string;
  readonly currency: string;
  readonly orderTotal: DecimalString;
  readonly placedAt: string;
};

/** The ERP status code changed, detected from `before` → `after`. */
export type OrderStatusChanged = {
  readonly orderNumber: string;
  readonly fromStatus: OrderStatus;
  readonly toStatus: OrderStatus;
  readonly fromErpStatus: string;
  readonly toErpStatus: string;
} & StatusMilestoneFields;

/** The order moved to the ERP's cancelled status. */
export type OrderCancelled = {
  readonly orderNumber: string;
  readonly fromStatus: OrderStatus;
};

/** The ERP deleted the order header; the order view marks the order deleted. */
export type OrderDeleted = {
  readonly orderNumber: string;
};

/** An order line was added, changed or deleted (`removed`). */
export type OrderLineChanged = {
  readonly orderNumber: string;
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: DecimalString;
  readonly unitPrice: DecimalString;
  readonly lineStatus: string;
  readonly location: string | null;
  readonly removed: boolean;
};

/** A capture transaction succeeded. */
export type PaymentCaptured = {
  readonly orderNumber: string;
  readonly paymentId: string;
  readonly amount: DecimalString;
  readonly currency: string;
  readonly pspReference: string | null;
  readonly capturedAt: string;
};

/** A shipment was marked shipped. */
export type ShipmentDispatched = {
  readonly orderNumber: string;
  readonly shipmentId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly location: string;
  readonly shippedAt: string;
};

/** A return authorisation was marked received. */
export type ReturnReceived = {
  readonly orderNumber: string;
  readonly rmaNumber: string;
  readonly reason: string | null;
  readonly receivedAt: string;
};

/** A refund was completed. */
export type RefundCompleted = {
  readonly orderNumber: string;
  readonly refundId: string;
  readonly rmaNumber: string | null;
  readonly amount: DecimalString;
  readonly currency: string;
  readonly completedAt: string;
};

/** Payload type by event type name; the names are the Avro record names. */
export type CanonicalPayloads = {
  readonly StockLevelChanged: StockLevelChanged;
  readonly OrderAccepted: OrderAccepted;
  readonly OrderStatusChanged: OrderStatusChanged;
  readonly OrderCancelled: OrderCancelled;
  readonly OrderDeleted: OrderDeleted;
  readonly OrderLineChanged: OrderLineChanged;
  readonly PaymentCaptured: PaymentCaptured;
  readonly ShipmentDispatched: ShipmentDispatched;
  readonly ReturnReceived: ReturnReceived;
  readonly RefundCompleted: RefundCompleted;
  readonly OrderHeaderChanged: OrderHeaderChanged;
};

export type CanonicalEventType = keyof CanonicalPayloads;

/** One canonical event: its meta and its typed payload. */
export type CanonicalEvent<T extends CanonicalEventType = CanonicalEventType> = {
  [K in T]: { readonly meta: EventMeta & { readonly eventType: K }; readonly payload: CanonicalPayloads[K] };
}[T];

/** Which topic family each event type belongs to. */
export const EVENT_STREAM = {
  StockLevelChanged: 'inventory',
  OrderAccepted: 'order',
  OrderStatusChanged: 'order',
  OrderCancelled: 'order',
  OrderDeleted: 'order',
  OrderLineChanged: 'order',
  PaymentCaptured: 'order',
  ShipmentDispatched: 'order',
  ReturnReceived: 'order',
  RefundCompleted: 'order',
  OrderHeaderChanged: 'order',
} as const satisfies Record<CanonicalEventType, 'inventory' | 'order'>;

export type EventStream = (typeof EVENT_STREAM)[CanonicalEventType];

/** The canonical topics by default, one per stream; see `schemas/README.md`. The config may rename them. */
export const CANONICAL_TOPICS = {
  inventory: 'canonical.inventory.v1',
  order: 'canonical.order.v1',
} as const satisfies Record<EventStream, string>;

export type InventoryEvent = CanonicalEvent<'StockLevelChanged'>;
export type OrderEvent = CanonicalEvent<Exclude<CanonicalEventType, 'StockLevelChanged'>>;
