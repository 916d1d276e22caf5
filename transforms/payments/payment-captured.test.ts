import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { paymentCaptured } from './payment-captured.js';

const stage = stageOf(paymentCaptured);
const paymentCapturedEvent = expectEvent('PaymentTransaction', 'PaymentCaptured');

/** The capture of SO-1001, pending at the payment service provider. */
const capture = {
  PaymentId: 9_007_199_254_740_993n,
  OrderNumber: 'SO-1001',
  TxnType: 'CAP',
  Amount: '74.4800',
  CurrencyCode: 'EUR',
  PspReference: 'psp_3QJ9xk2L',
  Status: 'PENDING',
  ProcessedAt: null,
  ModifiedAt: '2026-11-27T09:15:31.0000000',
};

const succeeded = { ...capture, Status: 'SUCCEEDED', ProcessedAt: '2026-11-27T10:15:31.5000000+01:00' };

const CAPTURED = {
  orderNumber: 'SO-1001',
  paymentId: '9007199254740993',
  amount: '74.4800',
  currency: 'EUR',
  pspReference: 'psp_3QJ9xk2L',
  capturedAt: '2026-11-27T10:15:31.5000000+01:00',
};

const PAYMENT_KEY = '{"PaymentId":9007199254740993}';

describe('payment_captured: given PaymentTransaction changes, expect PaymentCaptured', () => {
  it.each([
    {
      given: 'a capture inserted as succeeded',
      change: changeOf('PaymentTransaction', OP.create, { after: succeeded }),
      expected: [paymentCapturedEvent('SO-1001', CAPTURED)],
    },
    {
      given: 'a capture PENDING → SUCCEEDED',
      change: changeOf('PaymentTransaction', OP.update, { before: capture, after: succeeded }),
      expected: [paymentCapturedEvent('SO-1001', CAPTURED)],
    },
    {
      given: 'a capture FAILED → SUCCEEDED on retry, without a PSP reference',
      change: changeOf('PaymentTransaction', OP.update, {
        before: { ...capture, Status: 'FAILED', PspReference: null },
        after: { ...succeeded, PspReference: null },
      }),
      expected: [paymentCapturedEvent('SO-1001', { ...CAPTURED, pspReference: null })],
    },
    {
      given: 'a succeeded capture read by the initial snapshot',
      change: changeOf('PaymentTransaction', OP.read, { after: succeeded }),
      expected: [
        paymentCapturedEvent('SO-1001', CAPTURED, {
          position: SNAPSHOT_POSITION,
          correlationId: `erp.ErpDemo.dbo.PaymentTransaction@${SNAPSHOT_POSITION}`,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it.each([
    {
      given: 'a succeeded authorisation',
      change: changeOf('PaymentTransaction', OP.create, { after: { ...succeeded, TxnType: 'AUT' } }),
      reason: 'TxnType AUT is not CAP',
    },
    {
      given: 'a refund transaction PENDING → SUCCEEDED',
      change: changeOf('PaymentTransaction', OP.update, {
        before: { ...capture, TxnType: 'REF' },
        after: { ...succeeded, TxnType: 'REF' },
      }),
      reason: 'TxnType REF is not CAP',
    },
    {
      given: 'a capture inserted as pending',
      change: changeOf('PaymentTransaction', OP.create, { after: capture }),
      reason: 'Status PENDING is not SUCCEEDED',
    },
    {
      given: 'a capture PENDING → FAILED',
      change: changeOf('PaymentTransaction', OP.update, { before: capture, after: { ...capture, Status: 'FAILED' } }),
      reason: 'Status FAILED is not SUCCEEDED',
    },
    {
      given: 'a succeeded capture whose PSP reference is corrected',
      change: changeOf('PaymentTransaction', OP.update, {
        before: succeeded,
        after: { ...succeeded, PspReference: 'psp_3QJ9xk2M' },
      }),
      reason: 'Status was SUCCEEDED before this update already',
    },
    {
      given: 'a capture deleted',
      change: changeOf('PaymentTransaction', OP.delete, { before: succeeded }),
      reason: 'A delete emits no PaymentCaptured',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an update to SUCCEEDED without a before image',
      change: changeOf('PaymentTransaction', OP.update, { after: succeeded }),
      message: `No before image in ErpDemo.dbo.PaymentTransaction key ${PAYMENT_KEY}, so the Status transition to SUCCEEDED cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
    {
      given: 'a succeeded capture without ProcessedAt',
      change: changeOf('PaymentTransaction', OP.create, { after: { ...succeeded, ProcessedAt: null } }),
      message: `Invalid column ProcessedAt in ErpDemo.dbo.PaymentTransaction key ${PAYMENT_KEY}: expected an ISO-8601 timestamp with offset, got null`,
    },
    {
      given: 'a capture without TxnType',
      change: changeOf('PaymentTransaction', OP.create, {
        after: { PaymentId: 9_007_199_254_740_993n, OrderNumber: 'SO-1001', Status: 'SUCCEEDED' },
      }),
      message: `Missing column TxnType in ErpDemo.dbo.PaymentTransaction key ${PAYMENT_KEY}`,
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'payment_captured' });
  });

  it('reads the ERP’s own codes from config', () => {
    const custom = stageOf(paymentCaptured, { captureTxnType: 'CAPTURE', succeededStatus: 'OK' });
    const change = changeOf('PaymentTransaction', OP.update, {
      before: { ...capture, TxnType: 'CAPTURE', Status: 'SENT' },
      after: { ...succeeded, TxnType: 'CAPTURE', Status: 'OK' },
    });
    expect(custom.apply(change)).toEqual({ kind: 'emit', events: [paymentCapturedEvent('SO-1001', CAPTURED)] });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('PaymentTransaction', OP.update, { before: capture, after: succeeded });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });
});
