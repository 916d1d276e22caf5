import { describe, expect, it } from 'vitest';
import { compareDecimals, isDecimalString, subtractDecimals, sumDecimals } from './decimal.js';

describe('decimal strings', () => {
  it.each([
    [['10.000', '3.000', '2.000'], '5.000'],
    [['0.100', '0.200'], '-0.100'],
    [['1', '0.0005'], '1.000'],
    [['1', '0.0015'], '0.998'],
    [['9007199254740993.001', '0.001'], '9007199254740993.000'],
  ])('subtracts %j exactly to %s', ([first, ...rest], expected) => {
    expect(subtractDecimals(3, first!, ...rest)).toBe(expected);
  });

  it('sums exactly, where floats would not', () => {
    expect(sumDecimals(4, ['0.1000', '0.2000'])).toBe('0.3000');
    expect(sumDecimals(3, [])).toBe('0.000');
  });

  it.each([
    ['1.50', '1.5', 0],
    ['-2', '1', -1],
    ['10.001', '10.000', 1],
  ])('compares %s with %s as %i', (a, b, expected) => {
    expect(compareDecimals(a, b)).toBe(expected);
  });

  it.each(['1e3', ' 1', '1.', '.5', 'NaN', '', '--1'])('rejects %j naming the field', (bad) => {
    expect(isDecimalString(bad)).toBe(false);
    expect(() => subtractDecimals(3, '1', bad)).toThrow(
      new RangeError(`Invalid decimal ${JSON.stringify(bad)} in subtrahend 1`),
    );
  });
});
