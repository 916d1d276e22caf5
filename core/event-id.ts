import { createHash } from 'node:crypto';
import { type CanonicalEventType } from './canonical.js';
import { type ChangeEvent } from './envelope.js';

/** The Debezium topic a change came from, e.g. `erp.ErpDemo.dbo.SalesOrderHeader`. */
export function sourceTableName(change: Pick<ChangeEvent, 'table'>): string {
  const { server, database, schema, table } = change.table;
  return `${server}.${database}.${schema}.${table}`;
}

/**
 * A deterministic event id: the first 128 bits of SHA-256 over source table,
 * primary key, source position and event type, as 32 hex characters. A
 * replayed or duplicated change yields the same id; one change that yields
 * several event types yields distinct ids.
 */
export function deriveEventId(
  change: Pick<ChangeEvent, 'table' | 'key' | 'position'>,
  eventType: CanonicalEventType,
): string {
  const hash = createHash('sha256');
  hash.update(sourceTableName(change));
  hash.update('\0');
  hash.update(stableJson(change.key));
  hash.update('\0');
  hash.update(change.position);
  hash.update('\0');
  hash.update(eventType);
  return hash.digest('hex').slice(0, 32);
}

/**
 * The correlation id of a change: its Debezium transaction id where the
 * connector provides transaction metadata, so every event of one ERP
 * transaction shares it; otherwise the source table and position.
 */
export function deriveCorrelationId(change: Pick<ChangeEvent, 'table' | 'position' | 'transaction'>): string {
  return change.transaction?.id ?? `${sourceTableName(change)}@${change.position}`;
}

/** JSON with object keys sorted, so equal keys hash equally whatever their column order. */
function stableJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
