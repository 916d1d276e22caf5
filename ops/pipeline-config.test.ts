import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SAMPLE_ERP_TABLES, sourceTopic } from '../connectors/debezium/source-config.js';
import { loadPipelineConfig, parsePipelineConfig } from './pipeline-config.js';
import { ConfigError } from '../core/errors.js';

describe('pipeline config', () => {
  it('fills every default from an empty file', () => {
    const config = parsePipelineConfig({}, 'test.yaml', {});
    expect(config.stopTimeoutMs).toBe(15_000);
    expect(config.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'cdc-sync',
      topicPartitions: 1,
      maxBytesPerPartition: 1_048_576,
      partitionsConsumedConcurrently: 32,
      maxRequestBytes: 1_048_576,
      sessionTimeoutMs: 30_000,
      ssl: false,
    });
    expect(config.ops).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 9464,
      probeIntervalMs: 1_000,
      probeTimeoutMs: 1_500,
    });
    expect(config.stalled).toEqual({
      awaitingPayment: 24 * 3_600_000,
      awaitingShipment: 48 * 3_600_000,
      awaitingRefund: 72 * 3_600_000,
    });
    expect(config.schemaRegistry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.mongodb).toEqual({ uri: 'mongodb://127.0.0.1:27017/', database: 'cdc_sync' });
    expect(config.source).toEqual({
      connector: 'sqlserver',
      topicPrefix: 'erp',
      database: 'ErpDemo',
      tables: [...SAMPLE_ERP_TABLES],
      schemas: {},
    });
    expect(config.sink).toEqual({ groupId: 'cdc-sync-sink', fetchMinBytes: 65_536, fetchMaxWaitMs: 100 });
    expect(config.topics).toEqual({
      inventory: 'canonical.inventory.v1',
      order: 'canonical.order.v1',
      deadLetter: 'cdc-sync.dlq',
    });
    expect(config.backoff).toEqual({ initialMs: 500, maxMs: 30_000, multiplier: 2 });
    expect(config.transform.groupId).toBe('cdc-sync-transform');
    expect(config.transforms).toEqual({});
  });

  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['7d', 604_800_000],
    [5_000, 5_000],
  ])('reads the stall threshold %s as %i ms', (text, ms) => {
    expect(parsePipelineConfig({ stalled: { awaitingShipment: text } }, 'p.yaml', {}).stalled.awaitingShipment).toBe(
      ms,
    );
  });

  it('takes secrets from the environment', () => {
    const config = parsePipelineConfig(
      { mongodb: { uri: '${MONGODB_URI}' }, kafka: { brokers: ['${BROKER:-127.0.0.1:19092}'] } },
      'test.yaml',
      { MONGODB_URI: 'mongodb://app:s3cret@db:27017/' },
    );
    expect(config.mongodb.uri).toBe('mongodb://app:s3cret@db:27017/');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
  });

  it.each([
    [
      { kafka: { brokers: [] } },
      'Invalid config at kafka.brokers in p.yaml: Too small: expected array to have >=1 items (got [])',
    ],
    [
      { source: { tables: ['dbo.Item', 'Inventory'] } },
      'Invalid config at source.tables[1] in p.yaml: expected schema.table (got "Inventory")',
    ],
    [
      { source: { connector: 'oracle' } },
      'Invalid config at source.connector in p.yaml: Invalid option: expected one of "sqlserver"|"postgresql"|"mysql" (got "oracle")',
    ],
    [
      { backoff: { initialMs: 1000, maxMs: 10 } },
      'Invalid config at backoff.maxMs in p.yaml: maxMs must be at least initialMs (got 10)',
    ],
    [
      { stalled: { awaitingRefund: '3 days' } },
      'Invalid config at stalled.awaitingRefund in p.yaml: expected a whole number and a unit s, m, h or d, e.g. 48h, or a number of milliseconds (got "3 days")',
    ],
    [{ kafak: {} }, 'Invalid config at (root) in p.yaml: Unrecognized key: "kafak"'],
    [{ mongodb: { uri: '${NOPE}' } }, 'Environment variable NOPE is not set, referenced at mongodb.uri in p.yaml'],
  ])('rejects %j naming the key path and value', (raw, message) => {
    expect(() => parsePipelineConfig(raw, 'p.yaml', {})).toThrow(new ConfigError(message));
  });

  it('reads YAML files and names the file in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-sync-config-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'source:\n  topicPrefix: shop\ntransforms:\n  order_line: false\n');
    expect(loadPipelineConfig(good, {}).source.topicPrefix).toBe('shop');
    expect(loadPipelineConfig(good, {}).transforms).toEqual({ order_line: false });

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kafka: [unclosed');
    expect(() => loadPipelineConfig(bad, {})).toThrow(/^Invalid YAML or JSON in config file .*bad\.yaml: /);
    expect(() => loadPipelineConfig(join(dir, 'missing.yaml'), {})).toThrow(
      /^Cannot read config file .*missing\.yaml: ENOENT/,
    );
  });

  it.each([
    ['sqlserver', 'dbo.SalesOrderHeader', 'erp.ErpDemo.dbo.SalesOrderHeader'],
    ['postgresql', 'public.sales_order_header', 'erp.public.sales_order_header'],
    ['mysql', 'erp_demo.sales_order_header', 'erp.erp_demo.sales_order_header'],
  ] as const)('names the %s topic of %s', (connector, table, topic) => {
    const { source } = parsePipelineConfig({ source: { connector } }, 'p.yaml', {});
    expect(sourceTopic(source, table)).toBe(topic);
  });
});

describe('validating the whole config at once', () => {
  const components = {
    transforms: { order_header: z.strictObject({ statusMap: z.record(z.string(), z.string()).default({}) }) },
    sinks: { order_view: z.strictObject({ collection: z.string().min(1).default('order_view') }) },
  };

  it('reports every problem of the file in one error, each with its key path', () => {
    expect(() =>
      parsePipelineConfig({ kafka: { brokers: [] }, ops: { port: 70000 }, logLevel: 'loud' }, 'pipeline.yaml'),
    ).toThrow(
      new ConfigError(
        [
          'Invalid config in pipeline.yaml, 3 problems:',
          '  at logLevel: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace" (got "loud")',
          '  at kafka.brokers: Too small: expected array to have >=1 items (got [])',
          '  at ops.port: Too big: expected number to be <=65535 (got 70000)',
        ].join('\n'),
      ),
    );
  });

  it("checks each configured transform's and sink's own settings, and names unknown ones", () => {
    const raw = {
      transforms: { order_header: { statusMap: { NW: 7 } }, order_heade: {} },
      sinks: { order_view: { collection: '', extra: true }, inventory_availability: false },
    };
    expect(() => parsePipelineConfig(raw, 'pipeline.yaml', {}, components)).toThrow(
      new ConfigError(
        [
          'Invalid config in pipeline.yaml, 5 problems:',
          '  at transforms.order_header.statusMap.NW: Invalid input: expected string, received number (got 7)',
          '  at transforms.order_heade: Unknown transform "order_heade"; known: order_header',
          '  at sinks.order_view.collection: Too small: expected string to have >=1 characters (got "")',
          '  at sinks.order_view: Unrecognized key: "extra" (got {"collection":"","extra":true})',
          '  at sinks.inventory_availability: Unknown sink "inventory_availability"; known: order_view',
        ].join('\n'),
      ),
    );
  });

  it('keeps the one-line form for a single problem, and accepts disabled and valid sections', () => {
    expect(() => parsePipelineConfig({ sinks: { order_view: { collection: '' } } }, 'p.yaml', {}, components)).toThrow(
      new ConfigError(
        'Invalid config at sinks.order_view.collection in p.yaml: Too small: expected string to have >=1 characters (got "")',
      ),
    );
    const config = parsePipelineConfig(
      { transforms: { order_header: false }, sinks: { order_view: { collection: 'orders' } } },
      'p.yaml',
      {},
      components,
    );
    expect([config.transforms, config.sinks]).toEqual([
      { order_header: false },
      { order_view: { collection: 'orders' } },
    ]);
  });
});
