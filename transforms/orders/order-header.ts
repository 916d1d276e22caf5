import { type z } from 'zod';
import { ORDER_STATUS } from '../../core/canonical.js';
import { orderHeaderStage } from '../order-header-stage.js';
import { SAMPLE_ERP_ORDER_NUMBER } from '../sample-erp.js';

/**
 * `SalesOrderHeader` changes → order lifecycle events, keyed by order number: an {@link orderHeaderStage} over the
 * sample ERP's columns.
 *
 * - insert or snapshot read → `OrderAccepted` with the mapped status (an order
 *   inserted already cancelled is accepted with status `CANCELLED`, no `OrderCancelled`);
 * - update whose `StatusCode` differs between `before` and `after` →
 *   `OrderStatusChanged`, plus `OrderCancelled` when it moves from a code not in
 *   `cancelledCodes` to one in it. The transition is read from before → after,
 *   never from `after` alone: a replayed or reordered `after` cannot fake one;
 * - update where any header field of the canonical payload (customer, e-mail,
 *   channel, currency, total, placement time) differs between `before` and
 *   `after` → `OrderHeaderChanged` with the whole header of `after`; after the
 *   status events when the same update also moves the status. Values are
 *   compared as the canonical event carries them (codes trimmed, money at
 *   scale 4), so padding or scale alone is no change;
 * - update that changes neither `StatusCode` nor a header field (`ModifiedAt`,
 *   `RowGuid`, columns outside the canonical header) → skip;
 * - update without a before image → fail (the source must log full before
 *   images). The after image alone would make a complete `OrderHeaderChanged`,
 *   but emitting only that would silently drop a status transition the same
 *   update may carry; failing dead-letters the record visibly instead;
 * - delete → `OrderDeleted`;
 * - truncate, message → skip. Tombstones never reach the stage (the runner drops them).
 *
 * A `StatusCode` missing from `statusMap` fails, naming the code, the order and the config key.
 */
export const orderHeader = orderHeaderStage({
  name: 'order_header',
  summary:
    'SalesOrderHeader rows become OrderAccepted, OrderHeaderChanged, OrderStatusChanged, OrderCancelled and OrderDeleted',
  table: 'dbo.SalesOrderHeader',
  orderNumber: SAMPLE_ERP_ORDER_NUMBER,
  columns: {
    status: 'StatusCode',
    customerId: 'CustomerId',
    customerEmail: 'CustomerEmail',
    channel: 'Channel',
    currency: 'CurrencyCode',
    total: 'OrderTotal',
    placedAt: 'PlacedAt',
  },
  statusMap: {
    NW: ORDER_STATUS.pending,
    AC: ORDER_STATUS.accepted,
    PK: ORDER_STATUS.picking,
    SH: ORDER_STATUS.shipped,
    CL: ORDER_STATUS.closed,
    CX: ORDER_STATUS.cancelled,
  },
});

/**
 * How the ERP's `StatusCode` values map onto canonical order statuses. Every
 * code mapped to `CANCELLED` must be listed in `cancelledCodes` and the other
 * way round, so `OrderStatusChanged` and `OrderCancelled` never disagree.
 */
export const orderHeaderConfigSchema = orderHeader.configSchema;

/** The parsed order_header config: a status map and the cancelled codes, consistent with each other. */
export type OrderHeaderConfig = z.output<typeof orderHeaderConfigSchema>;
