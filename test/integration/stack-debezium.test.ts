import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfluentDecoder, type DecodedRecord } from '../../connectors/avro/confluent-decoder.js';
import { type AvroValue } from '../../connectors/avro/debezium-types.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createStack } from '../../stack/stack.js';
import {
  APICURIO_CONVERTER_VERSION,
  DEBEZIUM_POSTGRES_CONNECTOR,
  DEBEZIUM_VERSION,
  createKafkaConnectService,
} from '../../stack/services/kafka-connect.js';
import { apicurioAvroConverterConfig } from '../../connectors/kafka-connect/converters.js';
import { KAFKA_VERSION } from '../../stack/services/kafka.js';
import {
  POSTGRES_CREDENTIALS,
  POSTGRES_DATABASE,
  createPostgresService,
  runPsql,
  type PostgresConnection,
} from '../../stack/services/postgres.js';
import { connectWorkerEnv, waitFor, waitForConnectorRunning } from './debezium-stack.js';
import { services, uniqueName } from './services.js';

// Debezium's PostgreSQL connector in the native stack's Kafka Connect worker, writing Avro through Apicurio's converter
// to the test Kafka and registry, read back with the project's own Confluent decoder.
//
// PostgreSQL and Connect run on their default ports (CDC_SYNC_POSTGRES_PORT, CDC_SYNC_CONNECT_PORT) in the default
// stack folder: already running ones are used and left running, others are started here and stopped afterwards.
// Every run works in a schema, slot, publication, connector and topic of its own, and removes them at the end.
//
// CDC_SYNC_UPDATE_FIXTURES=1 also saves the captured update under test/fixtures/debezium-postgresql/.

const TABLE = 'item_price';
const FIXTURE_FILE = join(import.meta.dirname, '..', 'fixtures', 'debezium-postgresql', `real-${TABLE}.json`);
const RECORD_TIMEOUT_MS = 60_000;

const { kafkaBrokers, schemaRegistryUrl } = services();
const env = connectWorkerEnv();
const postgresService = createPostgresService(env);
const connectService = createKafkaConnectService(env);
const stack = createStack([postgresService, connectService], resolveStackPaths(env));
const connectUrl = connectService.endpoint;
const database: PostgresConnection = {
  host: '127.0.0.1',
  port: postgresService.ports[0]!,
  ...POSTGRES_CREDENTIALS,
  database: POSTGRES_DATABASE,
};

const run = uniqueName('dbz').replace(/-/g, '_');
const schema = run;
const topic = `${run}.${schema}.${TABLE}`;
const connectorName = run;
const slotName = run;
const publicationName = `${run}_pub`;

const connectorConfig: Record<string, string> = {
  'connector.class': DEBEZIUM_POSTGRES_CONNECTOR,
  'tasks.max': '1',
  'database.hostname': database.host,
  'database.port': String(database.port),
  'database.user': database.user,
  'database.password': database.password,
  'database.dbname': database.database,
  'topic.prefix': run,
  'plugin.name': 'pgoutput',
  'slot.name': slotName,
  'publication.name': publicationName,
  'publication.autocreate.mode': 'filtered',
  'table.include.list': `${schema}.${TABLE}`,
  'decimal.handling.mode': 'precise',
  'snapshot.mode': 'initial',
  ...apicurioAvroConverterConfig('key.converter', schemaRegistryUrl),
  ...apicurioAvroConverterConfig('value.converter', schemaRegistryUrl),
};

/** The row every change starts from; the snapshot reads it before streaming begins. */
const snapshotRow = {
  id: 1,
  sku: 'TSHIRT-ORG-BLK-M',
  list_price: '19.9900',
  balance: '-12345678901234.5678',
  quantity: 9_007_199_254_740_993n,
  counted_at: '2024-02-29T23:59:59.999999Z',
  modified_at: '2024-02-29T23:59:59.999999',
  valid_from: '2024-02-29',
  row_guid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  is_active: true,
  note: null,
};
const inserted = {
  id: 2,
  sku: 'MUG-STONE-350',
  list_price: '8.2500',
  balance: '0.0000',
  quantity: -1n,
  counted_at: '2024-03-01T06:15:30.123456Z',
  modified_at: '2024-03-01T08:15:30.123456',
  valid_from: '2024-03-01',
  row_guid: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  is_active: true,
  note: 'héllo, wörld',
};
const updated = {
  ...inserted,
  list_price: '0.0001',
  balance: '99999999999999.9999',
  // Debezium writes timestamptz with the column's six fraction digits, even when they are zeros.
  counted_at: '2024-03-02T00:00:00.000000Z',
  is_active: false,
  note: null,
};

describe('Debezium PostgreSQL capture through the native stack', () => {
  let startedHere: readonly string[] = [];

  beforeAll(async () => {
    const results = await stack.up((line) => process.stderr.write(`${line}\n`));
    startedHere = results.filter((result) => !result.alreadyRunning).map((result) => result.name);
  });

  afterAll(async () => {
    await fetch(`${connectUrl}/connectors/${connectorName}`, { method: 'DELETE' }).catch(() => undefined);
    await dropSlot(slotName).catch((error: unknown) => process.stderr.write(`Could not drop ${slotName}: ${error}\n`));
    await runPsql(
      database,
      `DROP PUBLICATION IF EXISTS ${publicationName}; DROP SCHEMA IF EXISTS ${schema} CASCADE;`,
    ).catch((error: unknown) => process.stderr.write(`Could not drop schema ${schema}: ${error}\n`));
    // Services that were up before the run belong to the user; only what this run started is stopped.
    const ours = stack.services.filter((service) => startedHere.includes(service.name));
    if (ours.length > 0) await createStack(ours, stack.paths).down();
  });

  it('lists both Debezium connectors and the Avro converter', async () => {
    const plugins = (await (await fetch(`${connectUrl}/connector-plugins?connectorsOnly=false`)).json()) as {
      class: string;
      type: string;
      version?: string;
    }[];
    expect(plugins).toEqual(
      expect.arrayContaining([
        { class: DEBEZIUM_POSTGRES_CONNECTOR, type: 'source', version: DEBEZIUM_VERSION },
        { class: 'io.debezium.connector.sqlserver.SqlServerConnector', type: 'source', version: DEBEZIUM_VERSION },
        expect.objectContaining({ class: 'io.apicurio.registry.utils.converter.AvroConverter', type: 'converter' }),
      ]),
    );
  });

  it('captures a snapshot, inserts, updates, deletes and a schema change as Avro the Confluent decoder reads exactly', async () => {
    await runPsql(
      database,
      `CREATE SCHEMA ${schema};
       CREATE TABLE ${schema}.${TABLE} (
         id          integer        PRIMARY KEY,
         sku         varchar(40)    NOT NULL,
         list_price  numeric(19,4)  NOT NULL,
         balance     numeric(18,4)  NOT NULL,
         quantity    bigint         NOT NULL,
         counted_at  timestamptz    NULL,
         modified_at timestamp(6)   NOT NULL,
         valid_from  date           NOT NULL,
         row_guid    uuid           NOT NULL,
         is_active   boolean        NOT NULL,
         note        varchar(50)    NULL
       );
       ALTER TABLE ${schema}.${TABLE} REPLICA IDENTITY FULL;
       INSERT INTO ${schema}.${TABLE} VALUES (1, 'TSHIRT-ORG-BLK-M', 19.99, -12345678901234.5678, 9007199254740993,
         '2024-03-01 01:59:59.999999+02', '2024-02-29 23:59:59.999999', '2024-02-29',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, NULL);`,
    );

    const put = await fetch(`${connectUrl}/connectors/${connectorName}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(connectorConfig),
    });
    expect(put.status, await put.text()).toBe(201);
    await waitForConnectorRunning(connectUrl, connectorName);
    // Streaming has begun once the slot is in use; changes from here on are streamed, not snapshotted.
    await waitFor(
      async () =>
        (await runPsql(database, `SELECT active FROM pg_replication_slots WHERE slot_name = '${slotName}';`)).trim() ===
        't',
      `replication slot ${slotName} to become active`,
    );

    await runPsql(
      database,
      `INSERT INTO ${schema}.${TABLE} VALUES (2, 'MUG-STONE-350', 8.25, 0, -1, '2024-03-01 08:15:30.123456+02',
         '2024-03-01 08:15:30.123456', '2024-03-01', '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', true, 'héllo, wörld');
       UPDATE ${schema}.${TABLE} SET list_price = 0.0001, balance = 99999999999999.9999,
         counted_at = '2024-03-02 00:00:00+00', is_active = false, note = NULL WHERE id = 2;
       DELETE FROM ${schema}.${TABLE} WHERE id = 2;
       ALTER TABLE ${schema}.${TABLE} ADD COLUMN reorder_level numeric(10,3) NULL;
       INSERT INTO ${schema}.${TABLE} VALUES (3, 'ROPE-DYN-10MM', 3.745, 1.5, 0, NULL, '2024-03-03 00:00:00',
         '2024-03-03', '00000000-0000-4000-8000-000000000003', true, NULL, 12.5);`,
    );

    const messages = await consume(topic, 6);
    const decoder = createConfluentDecoder({ registryUrl: schemaRegistryUrl });
    const decoded = await Promise.all(
      messages.map(async (message) => ({
        message,
        key: await decoder.decode(message.key, { topic, partition: 0, offset: message.offset }),
        value:
          message.value === null
            ? null
            : await decoder.decode(message.value, { topic, partition: 0, offset: message.offset }),
      })),
    );

    // Confluent framing: magic byte 0, the 4-byte id, the Avro body; no Apicurio id headers.
    for (const { message } of decoded) {
      expect(message.key![0]).toBe(0);
      if (message.value !== null) expect(message.value[0]).toBe(0);
      expect(Object.keys(message.headers ?? {}).filter((name) => name.startsWith('apicurio'))).toEqual([]);
    }

    const changes = decoded.map(({ key, value }) => ({
      key: key.value,
      op: value === null ? 'tombstone' : field(value, 'op'),
      before: value === null ? undefined : field(value, 'before'),
      after: value === null ? undefined : field(value, 'after'),
    }));
    expect(changes).toEqual([
      { key: { id: 1 }, op: 'r', before: null, after: snapshotRow },
      { key: { id: 2 }, op: 'c', before: null, after: inserted },
      { key: { id: 2 }, op: 'u', before: inserted, after: updated },
      { key: { id: 2 }, op: 'd', before: updated, after: null },
      { key: { id: 2 }, op: 'tombstone', before: undefined, after: undefined },
      {
        key: { id: 3 },
        op: 'c',
        before: null,
        after: {
          id: 3,
          sku: 'ROPE-DYN-10MM',
          list_price: '3.7450',
          balance: '1.5000',
          quantity: 0n,
          counted_at: null,
          modified_at: '2024-03-03T00:00:00.000000',
          valid_from: '2024-03-03',
          row_guid: '00000000-0000-4000-8000-000000000003',
          is_active: true,
          note: null,
          reorder_level: '12.500',
        },
      },
    ]);
    const source = field(decoded[2]!.value!, 'source') as Record<string, AvroValue>;
    expect(source).toMatchObject({
      connector: 'postgresql',
      version: DEBEZIUM_VERSION,
      db: POSTGRES_DATABASE,
      schema,
      table: TABLE,
    });

    // The ids in the records are the registry's Confluent ids: the subjects are <topic>-key and <topic>-value
    // (TopicNameStrategy), the value subject got a second version for the added column, and GET /schemas/ids/{id}
    // serves, self-contained, the very schema registered under the subject.
    const valueIds = decoded.flatMap(({ value }) => (value === null ? [] : [value.schemaId]));
    const [firstValueId, secondValueId] = [valueIds[0]!, valueIds.at(-1)!];
    expect(valueIds).toEqual([firstValueId, firstValueId, firstValueId, firstValueId, secondValueId]);
    expect(secondValueId).not.toBe(firstValueId);
    const keyIds = new Set(decoded.map(({ key }) => key.schemaId));
    expect(keyIds.size).toBe(1);
    const subjects = await registryJson<string[]>('/subjects');
    expect(subjects).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-value`]));
    const versions = [
      [`${topic}-key`, 1, [...keyIds][0]!],
      [`${topic}-value`, 1, firstValueId],
      [`${topic}-value`, 2, secondValueId],
    ] as const;
    for (const [subject, version, id] of versions) {
      const registered = await registryJson<{ id: number; schema: string; references?: unknown[] }>(
        `/subjects/${subject}/versions/${version}`,
      );
      const byId = await registryJson<{ schema: string; references?: unknown[] }>(`/schemas/ids/${id}`);
      expect(registered.id).toBe(id);
      expect(byId.schema).toBe(registered.schema);
      expect(registered.references ?? []).toEqual([]);
    }

    if (process.env['CDC_SYNC_UPDATE_FIXTURES'] === '1') {
      await saveFixture(decoded[2]!.message, decoded[2]!.key, decoded[2]!.value!);
    }
  });
});

/** The port of a `127.0.0.1:<port>`-style endpoint; the stack's Connect worker only reaches local services. */
function field(record: DecodedRecord, name: string): AvroValue {
  return (record.value as Record<string, AvroValue>)[name]!;
}

async function registryJson<T>(path: string): Promise<T> {
  const response = await fetch(`${schemaRegistryUrl}${path}`);
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${body}`);
  return JSON.parse(body) as T;
}

/** Reads the first `count` records of the topic, waiting for the topic to appear. */
async function consume(name: string, count: number): Promise<KafkaMessage[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await waitFor(async () => (await admin.listTopics()).includes(name), `topic ${name}`);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka().consumer({ groupId: uniqueName('debezium-read') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: name, fromBeginning: true });
    const messages: KafkaMessage[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
    await waitFor(async () => messages.length >= count, `${count} records on ${name}`, RECORD_TIMEOUT_MS);
    return messages.slice(0, count);
  } finally {
    await consumer.disconnect();
  }
}

function kafka(): Kafka {
  return new Kafka({ clientId: 'cdc-sync-test', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
}

/** Drops the slot once Connect's WAL sender has let go of it (a deleted connector's task stops within seconds). */
async function dropSlot(slot: string): Promise<void> {
  const exists = async (): Promise<boolean> =>
    (await runPsql(database, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${slot}';`)).trim() === '1';
  if (!(await exists())) return;
  const inactive = async (): Promise<boolean> =>
    (await runPsql(database, `SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}';`)).trim() !== 't';
  await waitFor(inactive, `slot ${slot} to be released`, 30_000).catch(() =>
    runPsql(
      database,
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${slot}' AND active;`,
    ),
  );
  await waitFor(inactive, `slot ${slot} to be released`, 10_000);
  await runPsql(database, `SELECT pg_drop_replication_slot('${slot}');`);
}

/** Saves one captured record, its bytes and the schemas its ids name, as a fixture for decoder and transform tests. */
async function saveFixture(message: KafkaMessage, key: DecodedRecord, value: DecodedRecord): Promise<void> {
  const schemaOf = async (id: number): Promise<unknown> =>
    JSON.parse((await registryJson<{ schema: string }>(`/schemas/ids/${id}`)).schema);
  const serverVersion = (await runPsql(database, 'SHOW server_version;')).trim();
  const fixture = {
    note:
      `A real change event, captured by test/integration/stack-debezium.test.ts with CDC_SYNC_UPDATE_FIXTURES=1: ` +
      `Debezium's PostgreSQL connector ${DEBEZIUM_VERSION} (pgoutput, decimal.handling.mode=precise) in a Kafka ` +
      `Connect ${KAFKA_VERSION} worker of the native stack, converted by Apicurio's AvroConverter ` +
      `${APICURIO_CONVERTER_VERSION} with the settings of apicurioAvroConverterConfig (Confluent framing, content ` +
      `ids, schemas registered whole under <topic>-key and <topic>-value), from PostgreSQL ${serverVersion}. ` +
      `keyBase64 and valueBase64 are the record's bytes as read from Kafka; keySchema and valueSchema are what the ` +
      `registry served for the ids in them. In "decoded", bigints are written as decimal strings.`,
    capturedAt: new Date().toISOString(),
    topic,
    partition: 0,
    offset: message.offset,
    keySchemaId: key.schemaId,
    valueSchemaId: value.schemaId,
    keySchema: await schemaOf(key.schemaId),
    valueSchema: await schemaOf(value.schemaId),
    keyBase64: message.key!.toString('base64'),
    valueBase64: message.value!.toString('base64'),
    decoded: {
      key: key.value,
      op: field(value, 'op'),
      before: field(value, 'before'),
      after: field(value, 'after'),
    },
  };
  const text = JSON.stringify(fixture, (_name, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
  // Formatted as `npm run lint` wants it; prettier is only loaded when a fixture is written.
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(FIXTURE_FILE);
  writeFileSync(FIXTURE_FILE, await prettier.format(text, { ...options, filepath: FIXTURE_FILE }));
}
