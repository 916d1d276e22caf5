import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { COLUMN, nullable } from '../rows.js';
import { emitOnArrival } from '../transitions.js';

/** Which `Refund.Status` means the money went back, as the ERP spells it. */
export const refundCompletedConfigSchema = z.strictObject({
  completedStatus: z.string().min(1).default('COMPLETED').describe('Refund.Status of a refund that was paid out'),
});

/** The parsed refund_completed config, defaults applied. */
export type RefundCompletedConfig = z.output<typeof refundCompletedConfigSchema>;

/**
 * `Refund` changes → `RefundCompleted`, keyed by order number.
 *
 * Emits when a refund reaches `completedStatus`: inserted (or snapshot-read)
 * already completed, or updated from another status to it, judged from before
 * → after (see `arrivalAt`). Everything else skips with a reason; an update to
 * `completedStatus` without a before image fails. Tombstones never reach the
 * stage (the runner drops them).
 *
 * `rmaNumber` is null for goodwill refunds without returned goods; a completed
 * refund must have `CompletedAt`.
 */
export const refundCompleted = defineStage({
  name: 'refund_completed',
  summary: 'Refund rows reaching COMPLETED become RefundCompleted',
  tables: ['dbo.Refund'],
  output: ['RefundCompleted'],
  config: refundCompletedConfigSchema,
  create(config, { name }) {
    const target = { column: 'Status', status: config.completedStatus, eventType: 'RefundCompleted' } as const;
    return (change) =>
      emitOnArrival(change, target, name, REFUND_COLUMNS, (refund) => ({
        aggregateKey: refund.OrderNumber,
        payload: {
          orderNumber: refund.OrderNumber,
          refundId: refund.RefundId,
          rmaNumber: refund.RmaNumber,
          amount: refund.Amount,
          currency: refund.CurrencyCode,
          completedAt: refund.CompletedAt,
        },
      }));
  },
});

const REFUND_COLUMNS = {
  RefundId: COLUMN.integerId,
  OrderNumber: COLUMN.identifier,
  RmaNumber: nullable(COLUMN.identifier),
  Amount: COLUMN.money,
  CurrencyCode: COLUMN.code,
  CompletedAt: COLUMN.timestamp,
} as const;
