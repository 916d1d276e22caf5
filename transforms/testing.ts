import { pino } from 'pino';
import { expect } from 'vitest';
import { type CanonicalEvent, type CanonicalEventType, type CanonicalPayloads } from '../core/canonical.js';
import { type ChangeEvent, OP, type Op, type Row, type TableRef, type TransactionInfo } from '../core/envelope.js';
import { type TransformError } from '../core/errors.js';
import { type Stage, type StageResult, type TransformDefinition } from '../core/stage.js';

/**
 * Test helpers for stage tests: ERP row changes in, expected canonical events
 * out. Imported only by `*.test.ts` files and not registered anywhere.
 *
 * A table is named as a stage names it (`Sales.SalesOrderHeader`, see `TABLE_PATTERN`), or by its bare name for the
 * sample ERP's `dbo` tables (`InventoryBalance`); the parts left out are `erp.ErpDemo.dbo` (see {@link tableRefOf}).
 * Every change is committed at
 * {@link COMMITTED_AT} in transaction {@link TRANSACTION_ID} at
 * {@link POSITION}; snapshot reads at {@link SNAPSHOT_POSITION} with no
 * transaction, as Debezium's SQL Server connector writes them.
 */

/** Source commit time of every change unless given: 2026-11-27T09:15:30Z. */
export const COMMITTED_AT = 1_795_770_930_000;

/** Debezium's `transaction.id` for SQL Server: the commit LSN. */
export const TRANSACTION_ID = '00000027:00000758:0005';

/** Commit LSN 00000027:00000758:0005, change LSN 00000027:00000750:0003, event serial 1. */
export const POSITION = 'mssql:000000270000075800050000002700000750000300000001';

/** A snapshot read: commit LSN 00000027:00000700:0001, no change LSN or serial. */
export const SNAPSHOT_POSITION = 'mssql:000000270000070000010000000000000000000000000000';

/** The primary keys of the sample ERP (`devtools/sql/`), so a change's key comes from its row. */
export const PRIMARY_KEYS: Readonly<Record<string, readonly string[]>> = {
  Item: ['ItemId'],
  Location: ['LocationId'],
  InventoryBalance: ['Sku', 'LocationCode'],
  SalesOrderHeader: ['OrderNumber'],
  SalesOrderLine: ['OrderNumber', 'LineNo'],
  PaymentTransaction: ['PaymentId'],
  Shipment: ['ShipmentId'],
  ShipmentLine: ['ShipmentId', 'LineNo'],
  ReturnAuthorization: ['RmaId'],
  Refund: ['RefundId'],
};

/** What a test says about a change; everything else takes the defaults above. */
export type ChangeOptions = {
  readonly before?: Row | null;
  readonly after?: Row | null;
  /** Defaults, for the sample ERP's tables, to its {@link PRIMARY_KEYS} columns taken from `after`, else `before`. */
  readonly key?: Row;
  readonly position?: string;
  readonly committedAt?: number;
  readonly transaction?: TransactionInfo | null;
};

/**
 * The table of a change named `name`: `[prefix.][database.][schema.]table`, the parts left out taken from
 * `erp.ErpDemo.dbo`, e.g. `Sales.SalesOrderHeader` → `erp.ErpDemo.Sales.SalesOrderHeader`.
 */
export function tableRefOf(name: string): TableRef {
  const parts = name.split('.');
  if (parts.length > 4 || parts.some((part) => part === '')) {
    throw new Error(`Table ${JSON.stringify(name)} is not [prefix.][database.][schema.]table`);
  }
  const [server, database, schema, table] = [...['erp', 'ErpDemo', 'dbo'].slice(0, 4 - parts.length), ...parts] as [
    string,
    string,
    string,
    string,
  ];
  return { server, database, schema, table };
}

/**
 * One ERP row change as the connectors decode it, e.g.
 * `changeOf('InventoryBalance', OP.update, { before, after })` or
 * `changeOf('Sales.SalesOrderHeader', OP.create, { after, key: { SalesOrderID: 43659 } })`.
 */
export function changeOf(table: string, op: Op, options: ChangeOptions = {}): ChangeEvent {
  const ref = tableRefOf(table);
  const snapshot = op === OP.read;
  const before = options.before ?? null;
  const after = options.after ?? null;
  const committedAt = options.committedAt ?? COMMITTED_AT;
  const transaction =
    options.transaction !== undefined
      ? options.transaction
      : snapshot
        ? null
        : { id: TRANSACTION_ID, totalOrder: 1, dataCollectionOrder: 1 };
  return {
    op,
    table: ref,
    key: options.key ?? keyOf(ref, after ?? before),
    before,
    after,
    source: {
      connector: 'sqlserver',
      tsMs: committedAt,
      snapshot,
      commitLsn: snapshot ? '00000027:00000700:0001' : TRANSACTION_ID,
      ...(snapshot ? {} : { changeLsn: '00000027:00000750:0003', eventSerialNo: 1 }),
    },
    position: options.position ?? (snapshot ? SNAPSHOT_POSITION : POSITION),
    tsMs: committedAt + 250,
    transaction,
  };
}

/** Where an expected event came from, when it differs from the defaults of {@link changeOf}. */
export type ExpectedSource = {
  readonly position?: string;
  readonly committedAt?: number;
  readonly correlationId?: string;
};

/**
 * The expected events of one type from one table, e.g.
 * `const stockLevelChanged = expectEvent('InventoryBalance', 'StockLevelChanged')`, then
 * `stockLevelChanged('SKU-1@WH-1', { …payload })`. Every meta field is exact
 * except `eventId`, which must be 32 lowercase hex characters (its stability and
 * distinctness are asserted separately); the correlation id defaults to
 * {@link TRANSACTION_ID}.
 */
export function expectEvent<T extends CanonicalEventType>(table: string, eventType: T) {
  return (aggregateKey: string, payload: CanonicalPayloads[T], source: ExpectedSource = {}) => ({
    meta: {
      eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventType,
      aggregateKey,
      sourceTable: Object.values(tableRefOf(table)).join('.'),
      sourcePosition: source.position ?? POSITION,
      sourceCommittedAt: source.committedAt ?? COMMITTED_AT,
      correlationId: source.correlationId ?? TRANSACTION_ID,
    },
    payload,
  });
}

/** Creates a transform's stage from config as a user would write it (defaults applied), logging nowhere. */
export function stageOf(definition: TransformDefinition, config: unknown = {}): Stage {
  return definition.create(definition.configSchema.parse(config), { logger: pino({ enabled: false }) });
}

/** The events of an emitting result; throws (failing the test) for any other result. */
export function eventsOf(result: StageResult): readonly CanonicalEvent[] {
  if (result.kind !== 'emit') throw new Error(`Expected events, got ${JSON.stringify(result, bigints)}`);
  return result.events;
}

/** The error of a failed result; throws (failing the test) for any other result. */
export function failureOf(result: StageResult): TransformError {
  if (result.kind !== 'fail') throw new Error(`Expected a failure, got ${JSON.stringify(result, bigints)}`);
  return result.error;
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

function keyOf(table: TableRef, row: Row | null): Row {
  const columns = table.schema === 'dbo' ? PRIMARY_KEYS[table.table] : undefined;
  if (columns === undefined) {
    throw new Error(`No primary key known for ${table.schema}.${table.table}; pass key to changeOf`);
  }
  return Object.fromEntries(columns.map((column) => [column, row?.[column]]));
}
