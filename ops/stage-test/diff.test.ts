import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../../core/canonical.js';
import { ConfigError } from '../../core/errors.js';
import { diffStageTest, isEqual } from './diff.js';
import { parseExpected, renderExpected } from './expected.js';

const meta = (eventType: string, aggregateKey: string, eventId: string) => ({
  eventId,
  eventType,
  aggregateKey,
  sourceTable: 'erp.ErpDemo.dbo.InventoryBalance',
  sourcePosition: 'mssql:1',
  sourceCommittedAt: 1_764_230_400_000,
  correlationId: 'tx-1',
});

const stock = (key: string, eventId: string, onHand: string) =>
  ({
    meta: meta('StockLevelChanged', key, eventId),
    payload: { sku: key.split('@')[0], location: 'WH', onHand, reserved: '0.000', removed: false },
  }) as unknown as CanonicalEvent;

const actual = (event: CanonicalEvent, where: string) => ({ where, stage: 'stock_level', event });

describe('diffStageTest', () => {
  const run = {
    events: [
      actual(stock('A@WH', 'id-a1', '1.000'), 'in.json changes[0]'),
      actual(stock('B@WH', 'id-b1', '5.000'), 'in.json changes[1]'),
      actual(stock('A@WH', 'id-a2', '2.000'), 'in.json changes[2]'),
      actual(stock('C@WH', 'id-c1', '7.000'), 'in.json changes[3]'),
    ],
    deadLetters: [{ where: 'in.json changes[4]', stage: 'order_header', message: 'Unknown StatusCode "ZZ"' }],
  };

  it('is equal when every event and dead letter matches, hand-written events stating only type, key and payload', () => {
    const expected = parseExpected(
      JSON.stringify({
        events: [
          // Aggregates may interleave differently; one aggregate's events keep their order.
          {
            meta: { eventType: 'StockLevelChanged', aggregateKey: 'B@WH' },
            payload: stock('B@WH', '', '5.000').payload,
          },
          {
            meta: { eventType: 'StockLevelChanged', aggregateKey: 'A@WH' },
            payload: stock('A@WH', '', '1.000').payload,
          },
          {
            meta: { eventType: 'StockLevelChanged', aggregateKey: 'A@WH' },
            payload: stock('A@WH', '', '2.000').payload,
          },
          stock('C@WH', 'id-c1', '7.000'),
        ],
        deadLetters: [{ stage: 'order_header', message: 'Unknown StatusCode "ZZ"' }],
      }),
      'expected.json',
    );
    const diff = diffStageTest(run, expected);
    expect(diff).toEqual({ events: [], deadLetters: [] });
    expect(isEqual(diff)).toBe(true);
  });

  it('names missing, unexpected and changed events with the differing fields, and the dead letters that differ', () => {
    const expected = parseExpected(
      JSON.stringify([
        stock('A@WH', 'id-a1', '1.000'),
        { ...stock('A@WH', 'id-other', '3.000'), payload: { ...stock('A@WH', '', '3.000').payload, extra: 1 } },
        stock('D@WH', 'id-d1', '1.000'),
      ]),
      'expected.json',
    );
    const diff = diffStageTest(run, expected);
    expect(isEqual(diff)).toBe(false);
    expect(diff).toEqual({
      events: [
        {
          kind: 'changed',
          index: 1,
          actual: run.events[2],
          fields: [
            { field: 'meta.eventId', expected: 'id-other', actual: 'id-a2' },
            { field: 'payload.onHand', expected: '3.000', actual: '2.000' },
            { field: 'payload.extra', expected: 1, actual: undefined },
          ],
        },
        { kind: 'missing', index: 2, expected: stock('D@WH', 'id-d1', '1.000') },
        { kind: 'unexpected', actual: run.events[1] },
        { kind: 'unexpected', actual: run.events[3] },
      ],
      deadLetters: [{ kind: 'unexpected', actual: run.deadLetters[0] }],
    });
  });

  it('pairs dead letters by stage and compares their messages', () => {
    const expected = parseExpected(
      'events: []\ndeadLetters:\n  - { stage: order_header, message: other }\n  - { stage: decode, message: x }\n',
      'expected.yaml',
    );
    expect(diffStageTest({ events: [], deadLetters: run.deadLetters }, expected).deadLetters).toEqual([
      { kind: 'changed', index: 0, actual: run.deadLetters[0], expected: { stage: 'order_header', message: 'other' } },
      { kind: 'missing', index: 1, expected: { stage: 'decode', message: 'x' } },
    ]);
  });
});

describe('parseExpected and renderExpected', () => {
  it.each([
    { format: 'YAML', path: 'expected.yaml' },
    { format: 'JSON', path: 'expected.json' },
  ])('writes a run as $format that reads back equal', ({ path }) => {
    const events = [actual(stock('A@WH', 'id-a1', '1.000'), 'x')];
    const list = renderExpected({ events, deadLetters: [] }, path);
    expect(parseExpected(list, path)).toEqual({ path, events: [stock('A@WH', 'id-a1', '1.000')], deadLetters: [] });
    const deadLetters = [{ where: 'x', stage: 'decode', message: 'Bad magic byte 0x01' }];
    const withLetters = renderExpected({ events, deadLetters }, path);
    expect(parseExpected(withLetters, path).deadLetters).toEqual([{ stage: 'decode', message: 'Bad magic byte 0x01' }]);
  });

  it('reads an empty file as no events', () => {
    expect(parseExpected('', 'expected.yaml')).toEqual({ path: 'expected.yaml', events: [], deadLetters: [] });
  });

  it.each([
    {
      given: 'an unknown event type and a missing payload',
      path: 'e.yaml',
      text: '- meta: { eventType: StockChanged, aggregateKey: A }\n',
      message: [
        'e.yaml [0].meta.eventType: expected one of StockLevelChanged, OrderAccepted, OrderStatusChanged, OrderCancelled, OrderDeleted, OrderLineChanged, PaymentCaptured, ShipmentDispatched, ReturnReceived, RefundCompleted, OrderHeaderChanged',
        'e.yaml [0].payload: expected an object',
      ].join('\n'),
    },
    {
      given: 'a misspelt meta field',
      path: 'e.json',
      text: '[{"meta": {"eventType": "OrderDeleted", "aggregateKey": "SO-1", "eventID": "x"}, "payload": {}}]',
      message: 'e.json [0].meta: Unrecognized key: "eventID"',
    },
    {
      given: 'a dead letter without a message',
      path: 'e.yaml',
      text: 'events: []\ndeadLetters: [{ stage: decode }]\n',
      message: 'e.yaml deadLetters[0].message: expected a string',
    },
    {
      given: 'invalid JSON',
      path: 'e.json',
      text: '[',
      message: 'e.json: invalid JSON (Unexpected end of JSON input)',
    },
    {
      given: 'a scalar',
      path: 'e.yaml',
      text: '42\n',
      message: 'e.yaml: expected a list of events, or an object with events and deadLetters',
    },
  ])('refuses $given, naming the file and the entry', ({ path, text, message }) => {
    expect(() => parseExpected(text, path)).toThrow(ConfigError);
    expect(() => parseExpected(text, path)).toThrow(expect.objectContaining({ message }) as unknown as Error);
  });
});
