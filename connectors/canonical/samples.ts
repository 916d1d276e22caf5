import { createHash } from 'node:crypto';
import { type CanonicalEvent, type CanonicalEventType, type EventMeta } from '../../core/canonical.js';

/**
 * One fully populated example of every canonical event type: every field
 * set, nullable ones to a value. Tests round-trip them through the codec and
 * the registry; they also show what the events look like.
 */
export const CANONICAL_SAMPLES: { readonly [K in CanonicalEventType]: CanonicalEvent<K> } = {
  StockLevelChanged: {
    meta: meta('StockLevelChanged', 'SKU-1001@WH-EAST', 'erp.ErpDemo.dbo.InventoryBalance'),
    payload: {
      sku: 'SKU-1001',
      location: 'WH-EAST',
      onHand: '120.000',
      reserved: '12.500',
      safetyStock: '10.000',
      available: '97.500',
      removed: false,
    },
  },
  OrderAccepted: {
    meta: meta('OrderAccepted', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderHeader'),
    payload: {
      orderNumber: 'SO-10042',
      customerId: 'C-77',
      customerEmail: 'ada@example.com',
      channel: 'WEB',
      status: 'ACCEPTED',
      erpStatus: 'A',
      currency: 'EUR',
      orderTotal: '1234.5600',
      placedAt: '2024-03-01T10:15:00',
      milestone: 'accepted',
      milestoneAt: '2024-03-01T10:16:00-08:00',
    },
  },
  OrderStatusChanged: {
    meta: meta('OrderStatusChanged', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderHeader'),
    payload: {
      orderNumber: 'SO-10042',
      fromStatus: 'ACCEPTED',
      toStatus: 'PICKING',
      fromErpStatus: 'A',
      toErpStatus: 'P',
      milestone: 'shipped',
      milestoneAt: '2024-03-02T09:00:00-08:00',
    },
  },
  OrderCancelled: {
    meta: meta('OrderCancelled', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderHeader'),
    payload: { orderNumber: 'SO-10042', fromStatus: 'PICKING' },
  },
  OrderDeleted: {
    meta: meta('OrderDeleted', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderHeader'),
    payload: { orderNumber: 'SO-10042' },
  },
  OrderLineChanged: {
    meta: meta('OrderLineChanged', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderLine'),
    payload: {
      orderNumber: 'SO-10042',
      lineNo: 2,
      sku: 'SKU-1001',
      quantity: '3.000',
      unitPrice: '-19.9900',
      lineStatus: 'OPEN',
      location: 'WH-EAST',
      removed: false,
    },
  },
  PaymentCaptured: {
    meta: meta('PaymentCaptured', 'SO-10042', 'erp.ErpDemo.dbo.PaymentTransaction'),
    payload: {
      orderNumber: 'SO-10042',
      paymentId: 'PAY-9001',
      amount: '1234.5600',
      currency: 'EUR',
      pspReference: 'psp_3NQ8xk',
      capturedAt: '2024-03-01T10:16:30',
    },
  },
  ShipmentDispatched: {
    meta: meta('ShipmentDispatched', 'SO-10042', 'erp.ErpDemo.dbo.Shipment'),
    payload: {
      orderNumber: 'SO-10042',
      shipmentId: 'SH-501',
      carrier: 'DHL',
      trackingNumber: '00340434161094042557',
      location: 'WH-EAST',
      shippedAt: '2024-03-02T08:00:00',
    },
  },
  ReturnReceived: {
    meta: meta('ReturnReceived', 'SO-10042', 'erp.ErpDemo.dbo.ReturnAuthorization'),
    payload: { orderNumber: 'SO-10042', rmaNumber: 'RMA-12', reason: 'Damaged in transit', receivedAt: '2024-03-09' },
  },
  RefundCompleted: {
    meta: meta('RefundCompleted', 'SO-10042', 'erp.ErpDemo.dbo.Refund'),
    payload: {
      orderNumber: 'SO-10042',
      refundId: 'RF-3',
      rmaNumber: 'RMA-12',
      amount: '19.9900',
      currency: 'EUR',
      completedAt: '2024-03-10T12:00:00',
    },
  },
  OrderHeaderChanged: {
    meta: meta('OrderHeaderChanged', 'SO-10042', 'erp.ErpDemo.dbo.SalesOrderHeader'),
    payload: {
      orderNumber: 'SO-10042',
      customerId: 'C-77',
      customerEmail: 'ada.lovelace@example.com',
      channel: 'WEB',
      currency: 'EUR',
      orderTotal: '1250.0600',
      placedAt: '2024-03-01T10:15:00',
    },
  },
};

function meta<K extends CanonicalEventType>(
  eventType: K,
  aggregateKey: string,
  sourceTable: string,
): EventMeta & { readonly eventType: K } {
  return {
    eventId: createHash('sha256').update(eventType).digest('hex').slice(0, 32),
    eventType,
    aggregateKey,
    sourceTable,
    sourcePosition: 'mssql:000000270000075800050000002700000758000500000001',
    // 2024-03-01T10:15:00.123Z, with milliseconds so that a lost fraction would show.
    sourceCommittedAt: 1_709_288_100_123,
    correlationId: '4f1c2b0e:7',
  };
}
