import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../../core/canonical.js';
import {
  canonicalAt,
  dec,
  expectedSkuEntry,
  expectedMeta,
  orderAccepted,
  stockLevelChanged,
  testSinkContext,
} from '../testing.js';
import {
  availabilityDocument,
  inventoryAvailabilityConfigSchema,
  mergeLocations,
  type SkuLocationEntry,
  skuDocument,
  stockEventProblem,
} from './inventory-availability.js';

const ctx = testSinkContext();

function level(at: number, onHand: string, reserved: string, safetyStock: string, removed = false) {
  return stockLevelChanged(at, { sku: 'SKU-A', location: 'WH-1', onHand, reserved, safetyStock, removed });
}

const entryOf = (event: CanonicalEvent<'StockLevelChanged'>): SkuLocationEntry => expectedSkuEntry(event);

describe('inventory_availability config', () => {
  it('defaults to a low-stock threshold of 0 and locks where the server needs them', () => {
    expect(inventoryAvailabilityConfigSchema.parse({})).toEqual({
      collection: 'inventory_availability',
      bySkuCollection: 'inventory_availability_by_sku',
      lowStockThreshold: '0.000',
    });
  });

  it('refuses a threshold that is not a decimal string', () => {
    expect(inventoryAvailabilityConfigSchema.safeParse({ lowStockThreshold: 5 }).success).toBe(false);
    expect(inventoryAvailabilityConfigSchema.safeParse({ lowStockThreshold: '5,0' }).success).toBe(false);
  });
});

describe('availabilityDocument', () => {
  it.each([
    [
      'plenty',
      level(1, '20.000', '5.000', '2.000'),
      '0.000',
      { available: dec('13.000'), lowStock: false, oversold: false },
    ],
    [
      'down to the safety stock',
      level(1, '7.000', '5.000', '2.000'),
      '0.000',
      { available: dec('0.000'), lowStock: true, oversold: false },
    ],
    [
      'into the safety stock',
      level(1, '6.000', '5.000', '2.000'),
      '0.000',
      { available: dec('-1.000'), lowStock: true, oversold: true },
    ],
    [
      'at a higher threshold',
      level(1, '12.000', '5.000', '2.000'),
      '5.000',
      { available: dec('5.000'), lowStock: true, oversold: false },
    ],
    [
      'removed',
      level(1, '1.000', '5.000', '2.000', true),
      '0.000',
      { available: dec('-6.000'), lowStock: false, oversold: false },
    ],
  ])('flags a balance %s', (_label, event, threshold, flags) => {
    expect(availabilityDocument(event, threshold, ctx)).toMatchObject(flags);
  });

  it('is the whole document, quantities at scale 3, with the event as _meta', () => {
    const event = level(3, '12.5', '0', '1.25');
    expect(availabilityDocument(event, '0.000', ctx)).toEqual({
      _id: 'SKU-A@WH-1',
      sku: 'SKU-A',
      location: 'WH-1',
      onHand: dec('12.500'),
      reserved: dec('0.000'),
      safetyStock: dec('1.250'),
      available: dec('11.250'),
      lowStock: false,
      oversold: false,
      removed: false,
      _meta: expectedMeta(event),
    });
  });
});

describe('skuDocument', () => {
  it('sums the locations not removed exactly and takes _meta from the newest entry', () => {
    const wh1 = level(10, '0.100', '0.000', '0.000');
    const wh2 = stockLevelChanged(12, {
      sku: 'SKU-A',
      location: 'WH-2',
      onHand: '0.200',
      reserved: '0.100',
      safetyStock: '0.000',
    });
    const gone = stockLevelChanged(11, {
      sku: 'SKU-A',
      location: 'WH-3',
      onHand: '50.000',
      reserved: '0.000',
      safetyStock: '0.000',
      removed: true,
    });
    const locations = { 'WH-1': entryOf(wh1), 'WH-2': entryOf(wh2), 'WH-3': entryOf(gone) };

    expect(skuDocument('SKU-A', locations, ctx)).toEqual({
      _id: 'SKU-A',
      sku: 'SKU-A',
      locations,
      locationCount: 3,
      totals: { onHand: dec('0.300'), reserved: dec('0.100'), safetyStock: dec('0.000'), available: dec('0.200') },
      _meta: expectedMeta(wh2),
    });
  });

  it('rewrites entries stored with decimal strings as Decimal128', () => {
    const stored = entryOf(level(10, '2.000', '1.000', '0.000'));
    const legacy = { ...stored, onHand: '2.000', reserved: '1.000', safetyStock: '0.000', available: '1.000' };
    const document = skuDocument('SKU-A', { 'WH-1': legacy as unknown as SkuLocationEntry }, ctx);
    expect(document.locations).toEqual({ 'WH-1': stored });
    expect(document.totals).toEqual({
      onHand: dec('2.000'),
      reserved: dec('1.000'),
      safetyStock: dec('0.000'),
      available: dec('1.000'),
    });
  });

  it('names the entry and field of a stored quantity that is no decimal', () => {
    const stored = { ...entryOf(level(10, '2.000', '1.000', '0.000')), reserved: dec('NaN') };
    expect(() => skuDocument('SKU-A', { 'WH-1': stored }, ctx)).toThrow(
      'Invalid stored decimal "NaN" in locations.WH-1.reserved',
    );
  });
});

describe('mergeLocations', () => {
  const stored = { 'WH-1': entryOf(level(10, '5.000', '0.000', '0.000')) };

  it('takes a newer entry and a new location', () => {
    const newer = entryOf(level(11, '6.000', '0.000', '0.000'));
    const other = entryOf(
      stockLevelChanged(9, {
        sku: 'SKU-A',
        location: 'WH-2',
        onHand: '1.000',
        reserved: '0.000',
        safetyStock: '0.000',
      }),
    );
    expect(
      mergeLocations(
        stored,
        new Map([
          ['WH-1', newer],
          ['WH-2', other],
        ]),
      ),
    ).toEqual({ 'WH-1': newer, 'WH-2': other });
  });

  it('has nothing to merge when every entry is as old or older', () => {
    expect(mergeLocations(stored, new Map([['WH-1', entryOf(level(10, '5.000', '0.000', '0.000'))]]))).toBeUndefined();
    expect(mergeLocations(stored, new Map([['WH-1', entryOf(level(9, '1.000', '0.000', '0.000'))]]))).toBeUndefined();
  });
});

describe('stockEventProblem', () => {
  const good = level(1, '1.000', '0.000', '0.000');

  it.each([
    ['an order event', orderAccepted(1, 'SO-1'), 'Unexpected event type OrderAccepted'],
    ['an empty sku', { ...good, payload: { ...good.payload, sku: '' } }, 'Missing sku'],
    [
      'no location',
      { ...good, payload: { ...good.payload, location: undefined as unknown as string } },
      'Missing location',
    ],
    [
      'a float quantity',
      { ...good, payload: { ...good.payload, reserved: 0.5 as unknown as string } },
      'Invalid decimal 0.5 in reserved',
    ],
    ['an exponent', { ...good, payload: { ...good.payload, available: '1e3' } }, 'Invalid decimal "1e3" in available'],
    [
      'a malformed position',
      { ...good, meta: { ...good.meta, sourcePosition: 'lsn-7' } },
      'Invalid source position "lsn-7"',
    ],
    [
      'a removed flag that is not a boolean',
      canonicalAt(1, 'StockLevelChanged', 'SKU-A@WH-1', { ...good.payload, removed: 'yes' as unknown as boolean }),
      'Invalid removed "yes"',
    ],
  ])('rejects %s', (_label, event, problem) => {
    expect(stockEventProblem(event as CanonicalEvent)).toBe(problem);
  });

  it('accepts a well-formed StockLevelChanged', () => {
    expect(stockEventProblem(good)).toBeUndefined();
  });
});
