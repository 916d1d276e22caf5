import { type CanonicalEvent, type CanonicalEventType } from '../../core/canonical.js';
import { SinkWriteError } from '../../core/errors.js';
import { isSourcePosition } from '../../core/position.js';
import { type SinkContext } from '../../core/sink.js';

/**
 * The version guards of the Mongo sinks: every guarded part of a projection
 * stores the version of the event that last wrote it, and a write applies only
 * when its event's version beats the stored one, in the same atomic
 * single-document update.
 *
 * A version is the event's source position (`core/position.ts`: fixed-width,
 * so plain string order is commit order, in TypeScript and in MongoDB's
 * `$lt`/`$gt` alike) followed by `/` and the rank of its event type. The rank
 * only matters when one source change yields several events for the same
 * part: a SalesOrderHeader update to a cancelled code yields
 * `OrderStatusChanged` and `OrderCancelled` at one position, and
 * `OrderStatusChanged` (which also carries the ERP code) must win whatever
 * order they arrive in. Two distinct events therefore never share a version,
 * and an event replayed or duplicated has exactly its old version, so it is
 * stale.
 *
 * @see https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
 */
export type Version = string;

/** Ties at one source position: the higher rank wins. */
const EVENT_RANK = {
  StockLevelChanged: 0,
  OrderAccepted: 0,
  OrderCancelled: 1,
  OrderStatusChanged: 2,
  OrderDeleted: 0,
  OrderLineChanged: 0,
  PaymentCaptured: 0,
  ShipmentDispatched: 0,
  ReturnReceived: 0,
  RefundCompleted: 0,
  // Shares its position only with the OrderStatusChanged and OrderCancelled of the same header
  // update, which write other parts; 0 keeps the versions of one change distinct all the same.
  OrderHeaderChanged: 0,
} as const satisfies Record<CanonicalEventType, number>;

/** The version an event writes and is guarded by. */
export function eventVersion(event: CanonicalEvent): Version {
  return `${event.meta.sourcePosition}/${EVENT_RANK[event.meta.eventType]}`;
}

/** Where a guarded part of a projection came from; stored beside the data it describes. */
export type SourceStamp = {
  readonly position: string;
  /** The guard: see {@link Version}. */
  readonly version: Version;
  readonly eventId: string;
  readonly correlationId: string;
  readonly committedAt: Date;
};

export function sourceStamp(event: CanonicalEvent): SourceStamp {
  return {
    position: event.meta.sourcePosition,
    version: eventVersion(event),
    eventId: event.meta.eventId,
    correlationId: event.meta.correlationId,
    committedAt: new Date(event.meta.sourceCommittedAt),
  };
}

/**
 * Every projection document's `_meta`: the newest event applied to it (by
 * version), when and by which pipeline version.
 */
export type ProjectionMeta = {
  readonly sourcePosition: string;
  readonly version: Version;
  readonly sourceCommittedAt: Date;
  readonly appliedAt: Date;
  readonly pipelineVersion: string;
  readonly correlationId: string;
  readonly eventId: string;
};

export function projectionMeta(source: SourceStamp, ctx: Pick<SinkContext, 'now' | 'pipelineVersion'>): ProjectionMeta {
  return {
    sourcePosition: source.position,
    version: source.version,
    sourceCommittedAt: source.committedAt,
    appliedAt: ctx.now(),
    pipelineVersion: ctx.pipelineVersion,
    correlationId: source.correlationId,
    eventId: source.eventId,
  };
}

/**
 * A filter clause matching when the version stored at `path` is older than
 * `version` or absent: "newest wins". `$not` also matches a missing field,
 * which an `$lt` alone would not; both servers support it.
 */
export function storedOlderThan(path: string, version: Version): Record<string, unknown> {
  return { [path]: { $not: { $gte: version } } };
}

/** A filter clause matching when the version stored at `path` is newer than `version` or absent: "earliest wins". */
export function storedNewerThan(path: string, version: Version): Record<string, unknown> {
  return { [path]: { $not: { $lte: version } } };
}

/**
 * A map key for an id from the ERP. MongoDB field names must not contain `.`
 * or a NUL, nor start with `$` (servers differ in which they reject). Percent-escapes
 * those characters (and `%` itself), so keys stay readable and never collide.
 * The entry stores the original id beside it.
 */
export function fieldKey(id: string): string {
  return id.replace(/[%.$\0]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * Checks what every event needs before a guard can be trusted with it: a
 * position in the shape of `core/position.ts`, an event id and a commit time.
 * Returns what is wrong, or `undefined`.
 */
export function metaProblem(event: CanonicalEvent): string | undefined {
  const { meta } = event;
  if (!isSourcePosition(meta.sourcePosition)) return `Invalid source position ${JSON.stringify(meta.sourcePosition)}`;
  if (typeof meta.eventId !== 'string' || meta.eventId === '') return `Missing event id`;
  if (!Number.isFinite(meta.sourceCommittedAt)) {
    return `Invalid sourceCommittedAt ${JSON.stringify(meta.sourceCommittedAt)}`;
  }
  return undefined;
}

/** The non-retriable error for an event a sink can never apply, naming the event and where it came from. */
export function invalidEvent(sink: string, event: CanonicalEvent, problem: string): SinkWriteError {
  return new SinkWriteError(
    `${problem} of ${event.meta.eventType} ${event.meta.eventId} from ${event.meta.sourceTable}@${event.meta.sourcePosition} (sink ${sink})`,
    { retriable: false, stage: sink },
  );
}
