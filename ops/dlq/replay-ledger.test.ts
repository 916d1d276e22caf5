import { describe, expect, it } from 'vitest';
import {
  advanceLedger,
  formatLedgerMetadata,
  isHandled,
  LEDGER_METADATA_MAX_CHARS,
  parseLedger,
  type ReplayLedger,
} from './replay-ledger.js';

// Offsets 0..9 hold dead letters except 4 and 8, which are transaction markers.
const read = (start: bigint, end = 10n) => ({
  start,
  end,
  offsets: [0n, 1n, 2n, 3n, 5n, 6n, 7n, 9n].filter((offset) => offset >= start && offset < end),
});
const ledger = (watermark: bigint, handled: [bigint, bigint][] = []): ReplayLedger => ({ watermark, handled });

describe('the replay ledger', () => {
  it.each([
    ['no commit yet', undefined, null, ledger(0n)],
    ['a commit without metadata', '7', null, ledger(7n)],
    [
      'a commit with ranges',
      '3',
      '{"v":1,"handled":[["6","7"],["9","9"]]}',
      ledger(3n, [
        [6n, 7n],
        [9n, 9n],
      ]),
    ],
    ['ranges below the watermark dropped', '7', '{"v":1,"handled":[["2","3"],["6","9"]]}', ledger(7n, [[7n, 9n]])],
    ['metadata of another tool', '5', 'consumer note', ledger(5n)],
    ['malformed ranges', '5', '{"handled":[["6"],["x","9"],[7,8]]}', ledger(5n)],
  ])('parses %s', (_case, offset, metadata, expected) => {
    expect(parseLedger(offset, metadata)).toEqual(expected);
  });

  it('knows what was handled', () => {
    const state = ledger(3n, [[6n, 7n]]);
    expect([0n, 1n, 2n, 3n, 5n, 6n, 7n, 9n].filter((offset) => isHandled(state, offset))).toEqual([0n, 1n, 2n, 6n, 7n]);
  });

  it('moves the watermark to the end when everything read was handled', () => {
    expect(advanceLedger(ledger(0n), read(0n), new Set([0n, 1n, 2n, 3n, 5n, 6n, 7n, 9n]))).toEqual(ledger(10n));
  });

  it('stops the watermark at the first pending dead letter and keeps what was handled beyond it as ranges', () => {
    // A filtered replay handled 0, 1, 5, 6 and 9; 2, 3 and 7 were not selected.
    expect(advanceLedger(ledger(0n), read(0n), new Set([0n, 1n, 5n, 6n, 9n]))).toEqual(
      ledger(2n, [
        [5n, 6n],
        [9n, 9n],
      ]),
    );
  });

  it('spans transaction markers between consecutive handled records', () => {
    // 3 and 5 are consecutive records (4 is a marker), so they make one range.
    expect(advanceLedger(ledger(0n), read(0n), new Set([3n, 5n, 6n]))).toEqual(ledger(0n, [[3n, 6n]]));
  });

  it('lets a later replay close the gaps and move over the earlier ranges', () => {
    const first = advanceLedger(ledger(0n), read(0n), new Set([0n, 1n, 5n, 6n, 9n]));
    const second = advanceLedger(first, read(2n), new Set([2n, 3n, 7n]));
    expect(second).toEqual(ledger(10n));
  });

  it('keeps the watermark where it is when the read started above it', () => {
    expect(advanceLedger(ledger(2n), read(5n), new Set([5n, 6n, 7n, 9n]))).toEqual(ledger(2n, [[5n, 9n]]));
  });

  it('moves the watermark over records below the read start that a forced re-read handled again', () => {
    // --from-offset 0 with the watermark at 5: everything from 5 on is handled now.
    expect(advanceLedger(ledger(5n), read(0n), new Set([0n, 1n, 5n, 6n, 7n, 9n]))).toEqual(ledger(10n));
  });

  it('never moves the watermark back', () => {
    expect(advanceLedger(ledger(10n), read(0n, 10n), new Set())).toEqual(ledger(10n));
  });

  it('round-trips through the commit metadata', () => {
    const state = ledger(2n, [
      [5n, 6n],
      [9n, 9n],
    ]);
    const { metadata, dropped } = formatLedgerMetadata(state);
    expect(metadata).toBe('{"v":1,"handled":[["5","6"],["9","9"]]}');
    expect(dropped).toBe(0);
    expect(parseLedger('2', metadata)).toEqual(state);
  });

  it('drops the highest ranges when the metadata would outgrow Kafka’s limit', () => {
    const many = ledger(
      0n,
      Array.from({ length: 400 }, (_, i): [bigint, bigint] => [BigInt(i * 10), BigInt(i * 10)]),
    );
    const { metadata, dropped } = formatLedgerMetadata(many);
    expect(metadata.length).toBeLessThanOrEqual(LEDGER_METADATA_MAX_CHARS);
    const kept = parseLedger('0', metadata).handled;
    expect(kept.length + dropped).toBe(400);
    expect(kept[0]).toEqual([0n, 0n]);
    expect(kept.at(-1)).toEqual([BigInt((kept.length - 1) * 10), BigInt((kept.length - 1) * 10)]);
  });
});
