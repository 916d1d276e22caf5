import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAvroCodec } from '../avro/avro-codec.js';
import { buildSqlServerSchemas, type SqlServerTable } from './sqlserver-schema.js';

const decimal = (precision: number, scale: number) => ({
  type: 'bytes',
  scale,
  precision,
  'connect.version': 1,
  'connect.parameters': { scale: String(scale), 'connect.decimal.precision': String(precision) },
  'connect.name': 'org.apache.kafka.connect.data.Decimal',
  logicalType: 'decimal',
});
const semantic = (type: string, name: string) => ({ type, 'connect.version': 1, 'connect.name': name });

function table(columns: SqlServerTable['columns'], primaryKey: readonly string[] = ['Id']): SqlServerTable {
  return { server: 'erp', database: 'erp', schema: 'dbo', table: 'SalesOrder', columns, primaryKey };
}

function valueFields(columns: SqlServerTable['columns']): unknown {
  const envelope = buildSqlServerSchemas(table(columns, [])).value as { fields: { type: unknown[] }[] };
  return (envelope.fields[0]!.type[1] as { fields: unknown }).fields;
}

describe('buildSqlServerSchemas column types', () => {
  it.each([
    ['bit', 'boolean'],
    ['tinyint', { type: 'int', 'connect.type': 'int16' }],
    ['smallint', { type: 'int', 'connect.type': 'int16' }],
    ['int', 'int'],
    ['INT', 'int'],
    ['bigint', 'long'],
    ['real', 'float'],
    ['float', 'double'],
    ['float(53)', 'double'],
    ['float(24)', 'float'],
    ['decimal(19,4)', decimal(19, 4)],
    ['decimal(19, 4)', decimal(19, 4)],
    ['numeric(18,3)', decimal(18, 3)],
    ['decimal', decimal(18, 0)],
    ['decimal(5)', decimal(5, 0)],
    ['money', decimal(19, 4)],
    ['smallmoney', decimal(10, 4)],
    ['nvarchar(40)', 'string'],
    ['nvarchar(max)', 'string'],
    ['varchar(10)', 'string'],
    ['char(2)', 'string'],
    ['nchar(3)', 'string'],
    ['text', 'string'],
    ['ntext', 'string'],
    ['uniqueidentifier', 'string'],
    ['xml', semantic('string', 'io.debezium.data.Xml')],
    ['varbinary(max)', 'bytes'],
    ['binary(16)', 'bytes'],
    ['date', semantic('int', 'io.debezium.time.Date')],
    ['time(0)', semantic('int', 'io.debezium.time.Time')],
    ['time(3)', semantic('int', 'io.debezium.time.Time')],
    ['time(4)', semantic('long', 'io.debezium.time.MicroTime')],
    ['time(6)', semantic('long', 'io.debezium.time.MicroTime')],
    ['time(7)', semantic('long', 'io.debezium.time.NanoTime')],
    ['time', semantic('long', 'io.debezium.time.NanoTime')],
    ['datetime', semantic('long', 'io.debezium.time.Timestamp')],
    ['smalldatetime', semantic('long', 'io.debezium.time.Timestamp')],
    ['datetime2(0)', semantic('long', 'io.debezium.time.Timestamp')],
    ['datetime2(3)', semantic('long', 'io.debezium.time.Timestamp')],
    ['datetime2(5)', semantic('long', 'io.debezium.time.MicroTimestamp')],
    ['datetime2(7)', semantic('long', 'io.debezium.time.NanoTimestamp')],
    ['datetime2', semantic('long', 'io.debezium.time.NanoTimestamp')],
    ['datetimeoffset(7)', semantic('string', 'io.debezium.time.ZonedTimestamp')],
  ])('%s is %j', (type, avro) => {
    expect(valueFields([{ name: 'c', type, nullable: false }])).toEqual([{ name: 'c', type: avro }]);
    expect(valueFields([{ name: 'c', type, nullable: true }])).toEqual([
      { name: 'c', type: ['null', avro], default: null },
    ]);
  });

  it.each([
    ['geography', 'Unsupported SQL Server type "geography" of column c of erp.erp.dbo.SalesOrder'],
    ['sql_variant', 'Unsupported SQL Server type "sql_variant" of column c of erp.erp.dbo.SalesOrder'],
    ['decimal(19,', 'Invalid SQL Server type "decimal(19," of column c of erp.erp.dbo.SalesOrder'],
    ['', 'Invalid SQL Server type "" of column c of erp.erp.dbo.SalesOrder'],
  ])('rejects %j', (type, message) => {
    expect(() => valueFields([{ name: 'c', type, nullable: false }])).toThrow(new RangeError(message));
  });

  it('rejects a primary key that is not a column', () => {
    expect(() => buildSqlServerSchemas(table([{ name: 'Id', type: 'int', nullable: false }], ['Nope']))).toThrow(
      new RangeError('Primary-key column "Nope" is not a column of erp.erp.dbo.SalesOrder'),
    );
  });
});

describe('buildSqlServerSchemas envelope', () => {
  const orders = table(
    [
      { name: 'OrderNo', type: 'nvarchar(20)', nullable: false },
      { name: 'Id', type: 'int', nullable: false },
      { name: 'Note', type: 'nvarchar(max)', nullable: true },
    ],
    ['Id', 'OrderNo'],
  );

  it('writes exactly the JSON the registry stores for Debezium 3.1+', () => {
    const { topic, key, value } = buildSqlServerSchemas(orders);
    expect(topic).toBe('erp.erp.dbo.SalesOrder');
    expect(JSON.stringify(key)).toBe(
      '{"type":"record","name":"Key","namespace":"erp.erp.dbo.SalesOrder","fields":[{"name":"Id","type":"int"},{"name":"OrderNo","type":"string"}],"connect.name":"erp.erp.dbo.SalesOrder.Key"}',
    );
    expect(JSON.stringify(value)).toBe(
      '{"type":"record","name":"Envelope","namespace":"erp.erp.dbo.SalesOrder","fields":[' +
        '{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"OrderNo","type":"string"},{"name":"Id","type":"int"},{"name":"Note","type":["null","string"],"default":null}],"connect.name":"erp.erp.dbo.SalesOrder.Value"}],"default":null},' +
        '{"name":"after","type":["null","Value"],"default":null},' +
        '{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.sqlserver","fields":[' +
        '{"name":"version","type":"string"},{"name":"connector","type":"string"},{"name":"name","type":"string"},{"name":"ts_ms","type":"long"},' +
        '{"name":"snapshot","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},' +
        '{"name":"db","type":"string"},{"name":"sequence","type":["null","string"],"default":null},' +
        '{"name":"ts_us","type":["null","long"],"default":null},{"name":"ts_ns","type":["null","long"],"default":null},' +
        '{"name":"schema","type":"string"},{"name":"table","type":"string"},' +
        '{"name":"change_lsn","type":["null","string"],"default":null},{"name":"commit_lsn","type":["null","string"],"default":null},' +
        '{"name":"event_serial_no","type":["null","long"],"default":null}],"connect.version":1,"connect.name":"io.debezium.connector.sqlserver.Source"}},' +
        '{"name":"transaction","type":["null",{"type":"record","name":"block","namespace":"event","fields":[{"name":"id","type":"string"},{"name":"total_order","type":"long"},{"name":"data_collection_order","type":"long"}],"connect.version":1,"connect.name":"event.block"}],"default":null},' +
        '{"name":"op","type":"string"},' +
        '{"name":"ts_ms","type":["null","long"],"default":null},{"name":"ts_us","type":["null","long"],"default":null},{"name":"ts_ns","type":["null","long"],"default":null}],' +
        '"connect.version":2,"connect.name":"erp.erp.dbo.SalesOrder.Envelope"}',
    );
  });

  it('leaves connect.version off the source record for Debezium 3.0', () => {
    const envelope = buildSqlServerSchemas(orders, { debeziumVersion: '3.0' }).value as { fields: { type: object }[] };
    expect(envelope.fields[2]!.type).not.toHaveProperty('connect.version');
    expect(envelope.fields[2]!.type).toHaveProperty('connect.name', 'io.debezium.connector.sqlserver.Source');
  });

  it('has no key schema for a table without a primary key', () => {
    expect(buildSqlServerSchemas(table([{ name: 'Id', type: 'int', nullable: false }], [])).key).toBeNull();
  });

  it('builds schemas avsc accepts, with full names as Debezium gives them', () => {
    const { key, value } = buildSqlServerSchemas(orders);
    expect(createAvroCodec(key).name).toBe('erp.erp.dbo.SalesOrder.Key');
    expect(createAvroCodec(value).name).toBe('erp.erp.dbo.SalesOrder.Envelope');
  });
});

type RecordJson = { readonly [key: string]: unknown; readonly fields: readonly FieldJson[] };
type FieldJson = { readonly name: string; readonly type: unknown; readonly [key: string]: unknown };

function fixture(path: string): RecordJson {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8')) as RecordJson;
}

function fieldOf(record: RecordJson, name: string): FieldJson {
  const found = record.fields.find((field) => field.name === name);
  if (found === undefined) throw new Error(`No field ${name}`);
  return found;
}

/** The record inside `["null", record]` or the record itself. */
function recordIn(type: unknown): RecordJson {
  return (Array.isArray(type) ? type[1] : type) as RecordJson;
}

describe('buildSqlServerSchemas against schemas Debezium registered', () => {
  describe('SQL Server value schema captured from a registry (Debezium 1.x)', () => {
    const captured = fixture('debezium-sqlserver/audiolabel-value.avsc');
    // 1.x topics had no database segment; splitting the server name the same way gives the same names.
    const built = buildSqlServerSchemas({
      server: 'db_distibutted.ATM.AssetManagement',
      database: 'Repli',
      schema: 'dbo',
      table: 'AudioLabel',
      columns: [
        { name: 'Name', type: 'nvarchar(100)', nullable: false },
        { name: 'Description', type: 'nvarchar(max)', nullable: true },
        { name: 'UserId', type: 'nvarchar(128)', nullable: false },
        { name: 'DateCreated', type: 'datetime2(7)', nullable: false },
        { name: 'DateUpdated', type: 'datetime2(7)', nullable: false },
      ],
      primaryKey: ['Name'],
    }).value as RecordJson;

    it('names the envelope, value and source records the same way', () => {
      expect([built['name'], built['namespace'], built['connect.name']]).toEqual([
        captured['name'],
        captured['namespace'],
        captured['connect.name'],
      ]);
      const builtValue = recordIn(fieldOf(built, 'before').type);
      const capturedValue = recordIn(fieldOf(captured, 'before').type);
      expect(Object.keys(builtValue)).toEqual(Object.keys(capturedValue));
      expect(builtValue['connect.name']).toBe(capturedValue['connect.name']);
      expect(fieldOf(built, 'after')).toEqual(fieldOf(captured, 'after'));
    });

    it.each(['Name', 'Description', 'UserId', 'DateCreated'])('maps column %s field for field', (name) => {
      expect(fieldOf(recordIn(fieldOf(built, 'before').type), name)).toEqual(
        fieldOf(recordIn(fieldOf(captured, 'before').type), name),
      );
    });

    it('maps a datetime2(7) column with a default the same way but for the default itself (not modelled)', () => {
      const capturedField = fieldOf(recordIn(fieldOf(captured, 'before').type), 'DateUpdated');
      const { 'connect.default': _default, ...capturedType } = capturedField.type as Record<string, unknown>;
      expect(fieldOf(recordIn(fieldOf(built, 'before').type), 'DateUpdated')).toEqual({
        name: 'DateUpdated',
        type: capturedType,
      });
    });

    it.each([
      'version',
      'connector',
      'name',
      'ts_ms',
      'db',
      'sequence',
      'schema',
      'table',
      'change_lsn',
      'commit_lsn',
      'event_serial_no',
    ])('has source field %s as registered', (name) => {
      expect(fieldOf(recordIn(fieldOf(built, 'source').type), name)).toEqual(
        fieldOf(recordIn(fieldOf(captured, 'source').type), name),
      );
    });

    it.each(['op', 'ts_ms', 'transaction'])('has envelope field %s as registered', (name) => {
      expect(fieldOf(built, name)).toEqual(fieldOf(captured, name));
    });
  });

  describe('PostgreSQL schemas generated by Debezium 3.0.8 and AvroData 7.8.0', () => {
    const envelope = fixture('debezium-postgresql/chinook.public.employee.env.avsc');
    const key = fixture('debezium-postgresql/chinook.public.employee.key.avsc');
    const built = buildSqlServerSchemas(
      {
        server: 'erp',
        database: 'erp',
        schema: 'dbo',
        table: 'Employee',
        columns: [{ name: 'employee_id', type: 'int', nullable: false }],
        primaryKey: ['employee_id'],
      },
      { debeziumVersion: '3.0' },
    );
    const builtEnvelope = built.value as RecordJson;
    const source = recordIn(fieldOf(envelope, 'source').type);
    const builtSource = recordIn(fieldOf(builtEnvelope, 'source').type);

    it('orders the envelope fields and properties as Debezium 3 does', () => {
      expect(builtEnvelope.fields.map((field) => field.name)).toEqual(envelope.fields.map((field) => field.name));
      expect(Object.keys(builtEnvelope)).toEqual(Object.keys(envelope));
      expect(builtEnvelope['connect.version']).toBe(envelope['connect.version']);
    });

    it.each(['after', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns'])('has envelope field %s as generated', (name) => {
      expect(fieldOf(builtEnvelope, name)).toEqual(fieldOf(envelope, name));
    });

    it('starts the source record with the common fields, and versions it as 3.0 did', () => {
      expect(builtSource.fields.slice(0, 9)).toEqual(source.fields.slice(0, 9));
      expect(Object.keys(builtSource)).toEqual(Object.keys(source));
    });

    it('lays out the key record the same way', () => {
      expect(Object.keys(built.key as RecordJson)).toEqual(Object.keys(key));
      expect((built.key as RecordJson).fields).toEqual(key.fields);
    });
  });
});
