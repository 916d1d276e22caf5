import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { COLUMN } from '../rows.js';
import { emitOnArrival } from '../transitions.js';

/** Which `Shipment.Status` means shipped, as the ERP spells it. */
export const shipmentDispatchedConfigSchema = z.strictObject({
  shippedStatus: z.string().min(1).default('SH').describe('Shipment.Status of a shipment that left the location'),
});

/** The parsed shipment_dispatched config, defaults applied. */
export type ShipmentDispatchedConfig = z.output<typeof shipmentDispatchedConfigSchema>;

/**
 * `Shipment` changes → `ShipmentDispatched`, keyed by order number.
 *
 * Emits when a shipment reaches `shippedStatus`: inserted (or snapshot-read)
 * already shipped, or updated from another status to it, judged from before →
 * after (see `arrivalAt`). Everything else skips with a reason; an update to
 * `shippedStatus` without a before image fails. Tombstones never reach the
 * stage (the runner drops them).
 *
 * A shipped shipment must have `Carrier`, `TrackingNumber` and `ShippedAt`
 * (nullable while packing): the canonical event requires them, so a shipped
 * row without them fails rather than publish a dispatch nobody can track.
 */
export const shipmentDispatched = defineStage({
  name: 'shipment_dispatched',
  summary: 'Shipment rows reaching SH become ShipmentDispatched',
  tables: ['dbo.Shipment'],
  output: ['ShipmentDispatched'],
  config: shipmentDispatchedConfigSchema,
  create(config, { name }) {
    const target = { column: 'Status', status: config.shippedStatus, eventType: 'ShipmentDispatched' } as const;
    return (change) =>
      emitOnArrival(change, target, name, SHIPMENT_COLUMNS, (shipment) => ({
        aggregateKey: shipment.OrderNumber,
        payload: {
          orderNumber: shipment.OrderNumber,
          shipmentId: shipment.ShipmentId,
          carrier: shipment.Carrier,
          trackingNumber: shipment.TrackingNumber,
          location: shipment.LocationCode,
          shippedAt: shipment.ShippedAt,
        },
      }));
  },
});

const SHIPMENT_COLUMNS = {
  ShipmentId: COLUMN.integerId,
  OrderNumber: COLUMN.identifier,
  LocationCode: COLUMN.identifier,
  Carrier: COLUMN.identifier,
  TrackingNumber: COLUMN.identifier,
  ShippedAt: COLUMN.timestamp,
} as const;
