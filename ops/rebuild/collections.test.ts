import { describe, expect, it } from 'vitest';
import { sinks } from '../../sinks/index.js';
import { planSwap, READ_MODEL_COLLECTION_KEYS, rebuildCollections, rebuildStamp } from './collections.js';

describe('rebuild collection names', () => {
  it('stamps names with the UTC time to the second', () => {
    expect(rebuildStamp(new Date('2025-11-27T09:05:07.123Z'))).toBe('20251127T090507Z');
  });

  it('shadows and backs up every collection of inventory_availability under its configured names', () => {
    const settings = sinks.inventory_availability.configSchema.parse({ bySkuCollection: 'stock_by_sku' });
    expect(rebuildCollections('inventory_availability', settings, '20251127T090507Z')).toEqual([
      {
        key: 'collection',
        live: 'inventory_availability',
        shadow: 'inventory_availability__rebuild_20251127T090507Z',
        backup: 'inventory_availability__backup_20251127T090507Z',
      },
      {
        key: 'bySkuCollection',
        live: 'stock_by_sku',
        shadow: 'stock_by_sku__rebuild_20251127T090507Z',
        backup: 'stock_by_sku__backup_20251127T090507Z',
      },
    ]);
  });

  it('knows the collections of every registered read model, each a string setting of its sink', () => {
    for (const name of Object.keys(sinks) as (keyof typeof sinks)[]) {
      const defaults = sinks[name].configSchema.parse({}) as Record<string, unknown>;
      for (const key of READ_MODEL_COLLECTION_KEYS[name]) expect(typeof defaults[key]).toBe('string');
    }
  });

  it('fails naming the sink and key when a config lacks a collection', () => {
    expect(() => rebuildCollections('order_view', {}, 'x')).toThrow(
      'Sink order_view has no collection name under config key collection',
    );
  });
});

describe('planSwap', () => {
  const collection = {
    key: 'collection',
    live: 'order_view',
    shadow: 'order_view__rebuild_X',
    backup: 'order_view__backup_X',
  };

  it('copies live to the backup and renames the shadow over live atomically', () => {
    expect(planSwap(collection, true)).toEqual([
      { kind: 'copy', from: 'order_view', to: 'order_view__backup_X' },
      { kind: 'rename', from: 'order_view__rebuild_X', to: 'order_view', dropTarget: true },
    ]);
  });

  it('only renames the shadow in when there is no live collection', () => {
    expect(planSwap(collection, false)).toEqual([
      { kind: 'rename', from: 'order_view__rebuild_X', to: 'order_view', dropTarget: false },
    ]);
  });
});
