import { describe, expect, it } from 'vitest';
import { OP } from '../core/envelope.js';
import { canonicalEvent, eventMeta } from './event-meta.js';
import { changeOf, COMMITTED_AT, POSITION, TRANSACTION_ID } from './testing.js';

const balance = { Sku: 'MUG-STONE-350', LocationCode: 'ST-AIRPORT', QtyOnHand: '36.000' };

describe('eventMeta', () => {
  it('derives every field from the change', () => {
    const change = changeOf('InventoryBalance', OP.update, { before: balance, after: balance });
    expect(eventMeta(change, 'StockLevelChanged', 'MUG-STONE-350@ST-AIRPORT')).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventType: 'StockLevelChanged',
      aggregateKey: 'MUG-STONE-350@ST-AIRPORT',
      sourceTable: 'erp.ErpDemo.dbo.InventoryBalance',
      sourcePosition: POSITION,
      sourceCommittedAt: COMMITTED_AT,
      correlationId: TRANSACTION_ID,
    });
  });

  it('correlates by table and position when the connector sends no transaction metadata', () => {
    const change = changeOf('InventoryBalance', OP.create, { after: balance, transaction: null });
    expect(eventMeta(change, 'StockLevelChanged', 'MUG-STONE-350@ST-AIRPORT').correlationId).toBe(
      `erp.ErpDemo.dbo.InventoryBalance@${POSITION}`,
    );
  });

  it('takes the commit time from the source, not from when Debezium processed the change', () => {
    const change = changeOf('InventoryBalance', OP.create, { after: balance, committedAt: 1_700_000_000_123 });
    expect(change.tsMs).not.toBe(1_700_000_000_123);
    expect(eventMeta(change, 'StockLevelChanged', 'MUG-STONE-350@ST-AIRPORT').sourceCommittedAt).toBe(
      1_700_000_000_123,
    );
  });

  it('gives a replayed change the same id and each event type its own', () => {
    const change = changeOf('SalesOrderHeader', OP.update, { key: { OrderNumber: 'SO-1001' } });
    const id = (type: 'OrderStatusChanged' | 'OrderCancelled') => eventMeta(change, type, 'SO-1001').eventId;
    expect(eventMeta(structuredClone(change), 'OrderStatusChanged', 'SO-1001').eventId).toBe(id('OrderStatusChanged'));
    expect(id('OrderCancelled')).not.toBe(id('OrderStatusChanged'));
  });
});

describe('canonicalEvent', () => {
  it('pairs the meta with the payload as given', () => {
    const change = changeOf('SalesOrderHeader', OP.delete, { before: { OrderNumber: 'SO-1001' } });
    expect(canonicalEvent(change, 'OrderDeleted', 'SO-1001', { orderNumber: 'SO-1001' })).toEqual({
      meta: eventMeta(change, 'OrderDeleted', 'SO-1001'),
      payload: { orderNumber: 'SO-1001' },
    });
  });
});
