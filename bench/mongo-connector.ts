import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { strToU8, zipSync } from 'fflate';
import { Long, type MongoClient } from 'mongodb';
import { type Fixture, type FixtureChange } from '../devtools/fixtures/fixture-file.js';
import { type ProducedRecord } from '../devtools/fixtures/producer.js';
import { createConnectClient } from '../connectors/kafka-connect/client.js';
import { apicurioAvroConverterConfig } from '../connectors/kafka-connect/converters.js';
import { ZIP_OPTIONS } from '../stack/exec.js';
import { copyMavenDependencies, readStamp, renderDependencyPom } from '../stack/maven.js';
import { serviceFiles, type StackPaths } from '../stack/paths.js';
import {
  type HealthResult,
  portFromEnv,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
} from '../stack/service.js';
import { createKafkaConnectService } from '../stack/services/kafka-connect.js';

/**
 * The MongoDB Kafka sink connector, the tool cdc-sync is measured against:
 * `org.mongodb.kafka:mongo-kafka-connect` 1.13.0 (the newest 1.x Maven Central
 * serves here) with its Debezium RDBMS CDC handler, in a Kafka Connect worker
 * of the benchmark's own.
 *
 * The worker is the stack's Kafka Connect (the same runtime, Debezium and
 * Apicurio converter install, JVM settings and converter settings) with the
 * connector's plugin folder added to its plugin path; it runs as a worker
 * group of its own on a port of its own (`CDC_SYNC_BENCH_CONNECT_PORT`,
 * default 8183), because a running worker loads plugins only at start, and so
 * that its CPU time is the connector's alone. The benchmark starts it through
 * the stack code and stops it again if it started it.
 *
 * Installing (cached in `~/.cache/cdc-sync/mongo-kafka-connect`, like every
 * stack service) fetches the `all` jar, which bundles the driver, and adds a
 * jar declaring the connector for the ServiceLoader, which 1.13.0 does not,
 * while the worker runs with `plugin.discovery=service_load`.
 *
 * @see https://www.mongodb.com/docs/kafka-connector/current/sink-connector/fundamentals/change-data-capture/
 * @see https://kafka.apache.org/documentation/#connect_plugindiscovery
 */
export const MONGO_KAFKA_CONNECT_VERSION = '1.13.0';
export const MONGO_SINK_CONNECTOR = 'com.mongodb.kafka.connect.MongoSinkConnector';
export const RDBMS_HANDLER = 'com.mongodb.kafka.connect.sink.cdc.debezium.rdbms.RdbmsHandler';

const SERVICE_NAME = 'bench-kafka-connect';
const PLUGIN_CACHE = 'mongo-kafka-connect';
const PLUGIN_FOLDER = 'mongo-kafka-connect';
const GROUP_ID = 'cdc-sync-bench-connect';
const POM = renderDependencyPom({
  artifactId: 'mongo-kafka-connect-plugin',
  version: MONGO_KAFKA_CONNECT_VERSION,
  purpose: "only used to fetch the MongoDB Kafka connector's plugin jar.",
  dependencies: [
    {
      groupId: 'org.mongodb.kafka',
      artifactId: 'mongo-kafka-connect',
      version: MONGO_KAFKA_CONNECT_VERSION,
      classifier: 'all',
      exclusions: ['*:*'],
    },
  ],
});
const MANIFEST = `${MONGO_SINK_CONNECTOR}\n`;
const INSTALL_STAMP = `mongo-kafka-connect-${MONGO_KAFKA_CONNECT_VERSION} sha256:${createHash('sha256')
  .update(POM)
  .update(MANIFEST)
  .digest('hex')
  .slice(0, 16)}`;

/** Installs the connector's plugin folder into its cache (idempotent); returns the folder holding the plugin folder. */
export async function installMongoKafkaConnector(paths: StackPaths, report: StackReporter): Promise<string> {
  const cacheDir = serviceFiles(paths, PLUGIN_CACHE).cacheDir;
  const pluginsDir = join(cacheDir, 'plugins');
  const stampFile = join(cacheDir, 'installed.txt');
  if (existsSync(join(pluginsDir, PLUGIN_FOLDER)) && (await readStamp(stampFile)) === INSTALL_STAMP) return pluginsDir;
  report(`Downloading the MongoDB Kafka connector ${MONGO_KAFKA_CONNECT_VERSION} from Maven Central…`);
  await mkdir(cacheDir, { recursive: true });
  await rm(stampFile, { force: true });
  await copyMavenDependencies({
    workDir: cacheDir,
    pomName: 'pom.xml',
    pom: POM,
    outputDir: join(pluginsDir, PLUGIN_FOLDER),
    logFile: join(cacheDir, 'install.log'),
  });
  await writeFile(
    join(pluginsDir, PLUGIN_FOLDER, 'cdc-sync-plugin-manifests.jar'),
    Buffer.from(
      zipSync({ 'META-INF/services/org.apache.kafka.connect.sink.SinkConnector': strToU8(MANIFEST) }, ZIP_OPTIONS),
    ),
  );
  await writeFile(stampFile, INSTALL_STAMP);
  report(`MongoDB Kafka connector installed in ${cacheDir}`);
  return pluginsDir;
}

/**
 * The benchmark's Kafka Connect worker as a stack service (see the file
 * comment): installs the stack's Kafka Connect and the connector, runs
 * `ConnectDistributed` from the stack's jars with a worker config of its own,
 * healthy once the REST API lists the MongoDB sink connector.
 */
export function createBenchConnectService(paths: StackPaths, env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_BENCH_CONNECT_PORT', 8183, env);
  const kafkaPort = portFromEnv('CDC_SYNC_KAFKA_PORT', 9092, env);
  const registryPort = portFromEnv('CDC_SYNC_SCHEMA_REGISTRY_PORT', 8081, env);
  const endpoint = `http://127.0.0.1:${port}`;
  const stackConnect = createKafkaConnectService(env);
  const connectFiles = serviceFiles(paths, stackConnect.name);
  let pluginsDir = join(serviceFiles(paths, PLUGIN_CACHE).cacheDir, 'plugins');

  return {
    name: SERVICE_NAME,
    summary: `Kafka Connect for the benchmark with the MongoDB Kafka connector ${MONGO_KAFKA_CONNECT_VERSION} on ${endpoint}`,
    ports: [port],
    endpoint,
    endpointEnv: 'CDC_SYNC_BENCH_CONNECT_URL',
    prerequisites: stackConnect.prerequisites,
    // Kafka and the registry are the running stack's, outside this one-service stack.
    needs: stackConnect.needs,
    startTimeoutSeconds: stackConnect.startTimeoutSeconds,
    async install(_dirs: ServiceDirs, report: StackReporter) {
      for (const dir of [connectFiles.cacheDir, connectFiles.dataDir, connectFiles.runDir]) {
        await mkdir(dir, { recursive: true });
      }
      await stackConnect.install(connectFiles, report);
      pluginsDir = await installMongoKafkaConnector(paths, report);
    },
    async prepare(dirs: ServiceDirs) {
      await mkdir(dirs.runDir, { recursive: true });
      const converters = {
        ...apicurioAvroConverterConfig('key.converter', `http://127.0.0.1:${registryPort}/apis/ccompat/v7`),
        ...apicurioAvroConverterConfig('value.converter', `http://127.0.0.1:${registryPort}/apis/ccompat/v7`),
      };
      await writeFile(
        join(dirs.runDir, 'connect-distributed.properties'),
        [
          '# Generated by the cdc-sync benchmark on every start; edits are overwritten.',
          `bootstrap.servers=127.0.0.1:${kafkaPort}`,
          `group.id=${GROUP_ID}`,
          `listeners=http://127.0.0.1:${port}`,
          'rest.advertised.host.name=127.0.0.1',
          `rest.advertised.port=${port}`,
          'config.storage.topic=cdc_sync_bench_connect_configs',
          'offset.storage.topic=cdc_sync_bench_connect_offsets',
          'status.storage.topic=cdc_sync_bench_connect_statuses',
          'config.storage.replication.factor=1',
          'offset.storage.replication.factor=1',
          'status.storage.replication.factor=1',
          'offset.storage.partitions=5',
          'status.storage.partitions=1',
          // As the stack's worker: offsets of sink tasks are committed every second.
          'offset.flush.interval.ms=1000',
          'scheduled.rebalance.max.delay.ms=0',
          `plugin.path=${join(connectFiles.cacheDir, 'plugins')},${pluginsDir}`,
          'plugin.discovery=service_load',
          ...Object.entries(converters).map(([key, value]) => `${key}=${value}`),
          '',
        ].join('\n'),
      );
      await writeFile(join(dirs.runDir, 'log4j2.properties'), LOG4J_CONFIG);
    },
    command(dirs: ServiceDirs): ServiceCommand {
      const stack = stackConnect.command(connectFiles);
      // The stack worker's JVM and class path, with this worker's own config files.
      const args = stack.args.map((arg) =>
        arg.startsWith('-Dlog4j2.configurationFile=')
          ? `-Dlog4j2.configurationFile=${join(dirs.runDir, 'log4j2.properties')}`
          : arg.endsWith('connect-distributed.properties')
            ? join(dirs.runDir, 'connect-distributed.properties')
            : arg,
      );
      return { command: stack.command, args, cwd: dirs.runDir };
    },
    health: () => pluginListed(endpoint),
  };
}

/**
 * The connector's config: every source topic into a database of its own, one
 * collection per topic (the topic's name), Debezium RDBMS events applied by
 * `RdbmsHandler`, and the same Apicurio Avro converter settings as the
 * stack's Debezium connectors.
 */
export function mongoSinkConnectorConfig(options: {
  readonly topics: readonly string[];
  readonly mongoUri: string;
  readonly database: string;
  readonly registryUrl: string;
}): Record<string, string> {
  return {
    'connector.class': MONGO_SINK_CONNECTOR,
    'tasks.max': '1',
    topics: options.topics.join(','),
    'connection.uri': options.mongoUri,
    database: options.database,
    'change.data.capture.handler': RDBMS_HANDLER,
    // A write the server refuses is logged and skipped instead of killing the task, so that the run finishes and
    // the refusals can be counted (the local MongoDB-wire server refuses some: see bench/README.md). Unordered, as
    // the connector's analysis of an ordered bulk assumes MongoDB's single error, which that server does not keep to.
    'errors.tolerance': 'all',
    'errors.log.enable': 'true',
    'mongo.errors.tolerance': 'all',
    'mongo.errors.log.enable': 'true',
    'bulk.write.ordered': 'false',
    ...apicurioAvroConverterConfig('key.converter', options.registryUrl),
    ...apicurioAvroConverterConfig('value.converter', options.registryUrl),
  };
}

/** The connector's consumer group: Connect names a sink connector's group `connect-<name>`. */
export function connectorGroupId(name: string): string {
  return `connect-${name}`;
}

/**
 * The documents that show the connector is done: for each topic partition,
 * the last record written to it, as `RdbmsHandler` stores it (`_id` the key's
 * columns in key order, the after image's columns beside it). The connector
 * writes a partition's records in order, in ordered bulks, so once the last
 * one is visible every earlier one is too.
 */
export type Sentinel = {
  readonly collection: string;
  readonly id: Record<string, unknown>;
  /** `ModifiedAt` of the after image as `RdbmsHandler` stores it (Debezium's NanoTimestamp: epoch nanoseconds). */
  readonly modifiedAtNanos: bigint;
};

/** The last record of every topic partition the fixture was produced to; throws for a workload with deletes. */
export function sentinels(fixture: Fixture, records: readonly ProducedRecord[]): Sentinel[] {
  const last = new Map<string, ProducedRecord>();
  for (const record of records) last.set(`${record.topic}/${record.partition}`, record);
  return [...last.values()].map((record) => {
    const entry = fixture.entries[record.index];
    if (entry?.kind !== 'change' || entry.change.after === null) {
      throw new Error(
        `The last record of ${record.topic}[${record.partition}] is not a row change with an after image`,
      );
    }
    return sentinelOf(entry);
  });
}

function sentinelOf(entry: FixtureChange): Sentinel {
  const after = entry.change.after!;
  const id: Record<string, unknown> = {};
  for (const column of entry.table.primaryKey) {
    const type = entry.table.columns.find((c) => c.name === column)?.type ?? '';
    const value = after[column];
    id[column] = /^bigint/i.test(type) ? Long.fromString(String(value)) : value;
  }
  return { collection: entry.topic, id, modifiedAtNanos: nanosOf(String(after['ModifiedAt'])) };
}

/** Epoch nanoseconds of a DATETIME2 in the decoder's representation (`2025-11-27T08:00:00.123456700`). */
export function nanosOf(datetime2: string): bigint {
  const seconds = BigInt(Date.parse(`${datetime2.slice(0, 19)}Z`)) / 1_000n;
  const fraction = (datetime2.slice(20) + '000000000').slice(0, 9);
  return seconds * 1_000_000_000n + BigInt(fraction);
}

/** Resolves with the time every sentinel document was first seen as expected; rejects after `timeoutMs`. */
export async function waitForSentinels(
  client: MongoClient,
  database: string,
  expected: readonly Sentinel[],
  timeoutMs: number,
  pollMs = 50,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(expected);
  while (Date.now() < deadline) {
    const readAt = Date.now();
    for (const sentinel of [...pending]) {
      const doc = await client
        .db(database)
        .collection(sentinel.collection)
        .findOne({ _id: sentinel.id as never }, { useBigInt64: true, projection: { ModifiedAt: 1 } });
      if (doc !== null && BigInt(doc['ModifiedAt'] as bigint) === sentinel.modifiedAtNanos) pending.delete(sentinel);
    }
    if (pending.size === 0) return readAt;
    await sleep(pollMs);
  }
  throw new Error(
    `The connector's last documents were not all visible within ${timeoutMs} ms (${pending.size} of ${expected.length} missing, e.g. ${[...pending][0]?.collection})`,
  );
}

/** Removes the connector; harmless when it is gone. */
export async function removeConnector(connectUrl: string, name: string): Promise<void> {
  await createConnectClient({ url: connectUrl }).remove(name);
}

/**
 * Rejects as soon as the connector or its task has failed, with the first
 * lines of Connect's trace; polls until `stopped()` says to stop. For racing
 * against the wait for the connector's last documents.
 */
export async function failWhenConnectorFails(connectUrl: string, name: string, stopped: () => boolean): Promise<never> {
  const client = createConnectClient({ url: connectUrl });
  while (!stopped()) {
    const status = await client.status(name).catch(() => undefined);
    const failed =
      status === undefined ? undefined : [status.connector, ...status.tasks].find((p) => p.state === 'FAILED');
    if (failed !== undefined) {
      throw new Error(`Connector ${name} failed: ${(failed.trace ?? '(no trace)').split('\n').slice(0, 3).join(' ')}`);
    }
    await sleep(500);
  }
  return new Promise<never>(() => undefined);
}

/** Records the connector logged as not written (each write error is logged with its record) in a worker log's text. */
export function countRefusedRecords(log: string, name: string): number {
  let count = 0;
  for (const line of log.split('\n')) {
    if (line.includes(`[${name}|task-`) && line.includes('Failed to put into the sink the following records')) {
      count += line.split('SinkRecord{').length - 1;
    }
  }
  return count;
}

/** Waits until the connector and its task run; fails at once with Connect's trace when either failed. */
export async function waitForConnectorTask(connectUrl: string, name: string, timeoutMs: number): Promise<void> {
  const client = createConnectClient({ url: connectUrl });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await client.status(name).catch(() => undefined);
    const failed =
      status === undefined ? undefined : [status.connector, ...status.tasks].find((p) => p.state === 'FAILED');
    if (failed !== undefined) throw new Error(`Connector ${name} failed: ${failed.trace ?? '(no trace)'}`);
    if (status?.connector.state === 'RUNNING' && status.tasks.some((task) => task.state === 'RUNNING')) return;
    await sleep(200);
  }
  throw new Error(`Connector ${name} was not running within ${timeoutMs} ms`);
}

/** Healthy when `GET /connector-plugins` lists the MongoDB sink connector; never throws. */
async function pluginListed(endpoint: string): Promise<HealthResult> {
  const url = `${endpoint}/connector-plugins`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    const body = await response.text();
    if (!response.ok) return { healthy: false, reason: `GET ${url} answered ${response.status}` };
    return body.includes(MONGO_SINK_CONNECTOR)
      ? { healthy: true }
      : { healthy: false, reason: `GET ${url} does not list ${MONGO_SINK_CONNECTOR}` };
  } catch (error: unknown) {
    return { healthy: false, reason: `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const LOG4J_CONFIG = `status = warn
name = cdc-sync-bench-kafka-connect
shutdownHook = disable
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %X{connector.context}%m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.connect.name = org.apache.kafka.connect.runtime
logger.connect.level = INFO
`;
