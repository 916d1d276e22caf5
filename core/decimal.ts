import Big from 'big.js';
import { type DecimalString } from './canonical.js';

/** Scales used by canonical events: quantities have 3 decimals, money 4. */
export const SCALE = { quantity: 3, money: 4 } as const;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** True for a plain decimal string such as `"12.500"` or `"-3"`; no exponent, no spaces. */
export function isDecimalString(value: unknown): value is DecimalString {
  return typeof value === 'string' && DECIMAL.test(value);
}

/**
 * Parses a decimal string exactly. Throws a `RangeError` naming the value and
 * the field it came from when it is not a plain decimal.
 */
export function parseDecimal(value: unknown, field: string): Big {
  if (!isDecimalString(value)) throw new RangeError(`Invalid decimal ${JSON.stringify(value)} in ${field}`);
  return new Big(value);
}

/** Formats with exactly `scale` decimals, rounding half-even only if the value has more. */
export function formatDecimal(value: Big, scale: number): DecimalString {
  return value.round(scale, Big.roundHalfEven).toFixed(scale);
}

/** `a − b − c …` with exact arithmetic, formatted to `scale`. */
export function subtractDecimals(
  scale: number,
  first: DecimalString,
  ...rest: readonly DecimalString[]
): DecimalString {
  let result = parseDecimal(first, 'minuend');
  for (const [i, value] of rest.entries()) result = result.minus(parseDecimal(value, `subtrahend ${i + 1}`));
  return formatDecimal(result, scale);
}

/** The exact sum, formatted to `scale`; `"0"` at that scale for no values. */
export function sumDecimals(scale: number, values: readonly DecimalString[]): DecimalString {
  return formatDecimal(
    values.reduce((sum, value, i) => sum.plus(parseDecimal(value, `addend ${i + 1}`)), new Big(0)),
    scale,
  );
}

/** Compares two decimal strings numerically: negative, zero or positive. */
export function compareDecimals(a: DecimalString, b: DecimalString): number {
  return parseDecimal(a, 'left operand').cmp(parseDecimal(b, 'right operand'));
}
