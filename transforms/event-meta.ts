import {
  type CanonicalEvent,
  type CanonicalEventType,
  type CanonicalPayloads,
  type EventMeta,
} from '../core/canonical.js';
import { type ChangeEvent } from '../core/envelope.js';
import { deriveCorrelationId, deriveEventId, sourceTableName } from '../core/event-id.js';

/**
 * The meta of an event derived from one change, the same way for every stage:
 * a deterministic id (a replayed change yields the same id, and each event type
 * of one change its own), the source table's topic name, the source position
 * read models guard on, the source commit time and the correlation id (the
 * Debezium transaction id where the connector provides transaction metadata).
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-transaction-metadata
 */
export function eventMeta<T extends CanonicalEventType>(
  change: ChangeEvent,
  eventType: T,
  aggregateKey: string,
): EventMeta & { readonly eventType: T } {
  return {
    eventId: deriveEventId(change, eventType),
    eventType,
    aggregateKey,
    sourceTable: sourceTableName(change),
    sourcePosition: change.position,
    sourceCommittedAt: change.source.tsMs,
    correlationId: deriveCorrelationId(change),
  };
}

/** A canonical event of type `eventType` derived from `change`, with its meta from {@link eventMeta}. */
export function canonicalEvent<T extends CanonicalEventType>(
  change: ChangeEvent,
  eventType: T,
  aggregateKey: string,
  payload: CanonicalPayloads[T],
): CanonicalEvent<T> {
  // CanonicalEvent<T> distributes over T; TypeScript cannot see that one T picks one member.
  return { meta: eventMeta(change, eventType, aggregateKey), payload } as CanonicalEvent<T>;
}
