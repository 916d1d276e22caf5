import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/errors.js';
import { decodeConnectJson, topicOfSource } from './connect-json.js';

const location = { topic: 'erp.ErpDemo.dbo.T', partition: 0, offset: '3' };

/** One field of the given Connect schema, decoded from a `{schema, payload}` document. */
const field = (schema: Record<string, unknown>, value: unknown) =>
  (
    decodeConnectJson(
      { schema: { type: 'struct', fields: [{ ...schema, field: 'x' }] }, payload: { x: value } },
      location,
    ).value as Record<string, unknown>
  )['x'];

const decimal = (scale: string) => ({
  type: 'bytes',
  name: 'org.apache.kafka.connect.data.Decimal',
  parameters: { scale },
});

describe('decodeConnectJson', () => {
  it.each([
    { type: 'Decimal(18,3)', schema: decimal('3'), json: 'B1MA', value: '480.000' },
    { type: 'negative Decimal(19,4)', schema: decimal('4'), json: '/5w=', value: '-0.0100' },
    {
      type: 'VariableScaleDecimal',
      schema: {
        type: 'struct',
        name: 'io.debezium.data.VariableScaleDecimal',
        fields: [
          { type: 'int32', field: 'scale' },
          { type: 'bytes', field: 'value' },
        ],
      },
      json: { scale: 2, value: 'BNI=' },
      value: '12.34',
    },
    {
      type: 'io.debezium.time.Date',
      schema: { type: 'int32', name: 'io.debezium.time.Date' },
      json: 20419,
      value: '2025-11-27',
    },
    {
      type: 'io.debezium.time.NanoTimestamp',
      schema: { type: 'int64', name: 'io.debezium.time.NanoTimestamp' },
      json: 1_764_194_400_123_456_700n,
      value: '2025-11-26T22:00:00.123456700',
    },
    {
      type: 'io.debezium.time.Timestamp',
      schema: { type: 'int64', name: 'io.debezium.time.Timestamp' },
      json: 1_764_230_400_000,
      value: '2025-11-27T08:00:00.000',
    },
    {
      type: 'io.debezium.time.ZonedTimestamp',
      schema: { type: 'string', name: 'io.debezium.time.ZonedTimestamp' },
      json: '2025-11-27T09:00:00.0000000+01:00',
      value: '2025-11-27T09:00:00.0000000+01:00',
    },
    { type: 'int64 (a BIGINT column)', schema: { type: 'int64' }, json: 42, value: 42n },
    { type: 'int32', schema: { type: 'int32' }, json: 42, value: 42 },
    { type: 'bytes', schema: { type: 'bytes' }, json: 'AAEC/w==', value: Buffer.from([0, 1, 2, 255]) },
    { type: 'boolean', schema: { type: 'boolean' }, json: true, value: true },
    { type: 'an optional null', schema: { type: 'string', optional: true }, json: null, value: null },
  ])('reads $type as the Avro decoder represents it', ({ schema, json, value }) => {
    expect(field(schema, json)).toEqual(value);
  });

  it('reads the bare payload (schemas.enable=false) as JSON has it, and names the schema when there is one', () => {
    const payload = { op: 'c', after: { Qty: 'B1MA', Count: 3 } };
    expect(decodeConnectJson(payload, location)).toEqual({ value: payload, schemaName: undefined });
    expect(
      decodeConnectJson({ schema: { type: 'struct', name: 'erp.X.Envelope', fields: [] }, payload: {} }, location),
    ).toEqual({ value: {}, schemaName: 'erp.X.Envelope' });
  });

  it.each([
    {
      given: 'a string for an int32',
      schema: { type: 'int32' },
      json: '1',
      message: 'Invalid field x "1", expected an integer',
    },
    {
      given: 'a number for bytes',
      schema: decimal('2'),
      json: 12.5,
      message: 'Invalid field x 12.5, expected base64 bytes',
    },
    {
      given: 'a Time beyond one day',
      schema: { type: 'int32', name: 'org.apache.kafka.connect.data.Time' },
      json: 90_000_000,
      message: 'Invalid org.apache.kafka.connect.data.Time 90000000 outside one day in field x',
    },
  ])('throws a DecodeError naming the field and record for $given', ({ schema, json, message }) => {
    expect(() => field(schema, json)).toThrow(DecodeError);
    expect(() => field(schema, json)).toThrow(`${message} in record erp.ErpDemo.dbo.T[0]@3`);
  });
});

describe('topicOfSource', () => {
  const source = { name: 'erp', db: 'ErpDemo', schema: 'dbo', table: 'Shipment' };
  it.each([
    { connector: 'sqlserver', topic: 'erp.ErpDemo.dbo.Shipment' },
    { connector: 'postgresql', topic: 'erp.dbo.Shipment' },
    { connector: 'mysql', topic: 'erp.ErpDemo.Shipment' },
  ] as const)('names the $connector topic from the source block', ({ connector, topic }) => {
    expect(topicOfSource({ source }, connector)).toBe(topic);
  });

  it('is undefined without a source block', () => {
    expect(topicOfSource({ status: 'BEGIN' }, 'sqlserver')).toBeUndefined();
  });
});
