import { describe, expect, it } from 'vitest';
import { ORDER_STATUS } from '../../core/canonical.js';
import { SinkWriteError } from '../../core/errors.js';
import { canonicalAt, orderAccepted, positionAt, stockLevelChanged } from '../testing.js';
import { eventVersion, fieldKey, invalidEvent, metaProblem, storedNewerThan, storedOlderThan } from './guard.js';

const level = { sku: 'SKU-A', location: 'WH-1', onHand: '1.000', reserved: '0.000', safetyStock: '0.000' };

describe('eventVersion', () => {
  it('orders events by source position', () => {
    const versions = [9, 10, 255, 256, 70_000].map((at) => eventVersion(stockLevelChanged(at, level)));
    expect([...versions].reverse().sort()).toEqual(versions);
  });

  it('gives a duplicate the same version', () => {
    expect(eventVersion(structuredClone(orderAccepted(5, 'SO-1')))).toBe(eventVersion(orderAccepted(5, 'SO-1')));
  });

  it('lets OrderStatusChanged beat the OrderCancelled of the same change', () => {
    const changed = canonicalAt(7, 'OrderStatusChanged', 'SO-1', {
      orderNumber: 'SO-1',
      fromStatus: ORDER_STATUS.accepted,
      toStatus: ORDER_STATUS.cancelled,
      fromErpStatus: 'A',
      toErpStatus: 'X',
    });
    const cancelled = canonicalAt(7, 'OrderCancelled', 'SO-1', {
      orderNumber: 'SO-1',
      fromStatus: ORDER_STATUS.accepted,
    });
    const later = canonicalAt(8, 'OrderCancelled', 'SO-1', { orderNumber: 'SO-1', fromStatus: ORDER_STATUS.accepted });

    expect(eventVersion(cancelled) < eventVersion(changed)).toBe(true);
    expect(eventVersion(changed) < eventVersion(later)).toBe(true);
    expect(eventVersion(changed)).toBe(`${positionAt(7)}/2`);
  });
});

describe('guard filters', () => {
  it('match an older or missing version for "newest wins", a newer or missing one for "earliest wins"', () => {
    expect(storedOlderThan('lines.1.source.version', 'v2')).toEqual({
      'lines.1.source.version': { $not: { $gte: 'v2' } },
    });
    expect(storedNewerThan('milestones.shipped.source.version', 'v2')).toEqual({
      'milestones.shipped.source.version': { $not: { $lte: 'v2' } },
    });
  });
});

describe('fieldKey', () => {
  it.each([
    ['PAY-1', 'PAY-1'],
    ['WH.1', 'WH%2E1'],
    ['$where', '%24where'],
    ['100%', '100%25'],
    ['WH%2E1', 'WH%252E1'],
    ['a\0b', 'a%00b'],
  ])('escapes %j as %j', (id, key) => {
    expect(fieldKey(id)).toBe(key);
  });
});

describe('metaProblem', () => {
  const good = stockLevelChanged(1, level);

  it.each([
    [
      'a position of another shape',
      { sourcePosition: '00000027:00000758:0005' },
      'Invalid source position "00000027:00000758:0005"',
    ],
    ['an empty event id', { eventId: '' }, 'Missing event id'],
    ['a commit time that is not a number', { sourceCommittedAt: Number.NaN }, 'Invalid sourceCommittedAt null'],
  ])('finds %s', (_label, meta, problem) => {
    expect(metaProblem({ ...good, meta: { ...good.meta, ...meta } })).toBe(problem);
  });

  it('finds nothing wrong with a well-formed event', () => {
    expect(metaProblem(good)).toBeUndefined();
  });

  it('words the rejection with the event and where it came from', () => {
    const error = invalidEvent('inventory_availability', good, 'Missing sku');
    expect(error).toBeInstanceOf(SinkWriteError);
    expect(error.retriable).toBe(false);
    expect(error.message).toBe(
      `Missing sku of StockLevelChanged ${good.meta.eventId} from erp.ErpDemo.dbo.InventoryBalance@${positionAt(1)} (sink inventory_availability)`,
    );
  });
});
