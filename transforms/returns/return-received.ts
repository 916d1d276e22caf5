import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { COLUMN, nullable } from '../rows.js';
import { emitOnArrival } from '../transitions.js';

/** Which `ReturnAuthorization.Status` means the goods arrived, as the ERP spells it. */
export const returnReceivedConfigSchema = z.strictObject({
  receivedStatus: z
    .string()
    .min(1)
    .default('RC')
    .describe('ReturnAuthorization.Status of a return whose goods arrived'),
});

/** The parsed return_received config, defaults applied. */
export type ReturnReceivedConfig = z.output<typeof returnReceivedConfigSchema>;

/**
 * `ReturnAuthorization` changes → `ReturnReceived`, keyed by order number.
 *
 * Emits when a return authorisation reaches `receivedStatus`: inserted (or
 * snapshot-read) already received, or updated from another status to it,
 * judged from before → after (see `arrivalAt`). Everything else skips with a
 * reason; an update to `receivedStatus` without a before image fails.
 * Tombstones never reach the stage (the runner drops them). A received return
 * must have `ReceivedAt`.
 */
export const returnReceived = defineStage({
  name: 'return_received',
  summary: 'ReturnAuthorization rows reaching RC become ReturnReceived',
  tables: ['dbo.ReturnAuthorization'],
  output: ['ReturnReceived'],
  config: returnReceivedConfigSchema,
  create(config, { name }) {
    const target = { column: 'Status', status: config.receivedStatus, eventType: 'ReturnReceived' } as const;
    return (change) =>
      emitOnArrival(change, target, name, RETURN_COLUMNS, (rma) => ({
        aggregateKey: rma.OrderNumber,
        payload: {
          orderNumber: rma.OrderNumber,
          rmaNumber: rma.RmaNumber,
          reason: rma.Reason,
          receivedAt: rma.ReceivedAt,
        },
      }));
  },
});

const RETURN_COLUMNS = {
  RmaNumber: COLUMN.identifier,
  OrderNumber: COLUMN.identifier,
  Reason: nullable(COLUMN.text),
  ReceivedAt: COLUMN.timestamp,
} as const;
