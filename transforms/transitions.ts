import { type CanonicalEvent, type CanonicalEventType, type CanonicalPayloads } from '../core/canonical.js';
import { type ChangeEvent, OP } from '../core/envelope.js';
import { type TransformError } from '../core/errors.js';
import { emit, fail, type StageResult } from '../core/stage.js';
import { canonicalEvent } from './event-meta.js';
import { COLUMN, type ColumnSpec, missingImage, readColumns, type RowOf, skipRowlessChange } from './rows.js';

/** Which status a stage waits for: the status column and the code that means "reached". */
export type StatusTarget = {
  readonly column: string;
  readonly status: string;
  /** The event the stage emits on arrival, for skip reasons, e.g. `ShipmentDispatched`. */
  readonly eventType: string;
};

/** The row reached the target status with this change, or the skip or failure that says why not. */
export type Arrival = { readonly kind: 'arrived' } | Exclude<StageResult, { readonly kind: 'emit' }>;

const ARRIVED: Arrival = { kind: 'arrived' };

/**
 * Decides whether a change brings a row to a status, from the row images only:
 *
 * - insert or snapshot read of a row already at the status: arrived (a read
 *   model built from a snapshot must learn about it too);
 * - update whose `after` is at the status and whose `before` is not: arrived;
 * - update that was at the status already, or leaves the row at another one: skip;
 * - update at the status without a before image: fail, because the transition
 *   cannot be told from `after` alone;
 * - delete, truncate or message: skip.
 *
 * Status codes are compared after dropping CHAR padding (see `COLUMN.code`).
 */
export function arrivalAt(change: ChangeEvent, target: StatusTarget, stage: string): Arrival {
  const { column, status, eventType } = target;
  switch (change.op) {
    case OP.create:
    case OP.read:
    case OP.update: {
      const after = readColumns(change, 'after', { [column]: COLUMN.code }, stage);
      if (!after.ok) return failed(after.error);
      const to = after.row[column];
      if (to !== status) return notArrived(`${column} ${to} is not ${status}`);
      if (change.op !== OP.update) return ARRIVED;
      if (change.before === null) {
        return failed(
          missingImage(change, 'before', stage, `the ${column} transition to ${status} cannot be detected`),
        );
      }
      const before = readColumns(change, 'before', { [column]: COLUMN.code }, stage);
      if (!before.ok) return failed(before.error);
      if (before.row[column] === status) return notArrived(`${column} was ${status} before this update already`);
      return ARRIVED;
    }
    case OP.delete:
      return notArrived(`A delete emits no ${eventType}`);
    case OP.truncate:
    case OP.message:
      return skipRowlessChange(change);
  }
}

/** What {@link emitOnArrival} emits: the event's aggregate key and payload, built from the row after the change. */
export type ArrivalEvent<T extends CanonicalEventType> = {
  readonly aggregateKey: string;
  readonly payload: CanonicalPayloads[T];
};

/**
 * The whole `apply` of a stage that emits one event when a row reaches a
 * status: {@link arrivalAt} decides, then the `after` image's `columns` are
 * read and `build` makes the event of type `target.eventType`. A skip or
 * failure from either step is the result; a missing or mistyped column fails
 * the change, naming it.
 */
export function emitOnArrival<T extends CanonicalEventType, S extends ColumnSpec>(
  change: ChangeEvent,
  target: StatusTarget & { readonly eventType: T },
  stage: string,
  columns: S,
  build: (row: RowOf<S>) => ArrivalEvent<T>,
): StageResult {
  const arrival = arrivalAt(change, target, stage);
  if (arrival.kind !== 'arrived') return arrival;
  const read = readColumns(change, 'after', columns, stage);
  if (!read.ok) return fail(read.error);
  const { aggregateKey, payload } = build(read.row);
  // A generic T is one member of the union; TypeScript cannot narrow CanonicalEvent<T> to it.
  return emit(canonicalEvent(change, target.eventType, aggregateKey, payload) as CanonicalEvent);
}

function notArrived(reason: string): Arrival {
  return { kind: 'skip', reason };
}

function failed(error: TransformError): Arrival {
  return { kind: 'fail', error };
}
