import { Decimal128 } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { decimalText, sameDecimal128, toDecimal128 } from './decimal128.js';

describe('toDecimal128 and decimalText', () => {
  it.each(['12.500', '0.000', '-3.250', '1250.5000', '99999999999999.9999', '0.0001'])(
    'round-trips %s with its digits and scale',
    (text) => {
      const stored = toDecimal128(text);
      expect(stored).toBeInstanceOf(Decimal128);
      expect(decimalText(stored, 'onHand')).toBe(text);
    },
  );

  it('takes a decimal string, as documents stored before Decimal128 hold it', () => {
    expect(decimalText('7.000', 'onHand')).toBe('7.000');
  });

  it('expands a Decimal128 written with an exponent by another writer', () => {
    expect(decimalText(Decimal128.fromString('1.20E+3'), 'onHand')).toBe('1200');
    expect(decimalText(Decimal128.fromString('1E-7'), 'onHand')).toBe('0.0000001');
  });

  it.each([
    [Decimal128.fromString('NaN'), 'Invalid stored decimal "NaN" in locations.WH-1.onHand'],
    [Decimal128.fromString('-Infinity'), 'Invalid stored decimal "-Infinity" in locations.WH-1.onHand'],
    [12.5, 'Invalid stored decimal "12.5" in locations.WH-1.onHand'],
    [null, 'Invalid stored decimal "null" in locations.WH-1.onHand'],
  ])('names the field of %s, which is no decimal', (value, message) => {
    expect(() => decimalText(value, 'locations.WH-1.onHand')).toThrow(new RangeError(message));
  });
});

describe('sameDecimal128', () => {
  it('compares values, not representations', () => {
    expect(sameDecimal128(toDecimal128('12.5'), toDecimal128('12.500'))).toBe(true);
    expect(sameDecimal128(toDecimal128('0.300'), toDecimal128('0.3000000000000000000000000000000001'))).toBe(false);
    expect(sameDecimal128(Decimal128.fromString('NaN'), Decimal128.fromString('NaN'))).toBe(true);
    expect(sameDecimal128(Decimal128.fromString('NaN'), toDecimal128('0'))).toBe(false);
  });
});
