import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { compareBsonValues } from './bson-values.js';

describe('compareBsonValues', () => {
  it.each([
    [1, 'a', -1],
    ['a', { a: 1 }, -1],
    [null, 0, -1],
    [BSON.Long.fromNumber(3), 2, 1],
    ['Z', 'a', -1],
    ['a', 'a', 0],
    // By UTF-8 bytes: U+00E9 (C3 A9) after "z" (7A).
    ['\u00e9', 'z', 1],
    [new Date(1), new Date(2), -1],
    [new BSON.ObjectId('0'.repeat(24)), new BSON.ObjectId('f'.repeat(24)), -1],
  ])('orders %o against %o as %i', (a, b, sign) => {
    expect(Math.sign(compareBsonValues(a, b))).toBe(sign);
  });
});
