import { describe, expect, it } from 'vitest';
import {
  MILESTONE_LATENCY_PAIRS,
  milestoneLatencies,
  milestonePairsOf,
  parseBusinessInstant,
} from './milestone-latency.js';
import { type MilestoneEntry, type MilestoneName, type OrderViewDocument } from '../../sinks/mongo/order-view.js';

/** An order whose milestones happened at the given business times. */
function order(at: Partial<Record<MilestoneName, string>>): Pick<OrderViewDocument, 'milestones'> {
  return {
    milestones: Object.fromEntries(
      Object.entries(at).map(([name, time]) => [name, { at: time, ref: null } as unknown as MilestoneEntry]),
    ),
  };
}

describe('order milestone latencies', () => {
  it('measure each pair whose two milestones both happened, by business time', () => {
    // The order-lifecycle fixture: placed 09:00, captured 17:45:09, shipped 17:45:00, returned and refunded a week on.
    expect(
      milestoneLatencies(
        order({
          accepted: '2025-11-27T09:00:00.0000000+01:00',
          paymentCaptured: '2025-11-27T17:45:09.0000000+01:00',
          shipped: '2025-11-27T17:45:00.0000000+01:00',
          returnReceived: '2025-12-03T10:20:00.0000000+01:00',
          refunded: '2025-12-03T12:02:00.0000000+01:00',
        }),
      ),
    ).toEqual([
      { from: 'accepted', to: 'paymentCaptured', seconds: 31_509 },
      // Captured 9 s after shipping (capture at shipment): no wait, not a negative one.
      { from: 'paymentCaptured', to: 'shipped', seconds: 0 },
      { from: 'returnReceived', to: 'refunded', seconds: 6_120 },
    ]);
  });

  it.each([
    ['an order only accepted', { accepted: '2025-11-27T09:00:00Z' }, []],
    ['a payment without acceptance', { paymentCaptured: '2025-11-27T09:00:00Z' }, []],
    [
      'an accepted and paid order',
      { accepted: '2025-11-27T09:00:00Z', paymentCaptured: '2025-11-27T09:30:00.5Z' },
      [{ from: 'accepted', to: 'paymentCaptured', seconds: 1_800.5 }],
    ],
    [
      'a refund whose return time cannot be read',
      { returnReceived: 'yesterday', refunded: '2025-11-27T09:00:00Z' },
      [],
    ],
  ])('leave out pairs that did not both happen: %s', (_name, at, expected) => {
    expect(milestoneLatencies(order(at))).toEqual(expected);
  });
});

describe('the milestone pairs a profile measures', () => {
  const HOUR = 3_600_000;
  const every = { awaitingPayment: 24 * HOUR, awaitingShipment: 48 * HOUR, awaitingRefund: 72 * HOUR };

  it.each([
    ['every wait on (the sample ERP)', every, MILESTONE_LATENCY_PAIRS],
    [
      'no payments: shipment measured from acceptance',
      { ...every, awaitingPayment: false as const },
      [
        { from: 'accepted', to: 'shipped' },
        { from: 'returnReceived', to: 'refunded' },
      ],
    ],
    [
      'no returns',
      { ...every, awaitingRefund: false as const },
      [
        { from: 'accepted', to: 'paymentCaptured' },
        { from: 'paymentCaptured', to: 'shipped' },
      ],
    ],
    ['every wait off', { awaitingPayment: false, awaitingShipment: false, awaitingRefund: false } as const, []],
  ])('%s', (_name, waits, pairs) => {
    expect(milestonePairsOf(waits)).toEqual(pairs);
  });

  it('measures an order shipped by its header status from its acceptance', () => {
    const shippedByStatus = order({ accepted: '2011-05-31T00:00:00-07:00', shipped: '2011-06-07T00:00:00-07:00' });
    expect(milestoneLatencies(shippedByStatus, milestonePairsOf({ ...every, awaitingPayment: false }))).toEqual([
      { from: 'accepted', to: 'shipped', seconds: 7 * 24 * 3600 },
    ]);
  });
});

describe('parseBusinessInstant', () => {
  it.each([
    ['2025-11-27T09:00:00.0000000+01:00', '2025-11-27T08:00:00.000Z'],
    ['2025-11-27T09:00:00Z', '2025-11-27T09:00:00.000Z'],
    ['2025-11-27T09:00:00.123456789-05:30', '2025-11-27T14:30:00.123Z'],
    ['2025-11-27 09:00:00.5', '2025-11-27T09:00:00.500Z'],
    ['2025-11-27T09:00:00+0100', '2025-11-27T08:00:00.000Z'],
  ])('reads %s as %s (no offset means UTC)', (text, iso) => {
    expect(parseBusinessInstant(text)).toBe(Date.parse(iso));
  });

  it.each([[undefined], [''], ['2025-11-27'], ['2025-02-30T09:00:00Z'], ['2025-11-27T25:00:00Z'], ['09:00 today']])(
    'refuses %s',
    (text) => {
      expect(parseBusinessInstant(text)).toBeUndefined();
    },
  );
});
