import { describe, expect, it } from 'vitest';
import {
  bytesFromUnscaled,
  CONNECT_NAME,
  decimalFromUnscaled,
  formatDate,
  logicalConversionFor,
  type LogicalTypeAttributes,
  parseDate,
  unscaledFromBytes,
  unscaledFromDecimal,
} from './debezium-types.js';

const decimal = (scale: number): LogicalTypeAttributes => ({
  'connect.name': CONNECT_NAME.decimal,
  'connect.parameters': { scale: String(scale), 'connect.decimal.precision': '19' },
  logicalType: 'decimal',
  scale,
});
const named = (name: string): LogicalTypeAttributes => ({ 'connect.name': name });

function conversion(node: LogicalTypeAttributes) {
  const found = logicalConversionFor(node);
  if (found === undefined) throw new Error(`No conversion for ${JSON.stringify(node)}`);
  return found;
}

describe('decimal bytes', () => {
  it.each([
    ['00', 0n],
    ['01', 1n],
    ['7f', 127n],
    ['0080', 128n],
    ['ff', -1n],
    ['80', -128n],
    ['ff7f', -129n],
    ['30d4', 12500n],
    ['9c', -100n],
    ['00ffffffffffffffff', 18446744073709551615n],
    ['7fffffffffffffffffffffffffffffffffffffff', 2n ** 159n - 1n],
  ])('%s is the unscaled integer %s, and back in the shortest form', (hex, unscaled) => {
    expect(unscaledFromBytes(Buffer.from(hex, 'hex'))).toBe(unscaled);
    expect(bytesFromUnscaled(unscaled).toString('hex')).toBe(hex);
  });

  it('rejects empty bytes', () => {
    expect(() => unscaledFromBytes(new Uint8Array())).toThrow(new RangeError('Invalid decimal bytes of length 0'));
  });
});

describe('decimal text', () => {
  it.each([
    [12500n, 3, '12.500'],
    [-100n, 4, '-0.0100'],
    [0n, 2, '0.00'],
    [5n, 0, '5'],
    [-123456789012345678901234567890n, 10, '-12345678901234567890.1234567890'],
    [7n, -2, '700'],
  ])('unscaled %s at scale %s is %s', (unscaled, scale, text) => {
    expect(decimalFromUnscaled(unscaled, scale)).toBe(text);
    expect(unscaledFromDecimal(text, scale)).toBe(unscaled);
  });

  it.each([
    ['12.5', 3, 12500n],
    ['-1', 2, -100n],
    ['0.1', 1, 1n],
  ])('%s pads to scale %s', (text, scale, unscaled) => {
    expect(unscaledFromDecimal(text, scale)).toBe(unscaled);
  });

  it.each([
    ['12.5001', 3, 'Decimal "12.5001" has more fraction digits than scale 3'],
    ['1e5', 0, 'Invalid decimal "1e5"'],
    ['', 0, 'Invalid decimal ""'],
    ['+1', 0, 'Invalid decimal "+1"'],
    ['1.', 0, 'Invalid decimal "1."'],
    ['750', -2, 'Decimal "750" is not a multiple of 10^2'],
  ])('rejects %j at scale %s', (text, scale, message) => {
    expect(() => unscaledFromDecimal(text, scale)).toThrow(new RangeError(message));
  });
});

describe('dates', () => {
  it.each([
    [0, '1970-01-01'],
    [-1, '1969-12-31'],
    [19_723, '2024-01-01'],
    [19_782, '2024-02-29'],
    [-719_162, '0001-01-01'],
    [2_932_896, '9999-12-31'],
    [-719_528, '0000-01-01'],
    [-719_529, '-000001-12-31'],
    [2_932_897, '+010000-01-01'],
  ])('day %s is %s', (days, text) => {
    expect(formatDate(days)).toBe(text);
    expect(parseDate(text)).toBe(days);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-00-10', '2024-1-01', '24-01-01', '2024-01-01T00:00'])(
    'rejects %j',
    (text) => {
      expect(() => parseDate(text)).toThrow(new RangeError(`Invalid date ${JSON.stringify(text)}`));
    },
  );
});

describe('logical conversions', () => {
  it.each([
    ['Decimal scale 3', decimal(3), Buffer.from('30d4', 'hex'), '12.500'],
    ['Decimal scale 4, negative', decimal(4), Buffer.from('9c', 'hex'), '-0.0100'],
    ['Decimal scale 0', decimal(0), Buffer.from('00', 'hex'), '0'],
    ['plain Avro decimal', { logicalType: 'decimal', scale: 2 }, Buffer.from('0b', 'hex'), '0.11'],
    [
      'VariableScaleDecimal',
      named(CONNECT_NAME.variableScaleDecimal),
      { scale: 5, value: Buffer.from('9c', 'hex') },
      '-0.00100',
    ],
    [
      'VariableScaleDecimal scale 0',
      named(CONNECT_NAME.variableScaleDecimal),
      { scale: 0, value: Buffer.from('0080', 'hex') },
      '128',
    ],
    ['io.debezium.time.Date', named(CONNECT_NAME.date), 19_782, '2024-02-29'],
    ['connect Date', { ...named(CONNECT_NAME.connectDate), logicalType: 'date' }, -1, '1969-12-31'],
    ['io.debezium.time.Time', named(CONNECT_NAME.time), 45_296_789, '12:34:56.789'],
    ['io.debezium.time.Time midnight', named(CONNECT_NAME.time), 0, '00:00:00.000'],
    ['connect Time', { ...named(CONNECT_NAME.connectTime), logicalType: 'time-millis' }, 1, '00:00:00.001'],
    ['MicroTime', named(CONNECT_NAME.microTime), 45_296_789_012n, '12:34:56.789012'],
    ['MicroTime end of day', named(CONNECT_NAME.microTime), 86_400_000_000n, '24:00:00.000000'],
    ['NanoTime', named(CONNECT_NAME.nanoTime), 86_399_999_999_900n, '23:59:59.999999900'],
    ['Timestamp', named(CONNECT_NAME.timestamp), 1_700_000_000_123n, '2023-11-14T22:13:20.123'],
    ['Timestamp before 1970', named(CONNECT_NAME.timestamp), -1n, '1969-12-31T23:59:59.999'],
    ['MicroTimestamp', named(CONNECT_NAME.microTimestamp), 1_529_507_596_945_104n, '2018-06-20T15:13:16.945104'],
    [
      'NanoTimestamp beyond 2^53',
      named(CONNECT_NAME.nanoTimestamp),
      1_700_000_000_123_456_789n,
      '2023-11-14T22:13:20.123456789',
    ],
    [
      'NanoTimestamp at the end of the range',
      named(CONNECT_NAME.nanoTimestamp),
      9_223_372_036_854_775_807n,
      '2262-04-11T23:47:16.854775807',
    ],
    ['NanoTimestamp before 1970', named(CONNECT_NAME.nanoTimestamp), -1_000_000_001n, '1969-12-31T23:59:58.999999999'],
    [
      'connect Timestamp (UTC)',
      { ...named(CONNECT_NAME.connectTimestamp), logicalType: 'timestamp-millis' },
      1_700_000_000_123n,
      '2023-11-14T22:13:20.123Z',
    ],
    ['plain Avro timestamp-micros', { logicalType: 'timestamp-micros' }, 1n, '1970-01-01T00:00:00.000001Z'],
  ])('%s', (_label, node, raw, value) => {
    const found = conversion(node);
    expect(found.fromAvro(raw)).toBe(value);
    expect(found.toAvro(value)).toEqual(raw);
  });

  it.each([
    ['ZonedTimestamp', named(CONNECT_NAME.zonedTimestamp)],
    ['Uuid', named(CONNECT_NAME.uuid)],
    ['Enum', named(CONNECT_NAME.enum)],
    ['an unknown connect name, even with an Avro logicalType', { 'connect.name': 'x.Y', logicalType: 'date' }],
    ['no attributes', {}],
  ])('%s needs no conversion', (_label, node) => {
    expect(logicalConversionFor(node)).toBeUndefined();
  });

  it('takes the scale from connect.parameters over the Avro attribute', () => {
    const node = { ...decimal(2), scale: 5 };
    expect(conversion(node).fromAvro(Buffer.from('64', 'hex'))).toBe('1.00');
  });

  it('pads short decimal fractions and fewer time digits on the way back', () => {
    expect(conversion(decimal(3)).toAvro('12.5')).toEqual(Buffer.from('30d4', 'hex'));
    expect(conversion(named(CONNECT_NAME.nanoTimestamp)).toAvro('1970-01-01T00:00:01')).toBe(1_000_000_000n);
    expect(conversion(named(CONNECT_NAME.time)).toAvro('00:00:01.5')).toBe(1500);
  });

  it.each([
    [
      'Date from a string',
      named(CONNECT_NAME.date),
      '19782',
      'Invalid io.debezium.time.Date 19782, expected an integer',
    ],
    ['Date from a fraction', named(CONNECT_NAME.date), 1.5, 'Invalid io.debezium.time.Date 1.5, expected an integer'],
    [
      'Time past the day',
      named(CONNECT_NAME.time),
      86_400_001,
      'Invalid io.debezium.time.Time 86400001 outside one day',
    ],
    ['MicroTime negative', named(CONNECT_NAME.microTime), -1n, 'Invalid io.debezium.time.MicroTime -1 outside one day'],
    ['Decimal from a number', decimal(2), 12.5, 'Invalid org.apache.kafka.connect.data.Decimal 12.5, expected bytes'],
    [
      'VariableScaleDecimal without scale',
      named(CONNECT_NAME.variableScaleDecimal),
      { value: Buffer.from('01', 'hex') },
      'Invalid io.debezium.data.VariableScaleDecimal scale undefined',
    ],
  ])('fromAvro rejects %s', (_label, node, raw, message) => {
    expect(() => conversion(node).fromAvro(raw)).toThrow(new RangeError(message));
  });

  it.each([
    ['Decimal too many digits', decimal(2), '1.234', 'Decimal "1.234" has more fraction digits than scale 2'],
    ['Decimal from a number', decimal(2), 1.5, 'Invalid org.apache.kafka.connect.data.Decimal 1.5, expected a string'],
    [
      'Timestamp with a zone',
      named(CONNECT_NAME.timestamp),
      '2024-01-01T00:00:00.000Z',
      'Invalid io.debezium.time.Timestamp "00:00:00.000Z"',
    ],
    [
      'connect Timestamp without a zone',
      named(CONNECT_NAME.connectTimestamp),
      '2024-01-01T00:00:00.000',
      'Invalid org.apache.kafka.connect.data.Timestamp "2024-01-01T00:00:00.000"',
    ],
    [
      'Timestamp at 24:00',
      named(CONNECT_NAME.timestamp),
      '2024-01-01T24:00:00',
      'Invalid io.debezium.time.Timestamp "2024-01-01T24:00:00"',
    ],
    [
      'MicroTime with 7 digits',
      named(CONNECT_NAME.microTime),
      '00:00:00.1234567',
      'Invalid io.debezium.time.MicroTime "00:00:00.1234567"',
    ],
    ['Time with 61 seconds', named(CONNECT_NAME.time), '00:00:61', 'Invalid io.debezium.time.Time "00:00:61"'],
    ['Time past the day', named(CONNECT_NAME.time), '24:00:00.001', 'Invalid io.debezium.time.Time "24:00:00.001"'],
    ['Date of February 30', named(CONNECT_NAME.date), '2024-02-30', 'Invalid date "2024-02-30"'],
  ])('toAvro rejects %s', (_label, node, value, message) => {
    expect(() => conversion(node).toAvro(value)).toThrow(new RangeError(message));
  });

  it('rejects a decimal whose scale is not an integer', () => {
    expect(() =>
      logicalConversionFor({ 'connect.name': CONNECT_NAME.decimal, 'connect.parameters': { scale: 'x' } }),
    ).toThrow(new RangeError('Invalid decimal scale "x"'));
  });
});
