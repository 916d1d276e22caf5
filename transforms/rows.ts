import { type DecimalString } from '../core/canonical.js';
import { compareDecimals, formatDecimal, isDecimalString, parseDecimal, SCALE } from '../core/decimal.js';
import { type ChangeEvent, OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import { type StageResult } from '../core/stage.js';

/**
 * Reading ERP row images inside pure stages: typed columns, and failures that
 * name the column, the table and the row key instead of exceptions.
 *
 * Values arrive as `connectors/` decodes them: DECIMAL/NUMERIC/MONEY as decimal
 * strings with their scale, DATETIMEOFFSET as ISO-8601 strings with offset,
 * INT as number, BIGINT as bigint, BIT as boolean, character types as strings.
 */

/** What a column type's `read` returns for a value it rejects; `readColumns` turns it into a `TransformError`. */
export const INVALID: unique symbol = Symbol.for('cdc-sync.invalid-column-value');

/** How one column's decoded value is checked and converted; `read` returns {@link INVALID} for a value it rejects. */
export type ColumnType<T> = {
  /** What the column must hold, for messages: "expected <expected>, got …". */
  readonly expected: string;
  readonly read: (value: unknown) => T | typeof INVALID;
};

/**
 * A column type of a stage package's own: `expected` completes "expected …, got …" in messages, and `read` returns
 * the converted value or {@link INVALID}. `read` must be pure and must not throw.
 */
export function columnType<T>(expected: string, read: (value: unknown) => T | typeof INVALID): ColumnType<T> {
  return { expected, read };
}

/** Column name to column type, e.g. `{ Sku: COLUMN.identifier, QtyOnHand: COLUMN.quantity }`. */
export type ColumnSpec = Readonly<Record<string, ColumnType<unknown>>>;

/** The typed row a {@link ColumnSpec} reads. */
export type RowOf<S extends ColumnSpec> = { readonly [K in keyof S]: S[K] extends ColumnType<infer T> ? T : never };

/** A read row, or the `TransformError` naming the first column that was missing or of the wrong type. */
export type ColumnsResult<S extends ColumnSpec> =
  { readonly ok: true; readonly row: RowOf<S> } | { readonly ok: false; readonly error: TransformError };

/** Which row image of a change to read. */
export type Image = 'before' | 'after';

const ISO_TIMESTAMP_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The column types stages use. Decimals are rescaled to the canonical scale only when no digit is lost. */
export const COLUMN = {
  /** A business identifier such as an order number or a SKU: a string that is not blank, kept exactly. */
  identifier: {
    expected: 'a non-blank string',
    read: (value) => (typeof value === 'string' && value.trim() !== '' ? value : INVALID),
  } satisfies ColumnType<string>,
  /**
   * A status or type code. CHAR(n) columns arrive blank-padded to their width
   * (SQL Server and PostgreSQL both pad), so trailing blanks are dropped, as
   * the databases themselves ignore them when comparing.
   */
  code: {
    expected: 'a non-blank code',
    read: (value) => (typeof value === 'string' && value.trimEnd() !== '' ? value.trimEnd() : INVALID),
  } satisfies ColumnType<string>,
  /** Free text, possibly empty. */
  text: {
    expected: 'a string',
    read: (value) => (typeof value === 'string' ? value : INVALID),
  } satisfies ColumnType<string>,
  /** A quantity, at the canonical quantity scale (3). */
  quantity: decimalColumn(SCALE.quantity),
  /** An amount of money, at the canonical money scale (4). */
  money: decimalColumn(SCALE.money),
  /** An INT column. */
  integer: {
    expected: 'an integer',
    read: (value) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : INVALID),
  } satisfies ColumnType<number>,
  /**
   * A TINYINT, SMALLINT or INT quantity (Debezium: a number), such as AdventureWorks' `ProductInventory.Quantity`, as
   * a canonical quantity at scale 3.
   */
  integerQuantity: {
    expected: 'an integer quantity',
    read: (value) =>
      typeof value === 'number' && Number.isSafeInteger(value) ? `${value}.${'0'.repeat(SCALE.quantity)}` : INVALID,
  } satisfies ColumnType<DecimalString>,
  /** An INT or BIGINT surrogate id, as a decimal string so BIGINT keeps every digit. */
  integerId: {
    expected: 'an integer id',
    read: (value) =>
      typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)) ? String(value) : INVALID,
  } satisfies ColumnType<string>,
  /** A DATETIMEOFFSET (Debezium ZonedTimestamp), kept exactly as the source wrote it. */
  timestamp: {
    expected: 'an ISO-8601 timestamp with offset',
    read: (value) => (typeof value === 'string' && ISO_TIMESTAMP_WITH_OFFSET.test(value) ? value : INVALID),
  } satisfies ColumnType<string>,
  /** A BIT column (Debezium: boolean). */
  bit: {
    expected: 'a boolean',
    read: (value) => (typeof value === 'boolean' ? value : INVALID),
  } satisfies ColumnType<boolean>,
  /** A DATE column (decoded as `YYYY-MM-DD`), kept as that string. */
  date: {
    expected: 'a date YYYY-MM-DD',
    read: (value) => (typeof value === 'string' && isCalendarDate(value) ? value : INVALID),
  } satisfies ColumnType<string>,
  /** A UNIQUEIDENTIFIER or UUID column, in lower case (SQL Server writes GUIDs in upper case). */
  uuid: {
    expected: 'a UUID',
    read: (value) => (typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : INVALID),
  } satisfies ColumnType<string>,
  /**
   * A DECIMAL(precision, scale) or NUMERIC column, at its own scale: a value with more decimals than `scale`, or
   * more integer digits than `precision - scale`, is rejected, never rounded.
   */
  decimal: (precision: number, scale: number): ColumnType<DecimalString> => {
    if (!Number.isInteger(precision) || precision < 1 || precision > 38) {
      throw new RangeError(`decimal(${precision}, ${scale}): the precision must be a whole number from 1 to 38`);
    }
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new RangeError(`decimal(${precision}, ${scale}): the scale must be a whole number from 0 to the precision`);
    }
    const scaled = decimalColumn(scale);
    return {
      expected: `a decimal(${precision},${scale}) string`,
      read: (value) => {
        const read = scaled.read(value);
        return read !== INVALID && integerDigits(read) <= precision - scale ? read : INVALID;
      },
    };
  },
  /**
   * A DATETIME, DATETIME2 or SMALLDATETIME column (zone-less; Debezium Timestamp, MicroTimestamp or NanoTimestamp,
   * decoded as `YYYY-MM-DDTHH:MM:SS.fff…`) that holds local time in the IANA `zone` the ERP runs in. Read as an
   * ISO-8601 timestamp with that zone's offset at that moment, daylight saving included: a local time that occurs
   * twice (clocks set back) is the earlier of the two moments, and one that never occurs (clocks set forward) is
   * moved forward by the length of the gap, as java.time does.
   */
  localDateTime: (zone: string): ColumnType<string> => {
    const offsets = zoneOffsets(zone);
    return {
      expected: `a date and time without offset (local time in ${zone})`,
      read: (value) => (typeof value === 'string' ? (atZone(value, offsets) ?? INVALID) : INVALID),
    };
  },
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** How many digits a decimal string has before its point, leading zeros aside (`"0.5"` has none). */
function integerDigits(decimal: DecimalString): number {
  return decimal.replace(/^-/, '').split('.')[0]!.replace(/^0+/, '').length;
}

/** True for `YYYY-MM-DD` naming a day that exists. */
function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The offset of `zone` in minutes east of UTC at a moment, read from the platform's time-zone data. */
function zoneOffsets(zone: string): (utcMs: number) => number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`localDateTime(${JSON.stringify(zone)}): not an IANA time zone such as Europe/Berlin`);
  }
  return (utcMs) => {
    const whole = Math.floor(utcMs / 1000) * 1000;
    const parts = format.formatToParts(whole);
    const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((entry) => entry.type === type)!.value);
    const local = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
    return Math.round((local - whole) / MINUTE_MS);
  };
}

/** `value`, a local date and time, as an ISO-8601 timestamp with the offset `offsetAt` gives; undefined if invalid. */
function atZone(value: string, offsetAt: (utcMs: number) => number): string | undefined {
  const match = LOCAL_DATE_TIME.exec(value);
  if (match === null || !isCalendarDate(value.slice(0, 10))) return undefined;
  const [hour, minute, second] = [Number(match[4]), Number(match[5]), Number(match[6] ?? '0')];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = match[7] ?? '';
  const wall = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), hour, minute, second);
  // The offsets a day either side: a zone changes its offset at most once within two days.
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  const fits = [...new Set([before, after])].filter((offset) => offsetAt(wall - offset * MINUTE_MS) === offset);
  // Twice (clocks set back): the earlier moment, under the larger offset. Never (clocks set forward): the moment the
  // offset before the gap gives, shown under the offset after it.
  const instant = fits.length > 0 ? wall - Math.max(...fits) * MINUTE_MS : wall - before * MINUTE_MS;
  const offset = offsetAt(instant);
  const local = new Date(instant + offset * MINUTE_MS).toISOString().slice(0, 19);
  return `${local}${fraction}${formatOffset(offset)}`;
}

/** `+02:00`, `-05:00`, or `Z` for UTC. */
function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The same column type, also accepting SQL NULL. */
export function nullable<T>(type: ColumnType<T>): ColumnType<T | null> {
  return {
    expected: `${type.expected} or null`,
    read: (value) => (value === null ? null : type.read(value)),
  };
}

/**
 * Reads and checks the columns of one row image. Returns the typed row, or a
 * `TransformError` (tagged with `stage`) such as
 * `Missing column QtyOnHand in ErpDemo.dbo.InventoryBalance key {"Sku":"SKU-1","LocationCode":"WH-1"}`.
 * Never throws for bad data.
 */
export function readColumns<S extends ColumnSpec>(
  change: ChangeEvent,
  image: Image,
  spec: S,
  stage: string,
): ColumnsResult<S> {
  const row = change[image];
  if (row === null) return { ok: false, error: missingImage(change, image, stage) };
  const values: Record<string, unknown> = {};
  for (const [column, type] of Object.entries(spec)) {
    if (!Object.hasOwn(row, column) || row[column] === undefined) {
      return { ok: false, error: new TransformError(`Missing column ${column} in ${where(change, image)}`, { stage }) };
    }
    const value = type.read(row[column]);
    if (value === INVALID) {
      const message = `Invalid column ${column} in ${where(change, image)}: expected ${type.expected}, got ${describeValue(row[column])}`;
      return { ok: false, error: new TransformError(message, { stage }) };
    }
    values[column] = value;
  }
  return { ok: true, row: values as RowOf<S> };
}

/**
 * The error for a change that lacks the row image a stage needs. SQL Server
 * CDC always logs full before images; PostgreSQL logs them only for tables
 * with `REPLICA IDENTITY FULL`.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-replica-identity
 */
export function missingImage(change: ChangeEvent, image: Image, stage: string, needed?: string): TransformError {
  const why = needed === undefined ? '' : `, so ${needed}`;
  const hint =
    image === 'before'
      ? '; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)'
      : '';
  return new TransformError(`No ${image} image in ${rowRef(change)}${why}${hint}`, { stage });
}

/** `ErpDemo.dbo.InventoryBalance key {"Sku":"SKU-1","LocationCode":"WH-1"}`: where a row came from, for messages. */
export function rowRef(change: Pick<ChangeEvent, 'table' | 'key'>): string {
  const { database, schema, table } = change.table;
  return `${database}.${schema}.${table} key ${keyJson(change.key)}`;
}

/**
 * The skip for changes that carry no row: a truncate (PostgreSQL) empties the
 * whole table and a logical decoding message belongs to no row, so neither
 * maps onto per-row canonical events. Tombstones never reach a stage: the
 * runner drops them, because the delete before each one carried the change.
 */
export function skipRowlessChange(change: ChangeEvent): Extract<StageResult, { readonly kind: 'skip' }> {
  const table = `${change.table.database}.${change.table.schema}.${change.table.table}`;
  const reason =
    change.op === OP.truncate
      ? `Truncate of ${table} carries no rows; re-snapshot the table to rebuild what was derived from it`
      : `Change with op ${change.op} on ${table} carries no row`;
  return { kind: 'skip', reason };
}

/** True when two decimal strings are numerically equal (`"12.5"` and `"12.500"` are). */
export function sameDecimal(a: DecimalString, b: DecimalString): boolean {
  return compareDecimals(a, b) === 0;
}

function decimalColumn(scale: number): ColumnType<DecimalString> {
  return {
    expected: `a decimal string with at most ${scale} decimals`,
    read: (value) => {
      if (!isDecimalString(value)) return INVALID;
      const scaled = formatDecimal(parseDecimal(value, 'column'), scale);
      // formatDecimal would round; a quantity or amount must never change on its way through.
      return sameDecimal(scaled, value) ? scaled : INVALID;
    },
  };
}

function where(change: ChangeEvent, image: Image): string {
  return image === 'after' ? rowRef(change) : `the before image of ${rowRef(change)}`;
}

/** The key as JSON in its column order; BIGINT values as JSON numbers with every digit. */
function keyJson(key: ChangeEvent['key']): string {
  const entries = Object.entries(key).map(([column, value]) => {
    const json = typeof value === 'bigint' ? value.toString() : describeValue(value);
    return `${JSON.stringify(column)}:${json}`;
  });
  return `{${entries.join(',')}}`;
}

/** A decoded value for messages: strings quoted, BIGINT as `12n` so it is told apart from an INT. */
function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  // A replacer, so a BIGINT nested in a decoded struct cannot make the message itself throw.
  return (
    JSON.stringify(value, (_key, nested: unknown) => (typeof nested === 'bigint' ? `${nested}n` : nested)) ??
    String(value)
  );
}
