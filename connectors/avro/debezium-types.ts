/**
 * Debezium's and Kafka Connect's logical types as exact TypeScript values.
 *
 * Debezium writes temporal and decimal columns as Avro primitives and names
 * their meaning in the Connect schema name, which Confluent's AvroConverter
 * copies into the `connect.name` attribute. Only Connect's own `Decimal`,
 * `Date`, `Time` and `Timestamp` also get an Avro `logicalType`; the
 * `io.debezium.time.*` types carry nothing but `connect.name`. So this module
 * keys every conversion on `connect.name` and falls back to the Avro
 * `logicalType` only for plain Avro schemas.
 *
 * Value representation, chosen so that nothing is ever a float or loses digits:
 *
 * | Connect name | Avro | TypeScript value |
 * | --- | --- | --- |
 * | `org.apache.kafka.connect.data.Decimal` | bytes | decimal string with exactly `scale` fraction digits: `"12.500"`, `"-0.0100"` |
 * | `io.debezium.data.VariableScaleDecimal` | record {scale, value} | decimal string with the record's scale |
 * | `io.debezium.time.Date`, `org.apache.kafka.connect.data.Date` | int (days) | `"YYYY-MM-DD"` |
 * | `io.debezium.time.Time`, `org.apache.kafka.connect.data.Time` | int (ms of day) | `"HH:MM:SS.fff"` |
 * | `io.debezium.time.MicroTime` | long (µs of day) | `"HH:MM:SS.ffffff"` |
 * | `io.debezium.time.NanoTime` | long (ns of day) | `"HH:MM:SS.fffffffff"` |
 * | `io.debezium.time.Timestamp` | long (ms, local) | `"YYYY-MM-DDTHH:MM:SS.fff"` (no zone) |
 * | `io.debezium.time.MicroTimestamp` | long (µs, local) | `"YYYY-MM-DDTHH:MM:SS.ffffff"` (no zone) |
 * | `io.debezium.time.NanoTimestamp` | long (ns, local) | `"YYYY-MM-DDTHH:MM:SS.fffffffff"` (no zone) |
 * | `org.apache.kafka.connect.data.Timestamp` | long (ms, UTC) | `"YYYY-MM-DDTHH:MM:SS.fffZ"` |
 * | `io.debezium.time.ZonedTimestamp`, `ZonedTime`, `io.debezium.data.Uuid`, `Enum`, `Json`, `Xml` | string | the string as sent |
 * | none (plain Avro `long`, e.g. a BIGINT column, `ts_ms`) | long | `bigint`, always |
 * | none (plain Avro `int`, `float`, `double`, `boolean`, `string`, `bytes`) | | `number`, `number`, `number`, `boolean`, `string`, `Buffer` |
 *
 * Every Avro `long` is a `bigint`, without exception, so a column's
 * TypeScript type never depends on its magnitude; the logical types above
 * turn their longs into strings. Years outside 0000–9999 use the ISO 8601
 * expanded form `±YYYYYY`. Nulls of `["null", T]` unions stay `null`.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-decimal-types
 * @see https://docs.confluent.io/platform/current/schema-registry/connect.html
 */

/** The Connect schema names this module converts, as they appear in `connect.name`. */
export const CONNECT_NAME = {
  decimal: 'org.apache.kafka.connect.data.Decimal',
  connectDate: 'org.apache.kafka.connect.data.Date',
  connectTime: 'org.apache.kafka.connect.data.Time',
  connectTimestamp: 'org.apache.kafka.connect.data.Timestamp',
  variableScaleDecimal: 'io.debezium.data.VariableScaleDecimal',
  date: 'io.debezium.time.Date',
  time: 'io.debezium.time.Time',
  microTime: 'io.debezium.time.MicroTime',
  nanoTime: 'io.debezium.time.NanoTime',
  timestamp: 'io.debezium.time.Timestamp',
  microTimestamp: 'io.debezium.time.MicroTimestamp',
  nanoTimestamp: 'io.debezium.time.NanoTimestamp',
  zonedTimestamp: 'io.debezium.time.ZonedTimestamp',
  zonedTime: 'io.debezium.time.ZonedTime',
  uuid: 'io.debezium.data.Uuid',
  enum: 'io.debezium.data.Enum',
  json: 'io.debezium.data.Json',
  xml: 'io.debezium.data.Xml',
} as const;

/**
 * A value as the decoder hands it out: the representation of every Avro type
 * and logical type named in this module's table.
 */
export type AvroValue =
  null | boolean | number | bigint | string | Buffer | readonly AvroValue[] | { readonly [key: string]: AvroValue };

/**
 * One logical type: how its raw Avro value (as avsc decodes it, with every
 * `long` a `bigint`) becomes the exact TypeScript value, and back. Both
 * directions throw a `RangeError` naming the bad value; callers add where it came from.
 */
export type LogicalConversion = {
  /** The Connect name (or Avro logical type) this conversion is for, used in messages. */
  readonly name: string;
  readonly fromAvro: (raw: unknown) => AvroValue;
  readonly toAvro: (value: unknown) => unknown;
};

/** The attributes of an Avro schema node that select a logical conversion. */
export type LogicalTypeAttributes = {
  readonly 'connect.name'?: unknown;
  readonly 'connect.parameters'?: unknown;
  readonly logicalType?: unknown;
  readonly scale?: unknown;
};

const MS_PER_SECOND = 1_000n;
const US_PER_SECOND = 1_000_000n;
const NS_PER_SECOND = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400n;

/**
 * Picks the conversion for an Avro schema node, keyed on `connect.name`
 * first and on the Avro `logicalType` second; `undefined` when the node's
 * value needs no conversion (including string-typed Debezium types such as
 * `ZonedTimestamp`, which are kept exactly as sent).
 *
 * Throws a `RangeError` when a decimal's scale is missing or not an integer.
 */
export function logicalConversionFor(node: LogicalTypeAttributes): LogicalConversion | undefined {
  const connectName = typeof node['connect.name'] === 'string' ? node['connect.name'] : undefined;
  switch (connectName) {
    case CONNECT_NAME.decimal:
      return decimalConversion(decimalScale(node));
    case CONNECT_NAME.variableScaleDecimal:
      return VARIABLE_SCALE_DECIMAL;
    case CONNECT_NAME.date:
    case CONNECT_NAME.connectDate:
      return DATE;
    case CONNECT_NAME.time:
    case CONNECT_NAME.connectTime:
      return timeConversion(connectName, MS_PER_SECOND, 3);
    case CONNECT_NAME.microTime:
      return timeConversion(connectName, US_PER_SECOND, 6);
    case CONNECT_NAME.nanoTime:
      return timeConversion(connectName, NS_PER_SECOND, 9);
    case CONNECT_NAME.timestamp:
      return timestampConversion(connectName, MS_PER_SECOND, 3, '');
    case CONNECT_NAME.microTimestamp:
      return timestampConversion(connectName, US_PER_SECOND, 6, '');
    case CONNECT_NAME.nanoTimestamp:
      return timestampConversion(connectName, NS_PER_SECOND, 9, '');
    case CONNECT_NAME.connectTimestamp:
      return timestampConversion(connectName, MS_PER_SECOND, 3, 'Z');
    default:
      if (connectName !== undefined) return undefined;
  }
  // A schema that did not come through Kafka Connect: standard Avro logical types.
  switch (node.logicalType) {
    case 'decimal':
      return decimalConversion(decimalScale(node));
    case 'date':
      return DATE;
    case 'time-millis':
      return timeConversion('time-millis', MS_PER_SECOND, 3);
    case 'time-micros':
      return timeConversion('time-micros', US_PER_SECOND, 6);
    case 'timestamp-millis':
      return timestampConversion('timestamp-millis', MS_PER_SECOND, 3, 'Z');
    case 'timestamp-micros':
      return timestampConversion('timestamp-micros', US_PER_SECOND, 6, 'Z');
    default:
      return undefined;
  }
}

/** Scale of a Connect Decimal: `connect.parameters.scale` (a string), else the Avro `scale` attribute, else 0. */
function decimalScale(node: LogicalTypeAttributes): number {
  const parameters = node['connect.parameters'];
  const fromParameters =
    typeof parameters === 'object' && parameters !== null
      ? (parameters as Record<string, unknown>)['scale']
      : undefined;
  const raw = fromParameters ?? node.scale ?? 0;
  const scale = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof scale !== 'number' || !Number.isInteger(scale)) {
    throw new RangeError(`Invalid decimal scale ${JSON.stringify(raw)}`);
  }
  return scale;
}

function decimalConversion(scale: number): LogicalConversion {
  return {
    name: CONNECT_NAME.decimal,
    fromAvro: (raw) => decimalFromUnscaled(unscaledFromBytes(asBytes(raw, CONNECT_NAME.decimal)), scale),
    toAvro: (value) => bytesFromUnscaled(unscaledFromDecimal(asString(value, CONNECT_NAME.decimal), scale)),
  };
}

const VARIABLE_SCALE_DECIMAL: LogicalConversion = {
  name: CONNECT_NAME.variableScaleDecimal,
  fromAvro: (raw) => {
    const record = raw as { scale?: unknown; value?: unknown } | null;
    const scale = record?.scale;
    if (typeof scale !== 'number' || !Number.isInteger(scale)) {
      throw new RangeError(`Invalid ${CONNECT_NAME.variableScaleDecimal} scale ${String(scale)}`);
    }
    return decimalFromUnscaled(unscaledFromBytes(asBytes(record?.value, CONNECT_NAME.variableScaleDecimal)), scale);
  },
  toAvro: (value) => {
    const text = asString(value, CONNECT_NAME.variableScaleDecimal);
    const scale = DECIMAL_TEXT.exec(text)?.[3]?.length ?? 0;
    return { scale, value: bytesFromUnscaled(unscaledFromDecimal(text, scale)) };
  },
};

const DATE: LogicalConversion = {
  name: CONNECT_NAME.date,
  fromAvro: (raw) => formatDate(Number(asInteger(raw, CONNECT_NAME.date))),
  toAvro: (value) => parseDate(asString(value, CONNECT_NAME.date)),
};

function timeConversion(name: string, unitsPerSecond: bigint, digits: number): LogicalConversion {
  // Time and connect Time are Avro ints (numbers); MicroTime and NanoTime are longs (bigints).
  const isInt = unitsPerSecond === MS_PER_SECOND;
  return {
    name,
    fromAvro: (raw) => {
      const units = asInteger(raw, name);
      if (units < 0n || units > SECONDS_PER_DAY * unitsPerSecond) {
        throw new RangeError(`Invalid ${name} ${units} outside one day`);
      }
      return formatTimeOfDay(units, unitsPerSecond, digits);
    },
    toAvro: (value) => {
      const units = parseTimeOfDay(asString(value, name), unitsPerSecond, digits, name);
      return isInt ? Number(units) : units;
    },
  };
}

function timestampConversion(name: string, unitsPerSecond: bigint, digits: number, zone: '' | 'Z'): LogicalConversion {
  return {
    name,
    fromAvro: (raw) => {
      const units = asInteger(raw, name);
      const unitsPerDay = SECONDS_PER_DAY * unitsPerSecond;
      const days = floorDiv(units, unitsPerDay);
      return `${formatDate(Number(days))}T${formatTimeOfDay(units - days * unitsPerDay, unitsPerSecond, digits)}${zone}`;
    },
    toAvro: (value) => {
      const text = asString(value, name);
      const match = new RegExp(`^(.+)T(.+)${zone}$`).exec(text);
      if (match === null) throw new RangeError(`Invalid ${name} ${JSON.stringify(text)}`);
      const days = BigInt(parseDate(match[1]!));
      const timeOfDay = parseTimeOfDay(match[2]!, unitsPerSecond, digits, name);
      // 24:00:00 is a time of day (PostgreSQL allows it) but not a moment of a timestamp's day.
      if (timeOfDay === SECONDS_PER_DAY * unitsPerSecond)
        throw new RangeError(`Invalid ${name} ${JSON.stringify(text)}`);
      return days * SECONDS_PER_DAY * unitsPerSecond + timeOfDay;
    },
  };
}

// Decimals

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Formats an unscaled integer as a decimal string with exactly `scale` fraction digits.
 * A negative scale multiplies by a power of ten, as in Java's `BigDecimal`.
 */
export function decimalFromUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) return `${negative ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/**
 * Parses a decimal string into its unscaled integer at `scale`. Fewer fraction
 * digits than `scale` are padded with zeros; more would lose digits and are
 * a `RangeError`, as is anything but an optional minus, digits and an optional fraction.
 */
export function unscaledFromDecimal(text: string, scale: number): bigint {
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) throw new RangeError(`Invalid decimal ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > Math.max(scale, 0)) {
    throw new RangeError(`Decimal ${JSON.stringify(text)} has more fraction digits than scale ${scale}`);
  }
  let unscaled: bigint;
  if (scale >= 0) {
    unscaled = BigInt(`${whole}${fraction.padEnd(scale, '0')}`);
  } else {
    const factor = 10n ** BigInt(-scale);
    unscaled = BigInt(whole!) / factor;
    if (unscaled * factor !== BigInt(whole!)) {
      throw new RangeError(`Decimal ${JSON.stringify(text)} is not a multiple of 10^${-scale}`);
    }
  }
  return sign === '-' ? -unscaled : unscaled;
}

/** Reads a big-endian two's-complement integer, as Java's `BigInteger(byte[])` writes it. */
export function unscaledFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new RangeError('Invalid decimal bytes of length 0');
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  // The top bit of the first byte is the sign.
  return bytes[0]! >= 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** Writes the shortest big-endian two's-complement form, byte for byte what Java's `BigInteger.toByteArray()` gives. */
export function bytesFromUnscaled(unscaled: bigint): Buffer {
  let length = 1;
  while (unscaled < -(1n << BigInt(length * 8 - 1)) || unscaled >= 1n << BigInt(length * 8 - 1)) length += 1;
  const twos = unscaled < 0n ? (1n << BigInt(length * 8)) + unscaled : unscaled;
  return Buffer.from(twos.toString(16).padStart(length * 2, '0'), 'hex');
}

// Dates and times

/** Formats days since 1970-01-01 (proleptic Gregorian) as `YYYY-MM-DD`. */
export function formatDate(epochDays: number): string {
  const { year, month, day } = civilFromDays(epochDays);
  const yearText =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${yearText}-${pad2(month)}-${pad2(day)}`;
}

/** Parses `YYYY-MM-DD` (or `±YYYYYY-MM-DD`) into days since 1970-01-01; rejects dates that do not exist. */
export function parseDate(text: string): number {
  const match = /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) throw new RangeError(`Invalid date ${JSON.stringify(text)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const days = daysFromCivil(year, month, day);
  const back = civilFromDays(days);
  if (month < 1 || month > 12 || back.year !== year || back.month !== month || back.day !== day) {
    throw new RangeError(`Invalid date ${JSON.stringify(text)}`);
  }
  return days;
}

function formatTimeOfDay(units: bigint, unitsPerSecond: bigint, digits: number): string {
  const seconds = units / unitsPerSecond;
  const fraction = units % unitsPerSecond;
  const hh = seconds / 3600n;
  const mm = (seconds / 60n) % 60n;
  const ss = seconds % 60n;
  return `${pad2(Number(hh))}:${pad2(Number(mm))}:${pad2(Number(ss))}.${fraction.toString().padStart(digits, '0')}`;
}

function parseTimeOfDay(text: string, unitsPerSecond: bigint, digits: number, name: string): bigint {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text);
  const fraction = match?.[4] ?? '';
  if (match === null || fraction.length > digits) throw new RangeError(`Invalid ${name} ${JSON.stringify(text)}`);
  const [hh, mm, ss] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const units = BigInt(hh * 3600 + mm * 60 + ss) * unitsPerSecond + BigInt(fraction.padEnd(digits, '0') || '0');
  if (mm > 59 || ss > 59 || units > SECONDS_PER_DAY * unitsPerSecond) {
    throw new RangeError(`Invalid ${name} ${JSON.stringify(text)}`);
  }
  return units;
}

// Howard Hinnant's days_from_civil / civil_from_days: exact integer arithmetic for any year.
// @see https://howardhinnant.github.io/date_algorithms.html
function civilFromDays(epochDays: number): { year: number; month: number; day: number } {
  const z = epochDays + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Helpers

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

function asInteger(raw: unknown, name: string): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
  throw new RangeError(`Invalid ${name} ${String(raw)}, expected an integer`);
}

function asBytes(raw: unknown, name: string): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  throw new RangeError(`Invalid ${name} ${String(raw)}, expected bytes`);
}

function asString(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  throw new RangeError(`Invalid ${name} ${String(value)}, expected a string`);
}
