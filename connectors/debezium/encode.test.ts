import { describe, expect, it } from 'vitest';
import { type ChangeEvent } from '../../core/envelope.js';
import { createConfluentDecoder } from '../avro/confluent-decoder.js';
import { createSqlServerEncoder, type SqlServerRowChange } from './encode.js';
import { createEnvelopeReader } from './envelope.js';
import { type SqlServerTable } from './sqlserver-schema.js';

const KEY_ID = 101;
const VALUE_ID = 102;

function tableWith(type: string, nullable = true): SqlServerTable {
  return {
    server: 'erp',
    database: 'erp',
    schema: 'dbo',
    table: 'SalesOrder',
    columns: [
      { name: 'Id', type: 'int', nullable: false },
      { name: 'c', type, nullable },
    ],
    primaryKey: ['Id'],
  };
}

/** Encodes a change, then decodes it through the registry framing and reads the envelope: the pipeline's own path. */
async function roundTrip(table: SqlServerTable, change: SqlServerRowChange): Promise<unknown> {
  const encoder = createSqlServerEncoder(table, { keySchemaId: KEY_ID, valueSchemaId: VALUE_ID });
  const schemas: Record<number, unknown> = { [KEY_ID]: encoder.schemas.key, [VALUE_ID]: encoder.schemas.value };
  const decoder = createConfluentDecoder({ lookupSchema: async (id) => JSON.stringify(schemas[id]) });
  const record = encoder.encode(change);
  const location = { topic: record.topic, partition: 0, offset: '7' };
  const key = await decoder.decode(record.key, location);
  const value = await decoder.decode(record.value, location);
  return createEnvelopeReader({ connector: 'sqlserver', topicPrefix: 'erp' }).read({
    ...location,
    key: key.value,
    value: value.value,
    valueSchemaName: value.schemaName,
  });
}

const streamed = (after: Record<string, unknown>): SqlServerRowChange => ({
  op: 'c',
  before: null,
  after,
  source: {
    commitLsn: '00000027:00000758:0005',
    changeLsn: '00000027:00000758:0003',
    eventSerialNo: 1,
    tsMs: 1_700_000_000_000,
  },
  tsMs: 1_700_000_000_500,
  transaction: { id: '00000027:00000758:0005', totalOrder: 3, dataCollectionOrder: 2 },
});

describe('encode → decode round trip over every SQL Server type', () => {
  it.each([
    ['bit', 'bit', true],
    ['tinyint', 'tinyint', 255],
    ['smallint', 'smallint', -32768],
    ['int', 'int', -2147483648],
    ['bigint beyond 2^53', 'bigint', 9_223_372_036_854_775_807n],
    ['bigint negative', 'bigint', -9_007_199_254_740_993n],
    ['real', 'real', 1.5],
    ['float', 'float', 0.1],
    ['decimal(19,4)', 'decimal(19,4)', '123456789012345.6789'],
    ['decimal(19,4) negative', 'decimal(19,4)', '-0.0100'],
    ['numeric(18,3)', 'numeric(18,3)', '12.500'],
    ['numeric(38,0)', 'numeric(38,0)', '-99999999999999999999999999999999999999'],
    ['money', 'money', '922337203685477.5807'],
    ['smallmoney', 'smallmoney', '-214748.3648'],
    ['nvarchar(40)', 'nvarchar(40)', 'Grüße, 世界'],
    ['char(2)', 'char(2)', 'DE'],
    ['uniqueidentifier', 'uniqueidentifier', '6F9619FF-8B86-D011-B42D-00C04FD430C8'],
    ['xml', 'xml', '<order id="1"/>'],
    ['varbinary(max)', 'varbinary(max)', Buffer.from([0, 1, 254, 255])],
    ['date', 'date', '2024-02-29'],
    ['date first day', 'date', '0001-01-01'],
    ['date last day', 'date', '9999-12-31'],
    ['time(0)', 'time(0)', '23:59:59.000'],
    ['time(3)', 'time(3)', '12:34:56.789'],
    ['time(6)', 'time(6)', '12:34:56.789012'],
    ['time(7)', 'time(7)', '23:59:59.999999900'],
    ['datetime', 'datetime', '2024-03-01T08:15:30.123'],
    ['smalldatetime', 'smalldatetime', '2024-03-01T08:15:00.000'],
    ['datetime2(3)', 'datetime2(3)', '1969-12-31T23:59:59.999'],
    ['datetime2(6)', 'datetime2(6)', '2024-03-01T08:15:30.123456'],
    ['datetime2(7)', 'datetime2(7)', '2024-03-01T08:15:30.123456700'],
    ['datetime2(7) at the end of the range', 'datetime2(7)', '2262-04-11T23:47:16.854775800'],
    ['datetimeoffset(7)', 'datetimeoffset(7)', '2024-03-01T08:15:30.1234567+01:00'],
    ['nullable column holding null', 'nvarchar(40)', null],
  ] as [string, string, unknown][])('%s', async (_label, type, value) => {
    const result = await roundTrip(tableWith(type), streamed({ Id: 1, c: value }));
    expect(result).toMatchObject({ kind: 'change', event: { key: { Id: 1 } } });
    expect((result as { event: ChangeEvent }).event.after).toStrictEqual({ Id: 1, c: value });
  });

  it('yields the same ChangeEvent for an update, field for field', async () => {
    const table = tableWith('decimal(19,4)', false);
    const change: SqlServerRowChange = {
      op: 'u',
      before: { Id: 42, c: '10.0000' },
      after: { Id: 42, c: '12.5000' },
      source: {
        commitLsn: '00000027:00000758:0005',
        changeLsn: '00000027:00000758:0003',
        eventSerialNo: 2,
        tsMs: 1_700_000_000_000,
      },
      tsMs: 1_700_000_000_500,
      transaction: { id: '00000027:00000758:0005', totalOrder: 3, dataCollectionOrder: 2 },
    };
    const expected: ChangeEvent = {
      op: 'u',
      table: { server: 'erp', database: 'erp', schema: 'dbo', table: 'SalesOrder' },
      key: { Id: 42 },
      before: { Id: 42, c: '10.0000' },
      after: { Id: 42, c: '12.5000' },
      source: {
        connector: 'sqlserver',
        tsMs: 1_700_000_000_000,
        snapshot: false,
        commitLsn: '00000027:00000758:0005',
        changeLsn: '00000027:00000758:0003',
        eventSerialNo: 2,
      },
      position: 'mssql:000000270000075800050000002700000758000300000002',
      tsMs: 1_700_000_000_500,
      transaction: { id: '00000027:00000758:0005', totalOrder: 3, dataCollectionOrder: 2 },
    };
    expect(await roundTrip(table, change)).toEqual({ kind: 'change', event: expected });
  });

  it('yields a snapshot read with no change LSN', async () => {
    const result = await roundTrip(tableWith('int'), {
      op: 'r',
      before: null,
      after: { Id: 1, c: 5 },
      source: {
        commitLsn: '00000027:00000758:0005',
        changeLsn: null,
        eventSerialNo: null,
        tsMs: 1_700_000_000_000,
        snapshot: 'last',
      },
      tsMs: 1_700_000_000_500,
      transaction: null,
    });
    expect(result).toMatchObject({
      kind: 'change',
      event: {
        op: 'r',
        source: {
          connector: 'sqlserver',
          tsMs: 1_700_000_000_000,
          snapshot: true,
          commitLsn: '00000027:00000758:0005',
        },
        position: `mssql:${'00000027000007580005'}${'0'.repeat(28)}`,
        transaction: null,
      },
    });
  });

  it.each([
    [
      'a decimal with too many digits',
      'decimal(19,4)',
      '1.23456',
      'Decimal "1.23456" has more fraction digits than scale 4 in field after.c',
    ],
    ['a date that does not exist', 'date', '2023-02-29', 'Invalid date "2023-02-29" in field after.c'],
    [
      'a number for a decimal',
      'decimal(19,4)',
      1.5,
      'Invalid org.apache.kafka.connect.data.Decimal 1.5, expected a string in field after.c',
    ],
  ])('rejects %s when encoding', (_label, type, value, message) => {
    const encoder = createSqlServerEncoder(tableWith(type), { keySchemaId: KEY_ID, valueSchemaId: VALUE_ID });
    let error: unknown;
    try {
      encoder.encode(streamed({ Id: 1, c: value }));
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect((error as RangeError).message).toBe(message);
  });

  it('encodes the key of a deleted row for its tombstone', () => {
    const encoder = createSqlServerEncoder(tableWith('int'), { keySchemaId: KEY_ID, valueSchemaId: VALUE_ID });
    // Magic byte, id 101, then zig-zag 42.
    expect(encoder.encodeKey({ Id: 42, c: 1 })?.toString('hex')).toBe('000000006554');
  });
});
