/**
 * Source positions: the version of every change downstream.
 *
 * A position is a fixed-width lowercase hex string, prefixed by the source
 * kind, so that plain string comparison (in TypeScript and in MongoDB query
 * operators such as `$lt`) orders two changes to the same row exactly as the
 * database committed them. Positions of different source kinds are never
 * compared with each other: one row lives in one database.
 *
 * - SQL Server: `mssql:` + commit LSN (20 hex) + change LSN (20 hex) + event serial number (8 hex).
 *   @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * - PostgreSQL: `pg:` + commit LSN (16 hex) + change LSN (16 hex).
 *   @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-create-events
 * - MySQL/MariaDB: `mysql:` + binlog file sequence (10 hex) + position (16 hex) + row (8 hex).
 */

/** A position as produced by one of the `*Position` functions; compare with {@link comparePositions}. */
export type SourcePosition = string & { readonly __brand: 'SourcePosition' };

/** The positions of SQL Server CDC, as Debezium writes them into `source`. */
export type SqlServerPositionFields = {
  /** e.g. `00000027:00000758:0005`; present on every event, including snapshot reads. */
  readonly commitLsn: string;
  /** Absent (null) on snapshot reads. */
  readonly changeLsn: string | null;
  /** Absent (null) on snapshot reads. */
  readonly eventSerialNo: number | null;
};

const SQL_SERVER_LSN = /^([0-9a-f]{8}):([0-9a-f]{8}):([0-9a-f]{4})$/i;

/** Encodes SQL Server's LSN triple. Throws a `RangeError` naming the field for a malformed LSN. */
export function sqlServerPosition(fields: SqlServerPositionFields): SourcePosition {
  const commit = sqlServerLsnHex(fields.commitLsn, 'commit_lsn');
  const change = fields.changeLsn === null ? '0'.repeat(20) : sqlServerLsnHex(fields.changeLsn, 'change_lsn');
  const serial = fixedHex(fields.eventSerialNo ?? 0, 8, 'event_serial_no');
  return `mssql:${commit}${change}${serial}` as SourcePosition;
}

/**
 * Encodes PostgreSQL WAL positions. The commit LSN orders transactions; the change
 * LSN orders changes within one. Both are unsigned 64-bit numbers.
 */
export function postgresPosition(fields: { readonly commitLsn: bigint; readonly lsn: bigint }): SourcePosition {
  return `pg:${fixedHex(fields.commitLsn, 16, 'lastCommitLsn')}${fixedHex(fields.lsn, 16, 'lsn')}` as SourcePosition;
}

/** Encodes a MySQL/MariaDB binlog coordinate; the file's numeric suffix orders files. */
export function mysqlPosition(fields: {
  readonly file: string;
  readonly pos: number;
  readonly row: number;
}): SourcePosition {
  const match = /\.(\d+)$/.exec(fields.file);
  if (match === null) throw new RangeError(`Invalid binlog file name ${JSON.stringify(fields.file)} in source.file`);
  const sequence = fixedHex(Number(match[1]), 10, 'file');
  return `mysql:${sequence}${fixedHex(fields.pos, 16, 'pos')}${fixedHex(fields.row, 8, 'row')}` as SourcePosition;
}

/** Orders two positions of the same source kind: negative, zero or positive. */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Checks that a string has the shape of a position; used when reading positions back from storage. */
export function isSourcePosition(value: unknown): value is SourcePosition {
  return typeof value === 'string' && /^(mssql:[0-9a-f]{48}|pg:[0-9a-f]{32}|mysql:[0-9a-f]{34})$/.test(value);
}

function sqlServerLsnHex(lsn: string, field: string): string {
  const match = SQL_SERVER_LSN.exec(lsn);
  if (match === null) throw new RangeError(`Invalid SQL Server LSN ${JSON.stringify(lsn)} in source.${field}`);
  return `${match[1]}${match[2]}${match[3]}`.toLowerCase();
}

function fixedHex(value: number | bigint, width: number, field: string): string {
  const big = BigInt(value);
  const hex = big.toString(16);
  if (big < 0n || hex.length > width || (typeof value === 'number' && !Number.isInteger(value))) {
    throw new RangeError(`Invalid position value ${String(value)} in source.${field}`);
  }
  return hex.padStart(width, '0');
}
