import { describe, expect, it } from 'vitest';
import { OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import {
  COLUMN,
  columnType,
  type ColumnType,
  INVALID,
  nullable,
  readColumns,
  rowRef,
  skipRowlessChange,
} from './rows.js';
import { changeOf } from './testing.js';

const order = { OrderNumber: 'SO-1001' };

/** Reads one value as one column type. */
function readAs(type: ColumnType<unknown>, value: unknown) {
  const change = changeOf('SalesOrderHeader', OP.create, { after: { ...order, Value: value } });
  return readColumns(change, 'after', { Value: type }, 'test_stage');
}

describe('column types', () => {
  it.each<[string, unknown, unknown, ColumnType<unknown>]>([
    ['identifier', 'SO-1001', 'SO-1001', COLUMN.identifier],
    ['identifier', ' SO-1001 ', ' SO-1001 ', COLUMN.identifier],
    ['code', 'NW', 'NW', COLUMN.code],
    ['code', 'CX  ', 'CX', COLUMN.code],
    ['text', '', '', COLUMN.text],
    ['quantity', '12.500', '12.500', COLUMN.quantity],
    ['quantity', '12.5', '12.500', COLUMN.quantity],
    ['quantity', '-3', '-3.000', COLUMN.quantity],
    ['quantity', '0.12500', '0.125', COLUMN.quantity],
    ['money', '19.9900', '19.9900', COLUMN.money],
    ['money', '922337203685477.5807', '922337203685477.5807', COLUMN.money],
    ['integer', 2, 2, COLUMN.integer],
    ['integerQuantity', 408, '408.000', COLUMN.integerQuantity],
    ['integerQuantity', -2, '-2.000', COLUMN.integerQuantity],
    ['integerId', 5001, '5001', COLUMN.integerId],
    ['integerId', 9_007_199_254_740_993n, '9007199254740993', COLUMN.integerId],
    ['timestamp', '2026-11-27T10:15:30.1234567+01:00', '2026-11-27T10:15:30.1234567+01:00', COLUMN.timestamp],
    ['timestamp', '2026-11-27T09:15:30.123456Z', '2026-11-27T09:15:30.123456Z', COLUMN.timestamp],
    ['nullable(text)', null, null, nullable(COLUMN.text)],
    ['nullable(quantity)', '1.5', '1.500', nullable(COLUMN.quantity)],
    ['bit', true, true, COLUMN.bit],
    ['bit', false, false, COLUMN.bit],
    ['date', '2024-02-29', '2024-02-29', COLUMN.date],
    ['uuid', '3F2504E0-4F89-41D3-9A0C-0305E82C3301', '3f2504e0-4f89-41d3-9a0c-0305e82c3301', COLUMN.uuid],
    ['decimal(38,6)', '12.5', '12.500000', COLUMN.decimal(38, 6)],
    ['decimal(5,2)', '-999.99', '-999.99', COLUMN.decimal(5, 2)],
    ['decimal(3,3)', '0.125', '0.125', COLUMN.decimal(3, 3)],
    ['decimal(19,4)', '922337203685477.5807', '922337203685477.5807', COLUMN.decimal(19, 4)],
    // Europe/Berlin: +01:00 in winter, +02:00 in summer; clocks went forward at 2025-03-30 02:00 and back at
    // 2025-10-26 03:00.
    [
      'localDateTime',
      '2025-01-15T10:00:00.123',
      '2025-01-15T10:00:00.123+01:00',
      COLUMN.localDateTime('Europe/Berlin'),
    ],
    ['localDateTime', '2025-07-15T10:00:00', '2025-07-15T10:00:00+02:00', COLUMN.localDateTime('Europe/Berlin')],
    ['localDateTime', '2025-03-30T01:59:59', '2025-03-30T01:59:59+01:00', COLUMN.localDateTime('Europe/Berlin')],
    ['localDateTime', '2025-03-30T02:30:00', '2025-03-30T03:30:00+02:00', COLUMN.localDateTime('Europe/Berlin')],
    ['localDateTime', '2025-03-30T03:00:00', '2025-03-30T03:00:00+02:00', COLUMN.localDateTime('Europe/Berlin')],
    ['localDateTime', '2025-10-26T02:30:00', '2025-10-26T02:30:00+02:00', COLUMN.localDateTime('Europe/Berlin')],
    ['localDateTime', '2025-10-26T03:00:00', '2025-10-26T03:00:00+01:00', COLUMN.localDateTime('Europe/Berlin')],
    [
      'localDateTime',
      '2025-11-02T01:30:00.123456',
      '2025-11-02T01:30:00.123456-04:00',
      COLUMN.localDateTime('America/New_York'),
    ],
    ['localDateTime', '2025-03-09T02:15', '2025-03-09T03:15:00-04:00', COLUMN.localDateTime('America/New_York')],
    ['localDateTime', '2025-06-01T09:00:00', '2025-06-01T09:00:00+05:30', COLUMN.localDateTime('Asia/Kolkata')],
    ['localDateTime', '2025-06-01T09:00:00', '2025-06-01T09:00:00Z', COLUMN.localDateTime('UTC')],
  ])('reads %s %o as %o', (_name, value, expected, type) => {
    expect(readAs(type, value)).toEqual({ ok: true, row: { Value: expected } });
  });

  it.each<[string, unknown, string, ColumnType<unknown>]>([
    ['identifier', '', 'a non-blank string, got ""', COLUMN.identifier],
    ['identifier', 1001, 'a non-blank string, got 1001', COLUMN.identifier],
    ['identifier', { Id: 1n }, 'a non-blank string, got {"Id":"1n"}', COLUMN.identifier],
    ['code', '  ', 'a non-blank code, got "  "', COLUMN.code],
    ['text', null, 'a string, got null', COLUMN.text],
    ['quantity', 12.5, 'a decimal string with at most 3 decimals, got 12.5', COLUMN.quantity],
    ['quantity', '1.2345', 'a decimal string with at most 3 decimals, got "1.2345"', COLUMN.quantity],
    ['quantity', '1e3', 'a decimal string with at most 3 decimals, got "1e3"', COLUMN.quantity],
    ['money', '19.99001', 'a decimal string with at most 4 decimals, got "19.99001"', COLUMN.money],
    ['integer', 2.5, 'an integer, got 2.5', COLUMN.integer],
    ['integer', 2n, 'an integer, got 2n', COLUMN.integer],
    ['integerQuantity', '408', 'an integer quantity, got "408"', COLUMN.integerQuantity],
    ['integerQuantity', 1.5, 'an integer quantity, got 1.5', COLUMN.integerQuantity],
    ['integerId', '5001', 'an integer id, got "5001"', COLUMN.integerId],
    [
      'timestamp',
      '2026-11-27T10:15:30.1234567',
      'an ISO-8601 timestamp with offset, got "2026-11-27T10:15:30.1234567"',
      COLUMN.timestamp,
    ],
    ['timestamp', 1_795_770_930_000, 'an ISO-8601 timestamp with offset, got 1795770930000', COLUMN.timestamp],
    ['nullable(code)', 7, 'a non-blank code or null, got 7', nullable(COLUMN.code)],
    ['bit', 1, 'a boolean, got 1', COLUMN.bit],
    ['date', '2025-02-29', 'a date YYYY-MM-DD, got "2025-02-29"', COLUMN.date],
    ['date', 20_000, 'a date YYYY-MM-DD, got 20000', COLUMN.date],
    ['uuid', '3f2504e0-4f89-41d3-9a0c', 'a UUID, got "3f2504e0-4f89-41d3-9a0c"', COLUMN.uuid],
    ['decimal(5,2)', '1000.00', 'a decimal(5,2) string, got "1000.00"', COLUMN.decimal(5, 2)],
    ['decimal(5,2)', '1.005', 'a decimal(5,2) string, got "1.005"', COLUMN.decimal(5, 2)],
    ['decimal(3,3)', '1.000', 'a decimal(3,3) string, got "1.000"', COLUMN.decimal(3, 3)],
    [
      'localDateTime',
      '2025-01-15T10:00:00+01:00',
      'a date and time without offset (local time in Europe/Berlin), got "2025-01-15T10:00:00+01:00"',
      COLUMN.localDateTime('Europe/Berlin'),
    ],
    [
      'localDateTime',
      '2025-01-15T24:00:00',
      'a date and time without offset (local time in Europe/Berlin), got "2025-01-15T24:00:00"',
      COLUMN.localDateTime('Europe/Berlin'),
    ],
  ])('rejects %s %o', (_name, value, expected, type) => {
    const read = readAs(type, value);
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error).toBeInstanceOf(TransformError);
      expect(read.error.message).toBe(
        `Invalid column Value in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1001"}: expected ${expected}`,
      );
      expect(read.error.location).toEqual({ stage: 'test_stage' });
    }
  });
});

describe('column type constructors', () => {
  it('refuses a decimal type SQL cannot declare, naming the bad precision or scale', () => {
    expect(() => COLUMN.decimal(0, 0)).toThrow(
      new RangeError('decimal(0, 0): the precision must be a whole number from 1 to 38'),
    );
    expect(() => COLUMN.decimal(10, 11)).toThrow(
      new RangeError('decimal(10, 11): the scale must be a whole number from 0 to the precision'),
    );
  });

  it('refuses a zone that is not an IANA time zone, naming it', () => {
    expect(() => COLUMN.localDateTime('Mars/Olympus')).toThrow(
      new RangeError('localDateTime("Mars/Olympus"): not an IANA time zone such as Europe/Berlin'),
    );
  });

  it("gives a package's own type the same messages as the built-in ones", () => {
    const sku = columnType('an SKU like ABC-123', (value) =>
      typeof value === 'string' && /^[A-Z]+-\d+$/.test(value) ? value : INVALID,
    );
    expect(readAs(sku, 'ABC-123')).toEqual({ ok: true, row: { Value: 'ABC-123' } });
    const read = readAs(sku, 'abc');
    expect(read.ok || read.error.message).toBe(
      'Invalid column Value in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1001"}: expected an SKU like ABC-123, got "abc"',
    );
  });
});

describe('readColumns', () => {
  it('names the image, table and key of a missing column', () => {
    const change = changeOf('SalesOrderHeader', OP.update, { before: order, after: { ...order, StatusCode: 'AC' } });
    const read = readColumns(change, 'before', { StatusCode: COLUMN.code }, 'order_header');
    expect(read.ok || read.error.message).toBe(
      'Missing column StatusCode in the before image of ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1001"}',
    );
  });

  it('treats a column decoded as undefined as missing', () => {
    const change = changeOf('SalesOrderHeader', OP.create, { after: { ...order, StatusCode: undefined } });
    const read = readColumns(change, 'after', { StatusCode: COLUMN.code }, 'order_header');
    expect(read.ok || read.error.message).toBe(
      'Missing column StatusCode in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1001"}',
    );
  });

  it('fails a change without the image it reads', () => {
    const change = changeOf('SalesOrderHeader', OP.create, { key: order });
    const read = readColumns(change, 'after', { StatusCode: COLUMN.code }, 'order_header');
    expect(read.ok || read.error.message).toBe(
      'No after image in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1001"}',
    );
  });

  it('returns only the columns it was asked for', () => {
    const change = changeOf('SalesOrderHeader', OP.create, { after: { ...order, StatusCode: 'NW', Channel: 'WEB' } });
    expect(readColumns(change, 'after', { StatusCode: COLUMN.code }, 'order_header')).toEqual({
      ok: true,
      row: { StatusCode: 'NW' },
    });
  });
});

describe('rowRef', () => {
  it('writes composite and BIGINT keys in key order, digits intact', () => {
    expect(rowRef(changeOf('InventoryBalance', OP.create, { key: { Sku: 'SKU-1', LocationCode: 'WH-1' } }))).toBe(
      'ErpDemo.dbo.InventoryBalance key {"Sku":"SKU-1","LocationCode":"WH-1"}',
    );
    expect(rowRef(changeOf('PaymentTransaction', OP.create, { key: { PaymentId: 9_007_199_254_740_993n } }))).toBe(
      'ErpDemo.dbo.PaymentTransaction key {"PaymentId":9007199254740993}',
    );
  });
});

describe('skipRowlessChange', () => {
  it.each([
    [
      OP.truncate,
      'Truncate of ErpDemo.dbo.Shipment carries no rows; re-snapshot the table to rebuild what was derived from it',
    ],
    [OP.message, 'Change with op m on ErpDemo.dbo.Shipment carries no row'],
  ])('skips op %s', (op, reason) => {
    expect(skipRowlessChange(changeOf('Shipment', op, { key: {} }))).toEqual({ kind: 'skip', reason });
  });
});
