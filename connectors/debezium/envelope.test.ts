import { describe, expect, it } from 'vitest';
import { ConfigError, DecodeError } from '../../core/errors.js';
import { createEnvelopeReader, type DebeziumRecord, type EnvelopeReaderConfig, snakeToPascal } from './envelope.js';

const at = { partition: 2, offset: '1234' };

const sqlServerSource = {
  version: '3.4.3.Final',
  connector: 'sqlserver',
  name: 'erp',
  ts_ms: 1_700_000_000_000n,
  snapshot: 'false',
  db: 'erp',
  sequence: null,
  ts_us: 1_700_000_000_000_000n,
  ts_ns: 1_700_000_000_000_000_000n,
  schema: 'dbo',
  table: 'SalesOrder',
  change_lsn: '00000027:00000758:0003',
  commit_lsn: '00000027:00000758:0005',
  event_serial_no: 1n,
};

function envelope(overrides: Record<string, unknown> = {}, source: Record<string, unknown> = sqlServerSource) {
  return {
    before: null,
    after: { Id: 7, Amount: '12.5000' },
    source,
    transaction: { id: '00000027:00000758:0005', total_order: 1n, data_collection_order: 1n },
    op: 'c',
    ts_ms: 1_700_000_000_500n,
    ts_us: null,
    ts_ns: null,
    ...overrides,
  };
}

function read(config: EnvelopeReaderConfig, record: Partial<DebeziumRecord> & { topic: string }) {
  return createEnvelopeReader(config).read({ ...at, key: { Id: 7 }, value: null, ...record });
}

function readError(config: EnvelopeReaderConfig, record: Partial<DebeziumRecord> & { topic: string }): DecodeError {
  try {
    read(config, record);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('Expected a DecodeError');
}

const sqlServer: EnvelopeReaderConfig = { connector: 'sqlserver', topicPrefix: 'erp' };
// Names as they come, so that these tables show positions and tables; name normalisation has tests of its own below.
const postgres: EnvelopeReaderConfig = {
  connector: 'postgresql',
  topicPrefix: 'pg',
  database: 'erpdb',
  names: 'as-is',
};
const mysql: EnvelopeReaderConfig = { connector: 'mysql', topicPrefix: 'shop' };

describe('createEnvelopeReader', () => {
  it('reads a SQL Server change into a ChangeEvent', () => {
    expect(read(sqlServer, { topic: 'erp.erp.dbo.SalesOrder', value: envelope() })).toEqual({
      kind: 'change',
      event: {
        op: 'c',
        table: { server: 'erp', database: 'erp', schema: 'dbo', table: 'SalesOrder' },
        key: { Id: 7 },
        before: null,
        after: { Id: 7, Amount: '12.5000' },
        source: {
          connector: 'sqlserver',
          tsMs: 1_700_000_000_000,
          snapshot: false,
          commitLsn: '00000027:00000758:0005',
          changeLsn: '00000027:00000758:0003',
          eventSerialNo: 1,
        },
        position: 'mssql:000000270000075800050000002700000758000300000001',
        tsMs: 1_700_000_000_500,
        transaction: { id: '00000027:00000758:0005', totalOrder: 1, dataCollectionOrder: 1 },
      },
    });
  });

  it.each(['c', 'u', 'd', 'r', 't'])('accepts op %s', (op) => {
    expect(read(sqlServer, { topic: 'erp.erp.dbo.SalesOrder', value: envelope({ op }) })).toMatchObject({
      kind: 'change',
      event: { op },
    });
  });

  it('reads a PostgreSQL change, its database from source.db and its commit LSN from source.sequence', () => {
    const source = {
      version: '3.4.3.Final',
      connector: 'postgresql',
      name: 'pg',
      ts_ms: 1_700_000_000_000n,
      snapshot: 'false',
      db: 'erpdb',
      sequence: '["24023119","24023448"]',
      schema: 'public',
      table: 'orders',
      txId: 771n,
      lsn: 24_023_448n,
      xmin: null,
    };
    expect(read(postgres, { topic: 'pg.public.orders', value: envelope({ transaction: null }, source) })).toEqual({
      kind: 'change',
      event: {
        op: 'c',
        table: { server: 'pg', database: 'erpdb', schema: 'public', table: 'orders' },
        key: { Id: 7 },
        before: null,
        after: { Id: 7, Amount: '12.5000' },
        source: { connector: 'postgresql', tsMs: 1_700_000_000_000, snapshot: false, lsn: '24023448' },
        position: `pg:${(24_023_119).toString(16).padStart(16, '0')}${(24_023_448).toString(16).padStart(16, '0')}`,
        tsMs: 1_700_000_000_500,
        transaction: null,
      },
    });
  });

  it.each([
    [
      'no last commit LSN',
      '[null,"24023448"]',
      24_023_448n,
      `pg:${'0'.repeat(16)}${(24_023_448).toString(16).padStart(16, '0')}`,
    ],
    [
      'no source.lsn, LSN from the sequence',
      '["100","200"]',
      null,
      `pg:${'64'.padStart(16, '0')}${'c8'.padStart(16, '0')}`,
    ],
  ])('derives a PostgreSQL position with %s', (_label, sequence, lsn, position) => {
    const source = { connector: 'postgresql', ts_ms: 1n, snapshot: 'true', db: 'erpdb', sequence, lsn };
    expect(read(postgres, { topic: 'pg.public.orders', value: envelope({}, source) })).toMatchObject({
      kind: 'change',
      event: { position, source: { snapshot: true } },
    });
  });

  it('reads a MySQL change with its binlog position', () => {
    const source = {
      connector: 'mysql',
      ts_ms: 1n,
      snapshot: 'false',
      db: 'shop',
      file: 'mysql-bin.000003',
      pos: 154n,
      row: 2,
    };
    expect(read(mysql, { topic: 'shop.shop.orders', value: envelope({}, source) })).toMatchObject({
      kind: 'change',
      event: {
        table: { server: 'shop', database: 'shop', schema: 'shop', table: 'orders' },
        source: { connector: 'mysql', file: 'mysql-bin.000003', pos: 154, row: 2 },
        position: `mysql:${'3'.padStart(10, '0')}${'9a'.padStart(16, '0')}${'2'.padStart(8, '0')}`,
      },
    });
  });

  it.each([
    [
      'SQL Server',
      sqlServer,
      'erp.erp.dbo.SalesOrder',
      { server: 'erp', database: 'erp', schema: 'dbo', table: 'SalesOrder' },
    ],
    [
      'PostgreSQL',
      postgres,
      'pg.public.orders',
      { server: 'pg', database: 'erpdb', schema: 'public', table: 'orders' },
    ],
    [
      'a topic prefix with dots',
      { connector: 'sqlserver', topicPrefix: 'acme.erp' } as const,
      'acme.erp.erp.dbo.T',
      { server: 'acme.erp', database: 'erp', schema: 'dbo', table: 'T' },
    ],
  ])('reads a %s tombstone', (_label, config, topic, table) => {
    expect(read(config, { topic, value: null })).toEqual({ kind: 'tombstone', key: { Id: 7 }, table });
  });

  it.each([
    [
      'a heartbeat topic',
      { topic: '__debezium-heartbeat.erp', value: { ts_ms: 1n } },
      'heartbeat',
      'Heartbeat on __debezium-heartbeat.erp',
    ],
    [
      'a heartbeat value',
      { topic: 'elsewhere', value: { ts_ms: 1n }, valueSchemaName: 'io.debezium.connector.common.Heartbeat' },
      'heartbeat',
      'Heartbeat on elsewhere',
    ],
    [
      'the schema change topic',
      { topic: 'erp', value: { ddl: 'ALTER TABLE' } },
      'schema-change',
      'Schema change event on erp',
    ],
    ['a schema change tombstone', { topic: 'erp', value: null }, 'schema-change', 'Schema change event on erp'],
    [
      'a schema change value by name',
      {
        topic: 'erp.erp.dbo.SalesOrder',
        value: {},
        valueSchemaName: 'io.debezium.connector.sqlserver.SchemaChangeValue',
      },
      'schema-change',
      'Schema change event on erp.erp.dbo.SalesOrder',
    ],
    [
      'a schema change value by shape',
      {
        topic: 'erp.erp.dbo.SalesOrder',
        value: { source: {}, ts_ms: 1n, databaseName: 'erp', ddl: 'x', tableChanges: [] },
      },
      'schema-change',
      'Schema change event on erp.erp.dbo.SalesOrder',
    ],
    [
      'the transaction topic',
      { topic: 'erp.transaction', value: { status: 'BEGIN' } },
      'transaction-metadata',
      'Transaction metadata on erp.transaction',
    ],
  ])('ignores %s', (_label, record, reason, detail) => {
    expect(read(sqlServer, record)).toEqual({ kind: 'ignored', reason, detail });
  });

  it('ignores heartbeats under a configured heartbeat prefix', () => {
    const config = { ...sqlServer, heartbeatTopicsPrefix: 'hb' };
    expect(read(config, { topic: 'hb.erp', value: { ts_ms: 1n } })).toMatchObject({
      kind: 'ignored',
      reason: 'heartbeat',
    });
  });

  const where = 'erp.erp.dbo.SalesOrder[2]@1234';
  it.each([
    ['no op', envelope({ op: undefined }), `Missing field op in record ${where}`],
    ['an unknown op', envelope({ op: 'x' }), `Invalid op "x" in field op in record ${where}`],
    ['no source', envelope({ source: null }), `Missing field source in record ${where}`],
    ['a value that is not a record', 'oops', `Invalid field value oops, expected a record in record ${where}`],
    [
      'after that is not a record',
      envelope({ after: 5 }),
      `Invalid field after 5, expected a record in record ${where}`,
    ],
    [
      'no commit LSN',
      envelope({}, { ...sqlServerSource, commit_lsn: null }),
      `Missing field source.commit_lsn in record ${where}`,
    ],
    [
      'a malformed commit LSN',
      envelope({}, { ...sqlServerSource, commit_lsn: 'zz' }),
      `Invalid SQL Server LSN "zz" in source.commit_lsn in record ${where}`,
    ],
    [
      'no source.ts_ms',
      envelope({}, { ...sqlServerSource, ts_ms: null }),
      `Missing field source.ts_ms in record ${where}`,
    ],
    [
      'no source.connector',
      envelope({}, { ...sqlServerSource, connector: 7 }),
      `Invalid field source.connector 7, expected a string in record ${where}`,
    ],
    [
      'a ts_ms beyond 2^53',
      envelope({ ts_ms: 2n ** 60n }),
      `Invalid field ts_ms 1152921504606846976, expected an integer below 2^53 in record ${where}`,
    ],
    [
      'a transaction without id',
      envelope({ transaction: { total_order: 1n, data_collection_order: 1n } }),
      `Invalid field transaction.id undefined, expected a string in record ${where}`,
    ],
    [
      'a transaction without total_order',
      envelope({ transaction: { id: 'x', data_collection_order: 1n } }),
      `Missing field transaction.total_order in record ${where}`,
    ],
  ])('rejects a SQL Server envelope with %s', (_label, value, message) => {
    const error = readError(sqlServer, { topic: 'erp.erp.dbo.SalesOrder', value });
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ topic: 'erp.erp.dbo.SalesOrder', ...at });
  });

  it.each([
    [
      'SQL Server: another database',
      sqlServer,
      'erp.erp.dbo.SalesOrder',
      { ...sqlServerSource, db: 'archive' },
      'Source table archive.dbo.SalesOrder is not the table erp.dbo.SalesOrder of the topic',
    ],
    [
      'PostgreSQL: another schema',
      postgres,
      'pg.public.orders',
      { connector: 'postgresql', ts_ms: 1n, snapshot: 'false', db: 'erpdb', schema: 'audit', table: 'orders', lsn: 5n },
      'Source table audit.orders is not the table public.orders of the topic',
    ],
    [
      'MySQL: another table',
      mysql,
      'shop.shop.orders',
      { connector: 'mysql', ts_ms: 1n, db: 'shop', table: 'orders_2019', file: 'f.000001', pos: 4n, row: 0 },
      'Source table shop.orders_2019 is not the table shop.orders of the topic',
    ],
  ])(
    'rejects a change whose source names another table than its topic (%s)',
    (_label, config, topic, source, message) => {
      const error = readError(config, { topic, value: envelope({ transaction: null }, source) });
      expect(error.message).toBe(`${message} in record ${topic}[2]@1234`);
    },
  );

  it('accepts a source table whose name Debezium sanitised into the topic name', () => {
    const source = { ...sqlServerSource, table: 'Sales Order' };
    expect(read(sqlServer, { topic: 'erp.erp.dbo.Sales_Order', value: envelope({}, source) })).toMatchObject({
      kind: 'change',
      event: { table: { table: 'Sales_Order' } },
    });
  });

  it.each([
    [
      'a topic of another prefix',
      sqlServer,
      'crm.crm.dbo.T',
      'Topic crm.crm.dbo.T is not erp.<db>.<schema>.<table> of the sqlserver connector in record crm.crm.dbo.T[2]@1234',
    ],
    [
      'a SQL Server topic without database',
      sqlServer,
      'erp.dbo.T',
      'Topic erp.dbo.T is not erp.<db>.<schema>.<table> of the sqlserver connector in record erp.dbo.T[2]@1234',
    ],
    [
      'a PostgreSQL topic with a database',
      postgres,
      'pg.db.public.T',
      'Topic pg.db.public.T is not pg.<schema>.<table> of the postgresql connector in record pg.db.public.T[2]@1234',
    ],
  ])('rejects %s', (_label, config, topic, message) => {
    expect(readError(config, { topic, value: null }).message).toBe(message);
  });

  it.each([
    [
      'a malformed sequence',
      '["a","b"]',
      'Invalid field source.sequence "[\\"a\\",\\"b\\"]" in record pg.public.orders[2]@1234',
    ],
    ['a sequence that is not JSON', 'x', 'Invalid field source.sequence "x" in record pg.public.orders[2]@1234'],
  ])('rejects a PostgreSQL envelope with %s', (_label, sequence, message) => {
    const source = { connector: 'postgresql', ts_ms: 1n, snapshot: 'false', db: 'erpdb', sequence, lsn: 5n };
    expect(readError(postgres, { topic: 'pg.public.orders', value: envelope({}, source) }).message).toBe(message);
  });

  it('requires the database for the PostgreSQL connector', () => {
    let error: unknown;
    try {
      createEnvelopeReader({ connector: 'postgresql', topicPrefix: 'pg' });
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      'Invalid envelope reader setting database: database is required for the postgresql connector',
    );
  });

  describe('source names', () => {
    const pgSource = {
      connector: 'postgresql',
      ts_ms: 1n,
      snapshot: 'false',
      db: 'erp_e2e',
      sequence: '[null,"5"]',
      lsn: 5n,
    };
    const pgRow = { order_number: 'SO-1', status_code: 'NW', qty_on_hand: '1.000', sku: 'A' };
    const pascalRow = { OrderNumber: 'SO-1', StatusCode: 'NW', QtyOnHand: '1.000', Sku: 'A' };

    it.each([
      ['sales_order_header', 'SalesOrderHeader'],
      ['inventory_balance', 'InventoryBalance'],
      ['qty_on_hand', 'QtyOnHand'],
      ['sku', 'Sku'],
      ['psp_reference', 'PspReference'],
      ['SalesOrderHeader', 'SalesOrderHeader'],
      ['_leading__double_', 'LeadingDouble'],
    ])('snakeToPascal(%j) is %j', (name, expected) => {
      expect(snakeToPascal(name)).toBe(expected);
    });

    it.each([
      [
        'postgresql by default: snake-to-pascal',
        { connector: 'postgresql', topicPrefix: 'pg', database: 'erp_e2e' },
        'SalesOrderHeader',
        pascalRow,
        { OrderNumber: 'SO-1' },
      ],
      [
        'postgresql, as-is',
        { connector: 'postgresql', topicPrefix: 'pg', database: 'erp_e2e', names: 'as-is' },
        'sales_order_header',
        pgRow,
        { order_number: 'SO-1' },
      ],
    ] as const)('renames table, key and row columns for %s', (_label, config, table, row, key) => {
      const result = read(config, {
        topic: 'pg.public.sales_order_header',
        key: { order_number: 'SO-1' },
        value: envelope({ before: pgRow, after: pgRow, op: 'u', transaction: null }, pgSource),
      });
      expect(result).toMatchObject({
        kind: 'change',
        event: { table: { schema: 'public', table }, key, before: row, after: row },
      });
    });

    it('renames tombstone keys and tables', () => {
      expect(
        read(
          { connector: 'postgresql', topicPrefix: 'pg', database: 'erp_e2e' },
          { topic: 'pg.public.inventory_balance', key: { sku: 'A', location_code: 'WH' }, value: null },
        ),
      ).toEqual({
        kind: 'tombstone',
        key: { Sku: 'A', LocationCode: 'WH' },
        table: { server: 'pg', database: 'erp_e2e', schema: 'public', table: 'InventoryBalance' },
      });
    });

    it('leaves SQL Server names as they are by default', () => {
      expect(
        read(sqlServer, {
          topic: 'erp.erp.dbo.Sales_Order',
          key: { Order_Id: 1 },
          value: envelope({}, { ...sqlServerSource, table: 'Sales_Order' }),
        }),
      ).toMatchObject({ kind: 'change', event: { table: { table: 'Sales_Order' }, key: { Order_Id: 1 } } });
    });
  });
});
