/**
 * What `cdc-sync dlq replay` has dealt with, per partition of the
 * dead-letter topic, kept as the replay consumer group's committed offset
 * and its metadata. Committed in the same Kafka transaction as the replay's
 * outputs, so it moves exactly when they become visible.
 *
 * - `watermark`: every dead letter below it has been dealt with (replayed,
 *   or skipped for good: max attempts reached, superseded, unreadable);
 * - `handled`: offset ranges at or above the watermark dealt with too. A
 *   filtered replay (`--stage`, `--topic`, `--error-class`) leaves the dead
 *   letters it did not select pending; the watermark stops at the first of
 *   them, and what it replayed beyond goes here, so no later replay repeats it.
 */
export type ReplayLedger = {
  readonly watermark: bigint;
  /** Inclusive, sorted, non-overlapping ranges, all at or above `watermark`. */
  readonly handled: readonly (readonly [bigint, bigint])[];
};

/** Kafka's default `offset.metadata.max.bytes` is 4096; stay well below it. */
export const LEDGER_METADATA_MAX_CHARS = 3000;

const EMPTY: ReplayLedger = { watermark: 0n, handled: [] };

/**
 * The ledger of a committed offset and its metadata; no commit yet means
 * nothing handled. Metadata that is not a ledger (another tool's note)
 * counts as no ranges: at worst those dead letters are replayed again.
 */
export function parseLedger(offset: string | undefined, metadata: string | null): ReplayLedger {
  if (offset === undefined) return EMPTY;
  const watermark = BigInt(offset);
  let ranges: unknown;
  try {
    ranges = metadata === null || metadata === '' ? [] : (JSON.parse(metadata) as { handled?: unknown }).handled;
  } catch {
    ranges = [];
  }
  const handled = Array.isArray(ranges)
    ? ranges.flatMap((range: unknown) =>
        Array.isArray(range) &&
        range.length === 2 &&
        range.every((bound) => typeof bound === 'string' && /^\d+$/.test(bound))
          ? [[BigInt(range[0] as string), BigInt(range[1] as string)] as const]
          : [],
      )
    : [];
  return { watermark, handled: normalise(handled, watermark) };
}

/** Whether the dead letter at `offset` was dealt with. */
export function isHandled(ledger: ReplayLedger, offset: bigint): boolean {
  return offset < ledger.watermark || ledger.handled.some(([from, to]) => from <= offset && offset <= to);
}

/** One partition's read: its range, and the offsets of the records in it, ascending. */
export type LedgerRead = { readonly start: bigint; readonly end: bigint; readonly offsets: readonly bigint[] };

/**
 * The ledger after a replay dealt with `handledNow` (offsets of records in
 * `read`). The watermark moves over every record dealt with, up to the first
 * one still pending, or to the read's end; it can move only when the read
 * started at or below it, since records before the read are unknown. The
 * rest of `handledNow` becomes ranges of consecutive records.
 */
export function advanceLedger(ledger: ReplayLedger, read: LedgerRead, handledNow: ReadonlySet<bigint>): ReplayLedger {
  const done = (offset: bigint) => isHandled(ledger, offset) || handledNow.has(offset);
  let watermark = ledger.watermark;
  if (read.start <= ledger.watermark) {
    const pending = read.offsets.find((offset) => offset >= ledger.watermark && !done(offset));
    watermark = pending ?? (read.end > ledger.watermark ? read.end : ledger.watermark);
  }
  const ranges: [bigint, bigint][] = ledger.handled.map(([from, to]) => [from, to]);
  let run: [bigint, bigint] | undefined;
  for (const offset of read.offsets) {
    if (handledNow.has(offset)) {
      if (run === undefined) ranges.push((run = [offset, offset]));
      else run[1] = offset;
    } else if (!isHandled(ledger, offset)) {
      run = undefined;
    }
  }
  return { watermark, handled: normalise(ranges, watermark) };
}

/**
 * The metadata string of a ledger. Ranges past {@link LEDGER_METADATA_MAX_CHARS}
 * are dropped, highest first, and counted: their dead letters would be
 * replayed again, which the position guard makes harmless.
 */
export function formatLedgerMetadata(ledger: ReplayLedger): { readonly metadata: string; readonly dropped: number } {
  const ranges = ledger.handled.map(([from, to]) => [String(from), String(to)]);
  let dropped = 0;
  let metadata = JSON.stringify({ v: 1, handled: ranges });
  while (metadata.length > LEDGER_METADATA_MAX_CHARS) {
    ranges.pop();
    dropped++;
    metadata = JSON.stringify({ v: 1, handled: ranges });
  }
  return { metadata, dropped };
}

/** Sorted, merged where they overlap or touch, and clipped to start at the watermark. */
function normalise(ranges: readonly (readonly [bigint, bigint])[], watermark: bigint): [bigint, bigint][] {
  const clipped = ranges
    .filter(([from, to]) => from <= to && to >= watermark)
    .map(([from, to]): [bigint, bigint] => [from < watermark ? watermark : from, to])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const [from, to] of clipped) {
    const last = merged.at(-1);
    if (last !== undefined && from <= last[1] + 1n) last[1] = to > last[1] ? to : last[1];
    else merged.push([from, to]);
  }
  return merged;
}
