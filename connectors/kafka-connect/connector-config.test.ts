import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../ops/pipeline-config.js';
import { ConfigError } from '../../core/errors.js';
import {
  buildConnectorConfig,
  connectorPassword,
  REDACTED,
  redactConnectorConfig,
  signalDataCollection,
} from './connector-config.js';

const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7';

function config(raw: Record<string, unknown>) {
  return parsePipelineConfig({ schemaRegistry: { url: REGISTRY }, ...raw }, 'the test', {});
}

const sqlServer = config({ kafka: { brokers: ['k1:9092', 'k2:9092'] } });
const postgres = config({
  source: {
    connector: 'postgresql',
    topicPrefix: 'erp',
    database: 'erp_demo',
    tables: ['public.inventory_balance', 'public.sales_order_header'],
  },
  connector: { name: 'erp-pg', port: 5433, slotName: 'cdc_sync_pg', heartbeatIntervalMs: 5000 },
});

const apicurioValue = {
  'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
  'value.converter.apicurio.registry.url': 'http://127.0.0.1:8081/apis/registry/v2',
  'value.converter.apicurio.registry.as-confluent': 'true',
  'value.converter.apicurio.registry.use-id': 'contentId',
};

describe('buildConnectorConfig', () => {
  it.each([
    [
      'SQL Server with defaults',
      sqlServer,
      {
        'connector.class': 'io.debezium.connector.sqlserver.SqlServerConnector',
        'tasks.max': '1',
        'topic.prefix': 'erp',
        'database.hostname': '127.0.0.1',
        'database.port': '1433',
        'database.user': 'cdc',
        'database.password': 's3cret',
        'database.names': 'ErpDemo',
        'database.encrypt': 'true',
        'table.include.list':
          'dbo.InventoryBalance,dbo.SalesOrderHeader,dbo.SalesOrderLine,dbo.PaymentTransaction,dbo.Shipment,dbo.ReturnAuthorization,dbo.Refund',
        'snapshot.mode': 'initial',
        'schema.history.internal.kafka.bootstrap.servers': 'k1:9092,k2:9092',
        'schema.history.internal.kafka.topic': 'erp.schema-history',
        'provide.transaction.metadata': 'true',
        'heartbeat.interval.ms': '10000',
        'signal.data.collection': 'ErpDemo.dbo.DebeziumSignal',
        'tombstones.on.delete': 'true',
        'decimal.handling.mode': 'precise',
      },
    ],
    [
      'PostgreSQL',
      postgres,
      {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'topic.prefix': 'erp',
        'database.port': '5433',
        'database.dbname': 'erp_demo',
        'table.include.list': 'public.inventory_balance,public.sales_order_header',
        'plugin.name': 'pgoutput',
        'slot.name': 'cdc_sync_pg',
        'publication.name': 'dbz_publication',
        'publication.autocreate.mode': 'disabled',
        'heartbeat.interval.ms': '5000',
        'signal.data.collection': 'public.debezium_signal',
        'provide.transaction.metadata': 'true',
        'tombstones.on.delete': 'true',
        'decimal.handling.mode': 'precise',
        'snapshot.mode': 'initial',
      },
    ],
  ])('generates the %s connector', (_label, pipeline, expected) => {
    const generated = buildConnectorConfig(pipeline, 's3cret');
    expect(generated).toMatchObject({ ...expected, ...apicurioValue });
    expect(generated['key.converter']).toBe('io.apicurio.registry.utils.converter.AvroConverter');
  });

  it.each([
    ['SQL Server', sqlServer, ['database.dbname', 'plugin.name', 'slot.name', 'publication.name']],
    ['PostgreSQL', postgres, ['database.names', 'schema.history.internal.kafka.topic', 'database.encrypt']],
  ])('sets no settings of the other connector for %s', (_label, pipeline, absent) => {
    const generated = buildConnectorConfig(pipeline, 'x');
    for (const key of absent) expect(generated).not.toHaveProperty(key);
  });

  it('turns TLS to SQL Server off only when asked to', () => {
    expect(buildConnectorConfig(config({ connector: { encrypt: false } }), 'x')['database.encrypt']).toBe('false');
  });

  it('writes through Confluent’s AvroConverter with schema.registry.url when asked to', () => {
    const generated = buildConnectorConfig(
      config({ schemaRegistry: { url: 'http://registry:8081' }, connector: { converter: 'confluent' } }),
      'x',
    );
    expect(Object.entries(generated).filter(([key]) => key.includes('converter'))).toEqual([
      ['key.converter', 'io.confluent.connect.avro.AvroConverter'],
      ['key.converter.schema.registry.url', 'http://registry:8081'],
      ['value.converter', 'io.confluent.connect.avro.AvroConverter'],
      ['value.converter.schema.registry.url', 'http://registry:8081'],
    ]);
  });

  it.each([
    ['a mysql source', config({ source: { connector: 'mysql' } }), /source\.connector mysql/],
    [
      'apicurio against a non-Apicurio URL',
      config({ schemaRegistry: { url: 'http://registry:8081' } }),
      /schemaRegistry\.url http:\/\/registry:8081 for connector\.converter apicurio/,
    ],
  ])('rejects %s with a ConfigError', (_label, pipeline, message) => {
    expect(() => buildConnectorConfig(pipeline, 'x')).toThrow(ConfigError);
    expect(() => buildConnectorConfig(pipeline, 'x')).toThrow(message);
  });

  it.each([
    [sqlServer, 'ErpDemo.dbo.DebeziumSignal'],
    [postgres, 'public.debezium_signal'],
    [config({ connector: { signalDataCollection: 'Erp.ops.Signals' } }), 'Erp.ops.Signals'],
  ])('names the signal table %#', (pipeline, expected) => {
    expect(signalDataCollection(pipeline)).toBe(expected);
  });
});

describe('the password', () => {
  it('comes from the environment variable connector.passwordEnv', () => {
    expect(connectorPassword(sqlServer, { ERP_DB_PASSWORD: 'pw' })).toBe('pw');
    expect(connectorPassword(config({ connector: { passwordEnv: 'PG_PW' } }), { PG_PW: 'pg' })).toBe('pg');
  });

  it.each([[{}], [{ ERP_DB_PASSWORD: '' }]])('is a ConfigError naming the variable when unset %#', (env) => {
    expect(() => connectorPassword(sqlServer, env)).toThrow(ConfigError);
    expect(() => connectorPassword(sqlServer, env)).toThrow(/Environment variable ERP_DB_PASSWORD is not set/);
  });

  it('is redacted in printed configs', () => {
    const redacted = redactConnectorConfig(buildConnectorConfig(postgres, 'hunter2'));
    expect(redacted['database.password']).toBe(REDACTED);
    expect(JSON.stringify(redacted)).not.toContain('hunter2');
    expect(redacted['database.user']).toBe('cdc');
  });
});
