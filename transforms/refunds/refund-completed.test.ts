import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { refundCompleted } from './refund-completed.js';

const stage = stageOf(refundCompleted);
const refundCompletedEvent = expectEvent('Refund', 'RefundCompleted');

/** The refund for RMA-2026-0042, waiting to be paid out. */
const pending = {
  RefundId: 7001,
  OrderNumber: 'SO-1001',
  RmaNumber: 'RMA-2026-0042',
  Amount: '19.9900',
  CurrencyCode: 'EUR',
  Status: 'PENDING',
  CompletedAt: null,
  ModifiedAt: '2026-12-04T10:30:00.0000000',
};

const completed = { ...pending, Status: 'COMPLETED', CompletedAt: '2026-12-05T09:00:00.0000000+01:00' };

const COMPLETED = {
  orderNumber: 'SO-1001',
  refundId: '7001',
  rmaNumber: 'RMA-2026-0042',
  amount: '19.9900',
  currency: 'EUR',
  completedAt: '2026-12-05T09:00:00.0000000+01:00',
};

describe('refund_completed: given Refund changes, expect RefundCompleted', () => {
  it.each([
    {
      given: 'a refund PENDING → COMPLETED',
      change: changeOf('Refund', OP.update, { before: pending, after: completed }),
      expected: [refundCompletedEvent('SO-1001', COMPLETED)],
    },
    {
      given: 'a goodwill refund (no RMA) inserted as completed',
      change: changeOf('Refund', OP.create, { after: { ...completed, RmaNumber: null, Amount: '5.0000' } }),
      expected: [refundCompletedEvent('SO-1001', { ...COMPLETED, rmaNumber: null, amount: '5.0000' })],
    },
    {
      given: 'a completed refund read by the initial snapshot',
      change: changeOf('Refund', OP.read, { after: completed }),
      expected: [
        refundCompletedEvent('SO-1001', COMPLETED, {
          position: SNAPSHOT_POSITION,
          correlationId: `erp.ErpDemo.dbo.Refund@${SNAPSHOT_POSITION}`,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it.each([
    {
      given: 'a refund inserted as pending',
      change: changeOf('Refund', OP.create, { after: pending }),
      reason: 'Status PENDING is not COMPLETED',
    },
    {
      given: 'a completed refund whose amount is corrected',
      change: changeOf('Refund', OP.update, { before: completed, after: { ...completed, Amount: '19.9000' } }),
      reason: 'Status was COMPLETED before this update already',
    },
    {
      given: 'a refund deleted',
      change: changeOf('Refund', OP.delete, { before: pending }),
      reason: 'A delete emits no RefundCompleted',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an update to COMPLETED without a before image',
      change: changeOf('Refund', OP.update, { after: completed }),
      message:
        'No before image in ErpDemo.dbo.Refund key {"RefundId":7001}, so the Status transition to COMPLETED cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)',
    },
    {
      given: 'an amount decoded as a float',
      change: changeOf('Refund', OP.update, { before: pending, after: { ...completed, Amount: 19.99 } }),
      message:
        'Invalid column Amount in ErpDemo.dbo.Refund key {"RefundId":7001}: expected a decimal string with at most 4 decimals, got 19.99',
    },
    {
      given: 'a completed refund without CompletedAt',
      change: changeOf('Refund', OP.create, { after: { ...completed, CompletedAt: null } }),
      message:
        'Invalid column CompletedAt in ErpDemo.dbo.Refund key {"RefundId":7001}: expected an ISO-8601 timestamp with offset, got null',
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'refund_completed' });
  });

  it('reads the ERP’s own completed status from config', () => {
    const custom = stageOf(refundCompleted, { completedStatus: 'PAID' });
    const change = changeOf('Refund', OP.update, { before: pending, after: { ...completed, Status: 'PAID' } });
    expect(custom.apply(change)).toEqual({ kind: 'emit', events: [refundCompletedEvent('SO-1001', COMPLETED)] });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('Refund', OP.update, { before: pending, after: completed });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });
});
