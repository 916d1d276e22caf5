import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createRegistryRequest, parseRegistrySettings } from '../../connectors/avro/confluent-decoder.js';
import { createSqlServerEncoder, type SqlServerEncoder } from '../../connectors/debezium/encode.js';
import { buildSqlServerSchemas } from '../../connectors/debezium/sqlserver-schema.js';
import { readFixtureFile } from '../../devtools/fixtures/fixture-file.js';
import { fixtureMessage } from '../../devtools/fixtures/wire-records.js';
import { COMPONENT_SCHEMAS } from '../../ops/components.js';
import { parsePipelineConfig } from '../../ops/pipeline-config.js';
import { SAMPLE_ERP_STAGES } from '../../transforms/index.js';
import { writeConfigFile } from './config-file.js';
import { freePort, services, uniqueName } from './services.js';

const ORDER_LIFECYCLE = 'test/fixtures/erp/order-lifecycle.json';
const EXPECTED = 'test/fixtures/erp/order-lifecycle.expected.yaml';

/**
 * `cdc-sync test` over captured records that carry no schemas: the writer schemas are registered in the real schema
 * registry, as Debezium's AvroConverter registers them, and the command fetches them by the ids in the bytes.
 */
describe('cdc-sync test against the schema registry', () => {
  const { schemaRegistryUrl } = services();
  const server = uniqueName('stage_test').replace(/-/g, '_');
  const scratch = mkdtempSync(join(tmpdir(), 'cdc-sync-stage-test-'));
  const capture = join(scratch, 'capture.jsonl');
  const config = (registryUrl: string) =>
    writeConfigFile(
      parsePipelineConfig(
        { transforms: SAMPLE_ERP_STAGES, source: { topicPrefix: server }, schemaRegistry: { url: registryUrl } },
        'the test',
        {},
        COMPONENT_SCHEMAS,
      ),
    );
  const cli = (args: string[]) =>
    spawnSync(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'test', ...args], { encoding: 'utf8' });

  /** The committed expected events as written by hand: type, key and payload (ids and source table name the prefix). */
  function handWritten(edit: (payload: Record<string, unknown>, index: number) => Record<string, unknown>): string {
    const events = parseYaml(readFileSync(EXPECTED, 'utf8')) as {
      meta: { eventType: string; aggregateKey: string };
      payload: Record<string, unknown>;
    }[];
    const path = join(scratch, `expected-${Math.random().toString(36).slice(2)}.json`);
    const stripped = events.map(({ meta, payload }, index) => ({
      meta: { eventType: meta.eventType, aggregateKey: meta.aggregateKey },
      payload: edit(payload, index),
    }));
    writeFileSync(path, JSON.stringify(stripped));
    return path;
  }

  beforeAll(async () => {
    const fixture = readFixtureFile(ORDER_LIFECYCLE, { server });
    const request = createRegistryRequest(parseRegistrySettings({ registryUrl: schemaRegistryUrl }));
    const register = async (subject: string, schema: unknown) =>
      (await request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) }))[
        'id'
      ] as number;
    const encoders = new Map<string, SqlServerEncoder>();
    for (const { topic, table } of fixture.entries) {
      if (encoders.has(topic)) continue;
      const schemas = buildSqlServerSchemas(table);
      const keySchemaId = await register(`${topic}-key`, schemas.key);
      const valueSchemaId = await register(`${topic}-value`, schemas.value);
      encoders.set(topic, createSqlServerEncoder(table, { keySchemaId, valueSchemaId }));
    }
    const lines = fixture.entries.map((entry, offset) => {
      const { key, value } = fixtureMessage(entry, encoders.get(entry.topic)!, fixture.path);
      return JSON.stringify({
        topic: entry.topic,
        partition: 0,
        offset,
        key: key?.toString('base64') ?? null,
        value: value?.toString('base64') ?? null,
      });
    });
    writeFileSync(capture, `${lines.join('\n')}\n`);
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('fetches the schemas by id and exits 0 when the events match', () => {
    const result = cli([capture, '--expect', handWritten((payload) => payload), '--config', config(schemaRegistryUrl)]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`17 records of ${capture} (captured records): 17 changes, 0 tombstones`);
    expect(result.stdout).toMatch(/All 12 events and 0 dead letters match .*\.json\n$/);
    expect(result.status).toBe(0);
  });

  it('exits 1 with the differing field when an event differs', () => {
    const expected = handWritten((payload, index) => (index === 0 ? { ...payload, orderTotal: '1.0000' } : payload));
    const result = cli([capture, '--expect', expected, '--config', config(schemaRegistryUrl)]);
    expect(result.stdout).toContain('      payload.orderTotal: expected "1.0000", actual "48.2300"\n');
    expect(result.status).toBe(1);
  });

  it('exits 2 with one clean line when the registry cannot be reached', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const result = cli([capture, '--expect', handWritten((payload) => payload), '--config', config(unreachable)]);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^cdc-sync test: .*[Ss]chema registry.*\n$/);
    expect(result.status).toBe(2);
  });
});
