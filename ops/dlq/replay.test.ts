import { describe, expect, it } from 'vitest';
import { SinkWriteError, TransformError } from '../../core/errors.js';
import { deadLetterFor, readDeadLetter, replayRecordOf } from '../../core/runner/dead-letter.js';
import { type SourceRecord } from '../../core/runner/ports.js';
import { type ReplayLedger } from './replay-ledger.js';
import { selectDeadLetters } from './replay.js';

const DLQ = 'cdc-sync.dlq';
const HEADER = 'erp.ErpDemo.dbo.SalesOrderHeader';
const LINE = 'erp.ErpDemo.dbo.SalesOrderLine';
const ORDERS = 'canonical.order.v1';
let nextOffset = 0;

/** A dead letter at the next offset of the dead-letter topic, as a reader consumes it. */
function deadLetter(
  topic: string,
  offset: string,
  stage: string,
  error: Error = new TransformError('Broken'),
  from?: SourceRecord,
): SourceRecord {
  const original: SourceRecord = from ?? {
    topic,
    partition: 0,
    offset,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    headers: {},
    timestamp: '0',
  };
  const output = deadLetterFor(original, DLQ, stage, error, new Date('2026-01-01T00:00:00Z'));
  return {
    topic: DLQ,
    partition: 0,
    offset: String(nextOffset++),
    key: output.key as Buffer,
    value: output.value,
    headers: { ...output.headers },
    timestamp: '0',
  };
}

/** The dead letter of a failed replay of `record`. */
function failedReplayOf(record: SourceRecord): SourceRecord {
  const replay = replayRecordOf(readDeadLetter(record));
  return deadLetter(replay.topic, replay.offset, 'order_header', new TransformError('Again'), replay);
}

const rules = {
  maxAttempts: 3,
  forced: false,
  ledgers: new Map<number, ReplayLedger>(),
  hasStage: (d: { stage: string }) => d.stage !== 'retired_stage',
  isCanonicalTopic: (topic: string) => topic === ORDERS,
};
const originals = (selection: ReturnType<typeof selectDeadLetters>) =>
  selection.replay.map(
    (d) => `${d.original.topic.split('.').at(-1)}@${d.original.offset} ${d.stage} #${d.replayCount}`,
  );

describe('selecting dead letters to replay', () => {
  it('replays in original topic, partition and offset order, offsets compared as numbers', () => {
    nextOffset = 0;
    const records = [
      deadLetter(LINE, '3', 'order_line'),
      deadLetter(HEADER, '10', 'order_header'),
      deadLetter(HEADER, '9', 'order_header'),
      deadLetter(ORDERS, '2', 'order_view', new SinkWriteError('Refused', { retriable: false })),
      deadLetter(HEADER, '9', 'decode'),
    ];
    const selection = selectDeadLetters(records, rules);
    expect(originals(selection)).toEqual([
      'v1@2 order_view #0',
      'SalesOrderHeader@9 decode #0',
      'SalesOrderHeader@9 order_header #0',
      'SalesOrderHeader@10 order_header #0',
      'SalesOrderLine@3 order_line #0',
    ]);
    expect(selection.replay.map((d) => selection.isCanonical(d))).toEqual([true, false, false, false, false]);
  });

  it('leaves out what the filters do not select, and keeps it pending', () => {
    nextOffset = 0;
    const records = [
      deadLetter(HEADER, '1', 'order_header'),
      deadLetter(LINE, '2', 'order_line'),
      deadLetter(ORDERS, '3', 'order_view', new SinkWriteError('Refused', { retriable: false })),
    ];
    const byStage = selectDeadLetters(records, { ...rules, stage: 'order_header' });
    expect([originals(byStage), byStage.notSelected, byStage.handledWithoutReplay]).toEqual([
      ['SalesOrderHeader@1 order_header #0'],
      2,
      [],
    ]);
    expect(originals(selectDeadLetters(records, { ...rules, topic: LINE }))).toEqual([
      'SalesOrderLine@2 order_line #0',
    ]);
    expect(originals(selectDeadLetters(records, { ...rules, errorClass: 'SinkWriteError' }))).toEqual([
      'v1@3 order_view #0',
    ]);
  });

  it('stops replaying a record once its replays failed max-attempts times', () => {
    nextOffset = 0;
    const first = deadLetter(HEADER, '7', 'order_header');
    const second = failedReplayOf(first);
    const third = failedReplayOf(second);
    // Each failed replay was dealt with already; only the newest dead letter is read.
    const ledgers = new Map([[0, { watermark: 2n, handled: [] }]]);
    const underLimit = selectDeadLetters([first, second, third], { ...rules, ledgers, maxAttempts: 3 });
    expect([originals(underLimit), underLimit.alreadyReplayed]).toEqual([['SalesOrderHeader@7 order_header #2'], 2]);
    const atLimit = selectDeadLetters([first, second, third], { ...rules, ledgers, maxAttempts: 2 });
    expect([originals(atLimit), atLimit.skippedMaxAttempts, atLimit.handledWithoutReplay.map((l) => l.offset)]).toEqual(
      [[], 1, ['2']],
    );
  });

  it('replays a record once when starting over reads several of its dead letters, the newest attempt', () => {
    nextOffset = 0;
    const first = deadLetter(HEADER, '7', 'order_header');
    const second = failedReplayOf(first);
    const selection = selectDeadLetters([first, second], {
      ...rules,
      forced: true,
      ledgers: new Map([[0, { watermark: 2n, handled: [] }]]),
    });
    expect(originals(selection)).toEqual(['SalesOrderHeader@7 order_header #1']);
    expect([selection.superseded, selection.handledWithoutReplay.map((l) => l.offset)]).toEqual([1, ['0']]);
  });

  it('judges max attempts on the newest dead letter of a record when starting over', () => {
    nextOffset = 0;
    const first = deadLetter(HEADER, '7', 'order_header');
    const second = failedReplayOf(first);
    const third = failedReplayOf(second);
    const selection = selectDeadLetters([first, second, third], { ...rules, forced: true, maxAttempts: 2 });
    expect(selection.replay).toEqual([]);
    expect([selection.superseded, selection.skippedMaxAttempts]).toEqual([2, 1]);
    expect(selection.handledWithoutReplay.map((l) => l.offset).sort()).toEqual(['0', '1', '2']);
  });

  it('skips what an earlier replay handled unless told to start over', () => {
    nextOffset = 0;
    const records = [deadLetter(HEADER, '1', 'order_header'), deadLetter(HEADER, '2', 'order_header')];
    const ledgers = new Map([[0, { watermark: 0n, handled: [[1n, 1n]] as [bigint, bigint][] }]]);
    const again = selectDeadLetters(records, { ...rules, ledgers });
    expect([originals(again), again.alreadyReplayed]).toEqual([['SalesOrderHeader@1 order_header #0'], 1]);
    expect(originals(selectDeadLetters(records, { ...rules, ledgers, forced: true }))).toEqual([
      'SalesOrderHeader@1 order_header #0',
      'SalesOrderHeader@2 order_header #0',
    ]);
  });

  it('sets aside records that are no dead letters for good, and those of stages no longer configured for later', () => {
    nextOffset = 0;
    const stranger: SourceRecord = {
      topic: DLQ,
      partition: 0,
      offset: String(nextOffset++),
      key: null,
      value: Buffer.from('x'),
      headers: {},
      timestamp: '0',
    };
    const retired = deadLetter(HEADER, '4', 'retired_stage');
    const selection = selectDeadLetters([stranger, retired], rules);
    expect(selection.replay).toEqual([]);
    expect([selection.unreadable, selection.stageMissing, selection.handledWithoutReplay.map((l) => l.offset)]).toEqual(
      [1, 1, ['0']],
    );
  });
});
