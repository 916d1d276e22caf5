import { describe, expect, it } from 'vitest';
import { formatReplaySummary, formatShownDeadLetter } from './dlq-command.js';
import { type ShownDeadLetter } from '../ops/dlq/inspect.js';
import { type DlqReplaySummary } from '../ops/dlq/replay.js';

const summary: DlqReplaySummary = {
  deadLetterTopic: 'cdc-sync.dlq',
  groupId: 'cdc-sync-dlq-replay.cdc-sync.dlq',
  dryRun: false,
  read: 7,
  replayed: 3,
  emitted: 5,
  reapplied: 1,
  stale: 0,
  failedAgain: 1,
  skippedMaxAttempts: 2,
  alreadyReplayed: 0,
  notSelected: 1,
  stageMissing: 0,
  superseded: 0,
  unreadable: 0,
  ledgerRangesDropped: 0,
  complete: true,
  planned: [
    {
      deadLetter: 'cdc-sync.dlq/0/4',
      original: 'erp.ErpDemo.dbo.SalesOrderHeader[0]@12',
      stage: 'order_header',
      errorClass: 'TransformError',
      attempt: 1,
    },
  ],
};

describe('dlq command output', () => {
  it('summarises a replay, listing only the reasons that occurred', () => {
    expect(formatReplaySummary(summary)).toBe(
      [
        'Replayed 3 of 7 dead letters read from cdc-sync.dlq',
        '  emitted events:         5',
        '  re-applied by sinks:    1 (stale 0)',
        '  failed again:           1',
        '  skipped (max attempts): 2',
        '  not selected:           1',
        'Progress is kept by consumer group cdc-sync-dlq-replay.cdc-sync.dlq; --from-beginning starts over',
      ].join('\n'),
    );
  });

  it('lists the plan of a dry run', () => {
    expect(
      formatReplaySummary({ ...summary, dryRun: true, replayed: 0, emitted: 0, reapplied: 0, failedAgain: 0 }),
    ).toBe(
      [
        'Dry run: would replay 1 of 7 dead letters read from cdc-sync.dlq',
        'DEAD LETTER       ORIGINAL                                STAGE         ERROR           ATTEMPT',
        'cdc-sync.dlq/0/4  erp.ErpDemo.dbo.SalesOrderHeader[0]@12  order_header  TransformError  1',
        '  skipped (max attempts): 2',
        '  not selected:           1',
        'Progress is kept by consumer group cdc-sync-dlq-replay.cdc-sync.dlq; --from-beginning starts over',
      ].join('\n'),
    );
  });

  it('says when a replay stopped early', () => {
    expect(formatReplaySummary({ ...summary, complete: false }).split('\n')[0]).toBe(
      'Replayed 3 of 7 dead letters read from cdc-sync.dlq (stopped early; the rest stays pending)',
    );
  });

  it('shows a record without dead-letter headers with its bytes', () => {
    const shown: ShownDeadLetter = {
      location: { topic: 'cdc-sync.dlq', partition: 0, offset: '9' },
      headers: { 'x-origin': 'elsewhere' },
      deadLetter: null,
      problem: 'Missing header cdc-sync.source.topic in dead letter cdc-sync.dlq/0/9',
      key: null,
      value: { length: 40, hexPrefix: 'ab'.repeat(32) },
      decodedAs: null,
      decoded: null,
      decodeError: null,
    };
    expect(formatShownDeadLetter(shown)).toBe(
      [
        'Dead letter cdc-sync.dlq partition 0 offset 9',
        '  not a cdc-sync dead letter: Missing header cdc-sync.source.topic in dead letter cdc-sync.dlq/0/9',
        'Headers:',
        '  x-origin: elsewhere',
        'Key:   null',
        `Value: 40 bytes, ${'ab'.repeat(32)}…`,
      ].join('\n'),
    );
  });

  it('says why a dead letter does not decode', () => {
    const shown: ShownDeadLetter = {
      location: { topic: 'cdc-sync.dlq', partition: 0, offset: '3' },
      headers: {},
      deadLetter: {
        original: { topic: 'erp.ErpDemo.dbo.InventoryBalance', partition: 0, offset: '8' },
        stage: 'decode',
        errorClass: 'DecodeError',
        errorMessage: 'Bad magic byte 0x6e in record erp.ErpDemo.dbo.InventoryBalance[0]@8',
        deadLetteredAt: '2026-01-01T00:00:00.000Z',
        replayCount: 1,
        replayOf: 'cdc-sync.dlq/0/1',
      },
      problem: null,
      key: null,
      value: { length: 8, hexPrefix: '6e6f74206176726f' },
      decodedAs: 'debezium',
      decoded: null,
      decodeError: 'DecodeError: Bad magic byte 0x6e in record erp.ErpDemo.dbo.InventoryBalance[0]@8',
    };
    expect(formatShownDeadLetter(shown).split('\n')).toEqual([
      'Dead letter cdc-sync.dlq partition 0 offset 3',
      '  original:   erp.ErpDemo.dbo.InventoryBalance partition 0 offset 8',
      '  stage:      decode',
      '  error:      DecodeError: Bad magic byte 0x6e in record erp.ErpDemo.dbo.InventoryBalance[0]@8',
      '  at:         2026-01-01T00:00:00.000Z',
      '  replays:    1 (after replaying cdc-sync.dlq/0/1)',
      'Headers:',
      'Key:   null',
      'Value: 8 bytes, 6e6f74206176726f',
      'Does not decode as a debezium record: DecodeError: Bad magic byte 0x6e in record erp.ErpDemo.dbo.InventoryBalance[0]@8',
    ]);
  });
});
