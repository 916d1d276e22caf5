import Big from 'big.js';
import { Decimal128 } from 'mongodb';
import { type DecimalString } from '../../core/canonical.js';
import { isDecimalString } from '../../core/decimal.js';

/**
 * Read-model decimals (quantities, amounts) are stored as BSON `Decimal128`, so
 * MongoDB compares, sorts and sums them as numbers (`{available: {$lt: …}}`,
 * `$sum`), exactly. The sinks compute with decimal strings (`core/decimal.ts`)
 * and convert at the document's edge, here.
 */

/** The decimal string as a `Decimal128` with the same digits and scale: `"12.500"` stays `12.500`. */
export function toDecimal128(value: DecimalString): Decimal128 {
  return Decimal128.fromString(value);
}

/**
 * A stored read-model decimal as a plain decimal string with its stored scale. Also takes a decimal string, the
 * form documents had before read models stored `Decimal128` (`cdc-sync rebuild --swap` migrates them). Throws a
 * `RangeError` naming the value and `field` for anything else, such as NaN or a value with an exponent.
 */
export function decimalText(value: unknown, field: string): DecimalString {
  const text = value instanceof Decimal128 ? value.toString() : value;
  if (isDecimalString(text)) return text;
  if (value instanceof Decimal128 && /^-?\d+(\.\d+)?E[+-]\d+$/i.test(value.toString())) {
    // Decimal128 prints an exponent for a positive one or very small values; Big expands it exactly.
    return new Big(value.toString()).toFixed() as DecimalString;
  }
  throw new RangeError(`Invalid stored decimal ${JSON.stringify(String(text))} in ${field}`);
}

/** Exact numeric equality of two `Decimal128` values: `12.5` equals `12.500`, as in MongoDB queries. */
export function sameDecimal128(a: Decimal128, b: Decimal128): boolean {
  try {
    return new Big(a.toString()).eq(new Big(b.toString()));
  } catch {
    // NaN and the infinities are not Big numbers; they are equal only to themselves.
    return a.toString() === b.toString();
  }
}
