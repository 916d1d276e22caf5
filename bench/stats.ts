/**
 * The arithmetic of the benchmark's figures, kept apart from the measuring so
 * that it is tested on its own.
 */

/**
 * The nearest-rank percentile (`q` in [0, 1]) of `values`: the smallest value
 * such that at least `q` of all values are at or below it. Undefined for no
 * values; throws a `RangeError` for `q` outside [0, 1].
 *
 * @see https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method
 */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Percentile must be within [0, 1], got ${q}`);
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** Events per second over a wall-clock span in milliseconds; 0 for an empty span. */
export function eventsPerSecond(events: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : (events * 1_000) / elapsedMs;
}

/** CPU seconds scaled to one million events. */
export function cpuSecondsPerMillion(cpuSeconds: number, events: number): number {
  return events <= 0 ? 0 : (cpuSeconds * 1_000_000) / events;
}

/** `a / b`, or undefined when either is missing or `b` is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | undefined {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return undefined;
  return a / b;
}

/** Rounds for the report: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

/** Per-name differences `after − before`; names missing from `before` count from 0. */
export function difference(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]));
}
