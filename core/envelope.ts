/**
 * The Debezium change-event envelope, named once.
 *
 * Every source connector (SQL Server, PostgreSQL, MySQL) produces the same
 * envelope: `before`, `after`, `source`, `op`, `ts_ms` and, with
 * `provide.transaction.metadata=true`, `transaction`. `connectors/` decodes
 * raw records into {@link ChangeEvent}; everything downstream reads only this
 * shape, so source differences stop at the connector edge.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 */

/** Envelope field names as Debezium writes them. */
export const ENVELOPE_FIELDS = {
  before: 'before',
  after: 'after',
  source: 'source',
  op: 'op',
  tsMs: 'ts_ms',
  transaction: 'transaction',
} as const;

/** Debezium operation codes. `m` (message) is emitted only by the PostgreSQL logical-decoding-message feature. */
export const OP = {
  create: 'c',
  update: 'u',
  delete: 'd',
  read: 'r',
  truncate: 't',
  message: 'm',
} as const;

export type Op = (typeof OP)[keyof typeof OP];

const OP_CODES: ReadonlySet<string> = new Set(Object.values(OP));

/** True for the op codes this file names. */
export function isOp(value: unknown): value is Op {
  return typeof value === 'string' && OP_CODES.has(value);
}

/** A row as decoded from Avro: column name to exact value (see `connectors/` for the type mapping). */
export type Row = Readonly<Record<string, unknown>>;

/** Which ERP table a change came from. */
export type TableRef = {
  /** The Debezium topic prefix (`topic.prefix`), e.g. `erp`. */
  readonly server: string;
  readonly database: string;
  readonly schema: string;
  readonly table: string;
};

/** Debezium's `transaction` block: which transaction a change belongs to and its order within it. */
export type TransactionInfo = {
  readonly id: string;
  readonly totalOrder: number;
  readonly dataCollectionOrder: number;
};

/** Source-specific position fields, kept as Debezium sent them for logging and audit. */
export type SourceInfo = {
  readonly connector: string;
  /** Source commit timestamp, epoch milliseconds. */
  readonly tsMs: number;
  readonly snapshot: boolean;
  /** SQL Server: LSN of the commit, e.g. `00000027:00000758:0005`. */
  readonly commitLsn?: string;
  /** SQL Server: LSN of the change. */
  readonly changeLsn?: string;
  /** SQL Server: disambiguates changes with equal LSNs (an update's before and after). */
  readonly eventSerialNo?: number;
  /** PostgreSQL: WAL position of the change. */
  readonly lsn?: string;
  /** MySQL/MariaDB binlog file and position. */
  readonly file?: string;
  readonly pos?: number;
  readonly row?: number;
};

/**
 * A decoded change to one row.
 *
 * `position` orders changes to the same row exactly as the database
 * committed them; compare positions with plain string comparison (see
 * `core/position.ts`). It is the version every read model guards on.
 */
export type ChangeEvent<R extends Row = Row> = {
  readonly op: Op;
  readonly table: TableRef;
  /** The primary-key columns, from the Kafka record key. */
  readonly key: Row;
  /** Row image before the change; null for creates and reads, and when the source does not supply it. */
  readonly before: R | null;
  /** Row image after the change; null for deletes. */
  readonly after: R | null;
  readonly source: SourceInfo;
  readonly position: string;
  /** When Debezium processed the change, epoch milliseconds. */
  readonly tsMs: number;
  readonly transaction: TransactionInfo | null;
};

/** A Kafka record with a key and a null value: Debezium's tombstone that follows a delete for log compaction. */
export type Tombstone = { readonly kind: 'tombstone'; readonly key: Row };
