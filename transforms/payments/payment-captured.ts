import { z } from 'zod';
import { OP } from '../../core/envelope.js';
import { defineStage, fail, skip } from '../../core/stage.js';
import { COLUMN, nullable, readColumns } from '../rows.js';
import { emitOnArrival } from '../transitions.js';

/** Which transaction type is a capture and which status means it succeeded, as the ERP spells them. */
export const paymentCapturedConfigSchema = z.strictObject({
  captureTxnType: z.string().min(1).default('CAP').describe('PaymentTransaction.TxnType of captures'),
  succeededStatus: z
    .string()
    .min(1)
    .default('SUCCEEDED')
    .describe('PaymentTransaction.Status of a transaction that went through'),
});

/** The parsed payment_captured config, defaults applied. */
export type PaymentCapturedConfig = z.output<typeof paymentCapturedConfigSchema>;

/**
 * `PaymentTransaction` changes → `PaymentCaptured`, keyed by order number.
 *
 * Emits when a capture reaches `succeededStatus`: inserted (or snapshot-read)
 * already succeeded, or updated from another status to it, judged from
 * before → after (see `arrivalAt`). Other transaction types, other statuses,
 * updates of an already succeeded capture, deletes, truncates and messages
 * skip with a reason. An update to `succeededStatus` without a before image
 * fails. Tombstones never reach the stage (the runner drops them).
 *
 * `paymentId` is the BIGINT `PaymentId` as a decimal string; `capturedAt` is
 * `ProcessedAt`, which a succeeded capture must have.
 */
export const paymentCaptured = defineStage({
  name: 'payment_captured',
  summary: 'PaymentTransaction captures reaching SUCCEEDED become PaymentCaptured',
  tables: ['dbo.PaymentTransaction'],
  output: ['PaymentCaptured'],
  config: paymentCapturedConfigSchema,
  create(config, { name }) {
    const target = { column: 'Status', status: config.succeededStatus, eventType: 'PaymentCaptured' } as const;
    return (change) => {
      if (change.op === OP.create || change.op === OP.read || change.op === OP.update) {
        const type = readColumns(change, 'after', { TxnType: COLUMN.code }, name);
        if (!type.ok) return fail(type.error);
        if (type.row.TxnType !== config.captureTxnType) {
          return skip(`TxnType ${type.row.TxnType} is not ${config.captureTxnType}`);
        }
      }
      return emitOnArrival(change, target, name, PAYMENT_COLUMNS, (payment) => ({
        aggregateKey: payment.OrderNumber,
        payload: {
          orderNumber: payment.OrderNumber,
          paymentId: payment.PaymentId,
          amount: payment.Amount,
          currency: payment.CurrencyCode,
          pspReference: payment.PspReference,
          capturedAt: payment.ProcessedAt,
        },
      }));
    };
  },
});

const PAYMENT_COLUMNS = {
  PaymentId: COLUMN.integerId,
  OrderNumber: COLUMN.identifier,
  Amount: COLUMN.money,
  CurrencyCode: COLUMN.code,
  PspReference: nullable(COLUMN.text),
  ProcessedAt: COLUMN.timestamp,
} as const;
