import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyMavenDependencies, readStamp, renderDependencyPom, unpackMavenArchives } from '../maven.js';
import { strToU8, zipSync } from 'fflate';
import { LOG4J_VERSION } from './kafka.js';
import { ZIP_OPTIONS } from '../exec.js';
import {
  type HealthResult,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
  portFromEnv,
} from '../service.js';
import { JAVA_17, MAVEN } from '../prerequisites.js';
import { KAFKA_VERSION } from './kafka.js';
import {
  APICURIO_AVRO_CONVERTER,
  apicurioAvroConverterConfig,
  CONFLUENT_COMPAT_PATH,
} from '../../connectors/kafka-connect/converters.js';
import { APICURIO_REGISTRY_VERSION } from './schema-registry.js';

/**
 * Debezium's connector plugins, from their `-plugin.tar.gz` archives on Maven
 * Central. 3.6.1.Final is the newest 3.x whose PostgreSQL and SQL Server
 * archives are both published there (of 3.7, only PostgreSQL's 3.7.0 archive
 * is); it is built against Kafka 4.3.0 for Java 17, and runs in the Kafka 4.4
 * worker (tested end to end by test/integration/stack-debezium.test.ts).
 */
export const DEBEZIUM_VERSION = '3.6.1.Final';

/** Apicurio's Kafka Connect converter, the release of the stack's registry. */
export const APICURIO_CONVERTER_VERSION = APICURIO_REGISTRY_VERSION;

/** Connector classes `health` waits for. */
export const DEBEZIUM_POSTGRES_CONNECTOR = 'io.debezium.connector.postgresql.PostgresConnector';
export const DEBEZIUM_SQLSERVER_CONNECTOR = 'io.debezium.connector.sqlserver.SqlServerConnector';

/** The worker group and its storage topics; the same names as the `connect` service of docker-compose.yml. */
export const CONNECT_GROUP_ID = 'cdc-sync-connect';
const STORAGE_TOPICS = {
  config: 'cdc_sync_connect_configs',
  offset: 'cdc_sync_connect_offsets',
  status: 'cdc_sync_connect_statuses',
} as const;

// Must match the log4j-core that kafka-server (a runtime dependency of connect-runtime) pulls in; the SLF4J 1.x
// binding is not in Kafka's POMs. The same pair as services/kafka.ts.
const EVERIT_JSON_SCHEMA_VERSION = '1.14.2';
const PLUGINS = {
  postgres: 'debezium-connector-postgres',
  sqlserver: 'debezium-connector-sqlserver',
  converter: 'apicurio-registry-converter',
} as const;
const RUNTIME_POM = renderDependencyPom({
  artifactId: 'kafka-connect-runtime',
  version: KAFKA_VERSION,
  purpose: "only used to fetch the Kafka Connect worker's runtime jars.",
  dependencies: [
    {
      groupId: 'org.apache.kafka',
      artifactId: 'connect-runtime',
      version: KAFKA_VERSION,
      // connect-runtime's published POM lists its test fixtures with runtime scope.
      exclusions: ['org.apache.kafka:kafka-test-common-runtime', 'org.junit.jupiter:*', 'org.junit.platform:*'],
    },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J_VERSION },
  ],
});
const DEBEZIUM_POM = renderDependencyPom({
  artifactId: 'debezium-plugins',
  version: DEBEZIUM_VERSION,
  purpose: "only used to fetch Debezium's connector plugin archives.",
  dependencies: [PLUGINS.postgres, PLUGINS.sqlserver].map((artifactId) => ({
    groupId: 'io.debezium',
    artifactId,
    version: DEBEZIUM_VERSION,
    type: 'tar.gz',
    classifier: 'plugin',
  })),
});
const CONVERTER_POM = renderDependencyPom({
  artifactId: 'apicurio-converter-plugin',
  version: APICURIO_CONVERTER_VERSION,
  purpose: "only used to fetch Apicurio's Kafka Connect converter and its dependencies.",
  // Apicurio's own dependency management (e.g. one Jackson version); without it Maven's nearest-wins picks
  // jackson-databind 2.10 next to jackson-core 2.14.
  boms: [{ groupId: 'io.apicurio', artifactId: 'apicurio-registry', version: APICURIO_CONVERTER_VERSION }],
  dependencies: [
    {
      groupId: 'io.apicurio',
      artifactId: 'apicurio-registry-utils-converter',
      version: APICURIO_CONVERTER_VERSION,
      exclusions: [
        'com.github.everit-org.json-schema:org.everit.json.schema',
        // The Connect API, Kafka clients (with their compression libraries) and SLF4J must come from the worker:
        // a plugin's own copies would be ignored for the API and would clash for the rest.
        'org.apache.kafka:*',
        'org.slf4j:*',
      ],
    },
    // As in services/schema-registry.ts: Apicurio's POMs want this from JitPack, which is unreachable; its author
    // publishes the same code to Maven Central under another group. Only the converter's JSON Schema half uses it.
    { groupId: 'com.github.erosb', artifactId: 'everit-json-schema', version: EVERIT_JSON_SCHEMA_VERSION },
  ],
});
/** The Connect plugin interface converters are declared under for the ServiceLoader. */
const CONVERTER_SERVICE = 'org.apache.kafka.connect.storage.Converter';
/** Every converter class of apicurio-registry-utils-converter, as a reflective scan of the plugin finds them. */
const CONVERTER_MANIFEST = [
  APICURIO_AVRO_CONVERTER,
  'io.apicurio.registry.utils.converter.ExtJsonConverter',
  'io.apicurio.registry.utils.converter.SerdeBasedConverter',
  '',
].join('\n');
/** Names every version, plus a hash of the POMs and manifest, so that any change to what gets installed reinstalls. */
const INSTALL_HASH = createHash('sha256')
  .update(RUNTIME_POM)
  .update(DEBEZIUM_POM)
  .update(CONVERTER_POM)
  .update(CONVERTER_MANIFEST)
  .digest('hex')
  .slice(0, 16);
const INSTALL_STAMP = [
  `connect-runtime-${KAFKA_VERSION}`,
  `log4j-${LOG4J_VERSION}`,
  `debezium-${DEBEZIUM_VERSION}`,
  `apicurio-registry-utils-converter-${APICURIO_CONVERTER_VERSION}`,
  `everit-${EVERIT_JSON_SCHEMA_VERSION}`,
  `sha256:${INSTALL_HASH}`,
].join(' ');
const HEALTH_TIMEOUT_MS = 3000;

/**
 * A Kafka Connect worker in distributed mode (one worker), run from the
 * Maven Central jars of `org.apache.kafka:connect-runtime` as
 * `org.apache.kafka.connect.cli.ConnectDistributed`, with Debezium's
 * PostgreSQL and SQL Server connectors and Apicurio's Avro converter on its
 * plugin path, each in a folder (hence a class loader) of its own.
 *
 * The worker stores connector configs, offsets and statuses in Kafka (topics
 * `cdc_sync_connect_*`, replication factor 1), so registered connectors and
 * their positions survive restarts as long as Kafka's data does. Its default
 * key and value converters write Avro in Confluent's wire format to the
 * stack's registry ({@link apicurioAvroConverterConfig}); a connector may
 * override them. It needs `kafka` and `schema-registry`: in a stack with
 * them, it starts once both are healthy and stops before them.
 *
 * Environment: `CDC_SYNC_CONNECT_PORT` (REST API, default 8083),
 * `CDC_SYNC_KAFKA_PORT` (the broker, default 9092),
 * `CDC_SYNC_SCHEMA_REGISTRY_PORT` (default 8081). Healthy once the REST API
 * lists both Debezium connectors and the Avro converter.
 *
 * @see https://kafka.apache.org/documentation/#connect_running
 * @see https://debezium.io/documentation/reference/stable/configuration/avro.html
 */
export function createKafkaConnectService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_CONNECT_PORT', 8083, env);
  const kafkaPort = portFromEnv('CDC_SYNC_KAFKA_PORT', 9092, env);
  const registryPort = portFromEnv('CDC_SYNC_SCHEMA_REGISTRY_PORT', 8081, env);
  const endpoint = `http://127.0.0.1:${port}`;
  const registryUrl = `http://127.0.0.1:${registryPort}${CONFLUENT_COMPAT_PATH}`;

  return {
    name: 'kafka-connect',
    summary: `Kafka Connect ${KAFKA_VERSION} (distributed, Debezium ${DEBEZIUM_VERSION}, Apicurio Avro converter) on ${endpoint}`,
    ports: [port],
    endpoint,
    endpointEnv: 'CONNECT_URL',
    prerequisites: [
      // Debezium 3.x connectors and Kafka 4.x need Java 17.
      JAVA_17,
      MAVEN,
    ],
    // The worker keeps its configs, offsets and statuses in Kafka, and its converter registers every schema.
    needs: ['kafka', 'schema-registry'],
    startTimeoutSeconds: 120,

    async install(dirs: ServiceDirs, report: StackReporter): Promise<void> {
      const stampFile = join(dirs.cacheDir, 'installed.txt');
      if (existsSync(libDir(dirs)) && existsSync(pluginDir(dirs)) && (await readStamp(stampFile)) === INSTALL_STAMP) {
        return;
      }
      report(
        `Downloading Kafka Connect ${KAFKA_VERSION}, Debezium ${DEBEZIUM_VERSION} and Apicurio's converter ` +
          `${APICURIO_CONVERTER_VERSION} from Maven Central…`,
      );
      await rm(stampFile, { force: true });
      // Jars of an older version would otherwise stay on the classpath or plugin path next to the new ones.
      await rm(libDir(dirs), { recursive: true, force: true });
      await rm(pluginDir(dirs), { recursive: true, force: true });
      const logFile = join(dirs.cacheDir, 'install.log');
      const common = { workDir: dirs.cacheDir, logFile };

      await copyMavenDependencies({ ...common, pomName: 'runtime-pom.xml', pom: RUNTIME_POM, outputDir: libDir(dirs) });
      // Each archive holds one folder named after its connector, which becomes that plugin's folder.
      await unpackMavenArchives({
        ...common,
        pomName: 'debezium-pom.xml',
        pom: DEBEZIUM_POM,
        type: 'tar.gz',
        outputDir: pluginDir(dirs),
      });
      for (const plugin of [PLUGINS.postgres, PLUGINS.sqlserver]) {
        if (!existsSync(join(pluginDir(dirs), plugin))) {
          throw new Error(`Debezium's ${plugin} archive did not unpack into ${join(pluginDir(dirs), plugin)}`);
        }
      }
      await copyMavenDependencies({
        ...common,
        pomName: 'converter-pom.xml',
        pom: CONVERTER_POM,
        outputDir: join(pluginDir(dirs), PLUGINS.converter),
      });
      // What Kafka's `connect-plugin-path.sh sync-manifests` would add: Apicurio's 2.4 jars declare no plugins for
      // the ServiceLoader, and the worker runs with plugin.discovery=service_load (1 s instead of 9 s of scanning).
      await writeFile(
        join(pluginDir(dirs), PLUGINS.converter, 'cdc-sync-plugin-manifests.jar'),
        Buffer.from(zipSync({ [`META-INF/services/${CONVERTER_SERVICE}`]: strToU8(CONVERTER_MANIFEST) }, ZIP_OPTIONS)),
      );

      await writeFile(stampFile, INSTALL_STAMP);
      report(`Kafka Connect ${KAFKA_VERSION} with Debezium ${DEBEZIUM_VERSION} installed in ${dirs.cacheDir}`);
    },

    async prepare(dirs: ServiceDirs): Promise<void> {
      // Rewritten every time so that changed ports take effect on the next start.
      await mkdir(dirs.runDir, { recursive: true });
      await writeFile(
        workerPropertiesPath(dirs),
        renderWorkerProperties({ port, kafkaPort, registryUrl, pluginPath: pluginDir(dirs) }),
      );
      await writeFile(log4jConfigPath(dirs), LOG4J_CONFIG);
    },

    command(dirs: ServiceDirs): ServiceCommand {
      return {
        command: 'java',
        args: [
          '-Xms128m',
          '-Xmx512m',
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${log4jConfigPath(dirs)}`,
          '-cp',
          // Expanded by the JVM itself, so no shell is needed.
          join(libDir(dirs), '*'),
          'org.apache.kafka.connect.cli.ConnectDistributed',
          workerPropertiesPath(dirs),
        ],
        cwd: dirs.runDir,
      };
    },

    health: () => connectorPluginsHealth(endpoint),
  };
}

function libDir(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'lib');
}

function pluginDir(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'plugins');
}

function workerPropertiesPath(dirs: ServiceDirs): string {
  return join(dirs.runDir, 'connect-distributed.properties');
}

function log4jConfigPath(dirs: ServiceDirs): string {
  return join(dirs.runDir, 'log4j2.properties');
}

/** Healthy when `GET /connector-plugins` lists both Debezium connectors and the Avro converter; never throws. */
async function connectorPluginsHealth(endpoint: string): Promise<HealthResult> {
  const url = `${endpoint}/connector-plugins?connectorsOnly=false`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = await response.text();
    if (!response.ok) return { healthy: false, reason: `GET ${url} answered ${response.status}` };
    const plugins = JSON.parse(body) as unknown;
    const classes = Array.isArray(plugins)
      ? plugins.map((plugin: unknown) =>
          typeof plugin === 'object' && plugin !== null && 'class' in plugin ? String(plugin.class) : '',
        )
      : [];
    const missing = [DEBEZIUM_POSTGRES_CONNECTOR, DEBEZIUM_SQLSERVER_CONNECTOR, APICURIO_AVRO_CONVERTER].filter(
      (wanted) => !classes.includes(wanted),
    );
    return missing.length === 0
      ? { healthy: true }
      : { healthy: false, reason: `GET ${url} does not list ${missing.join(' and ')}` };
  } catch (error: unknown) {
    return { healthy: false, reason: `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function renderWorkerProperties(options: {
  port: number;
  kafkaPort: number;
  registryUrl: string;
  pluginPath: string;
}): string {
  const converters = {
    ...apicurioAvroConverterConfig('key.converter', options.registryUrl),
    ...apicurioAvroConverterConfig('value.converter', options.registryUrl),
  };
  return `# Generated by cdc-sync on every start; edits are overwritten.
bootstrap.servers=127.0.0.1:${options.kafkaPort}
group.id=${CONNECT_GROUP_ID}
listeners=http://127.0.0.1:${options.port}
rest.advertised.host.name=127.0.0.1
rest.advertised.port=${options.port}

config.storage.topic=${STORAGE_TOPICS.config}
offset.storage.topic=${STORAGE_TOPICS.offset}
status.storage.topic=${STORAGE_TOPICS.status}
# Single broker.
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=5
status.storage.partitions=1
offset.flush.interval.ms=1000

# A lone worker that restarts comes back as a new member; without this its old connectors and tasks would
# wait out the 5-minute default before being assigned again.
scheduled.rebalance.max.delay.ms=0

plugin.path=${options.pluginPath}
# Every plugin declares itself for the ServiceLoader (the install adds the declarations Apicurio's converter lacks),
# which spares the worker a reflective scan of every jar. A plugin added by hand needs them too; see
# https://kafka.apache.org/documentation/#connect_plugindiscovery
plugin.discovery=service_load

# Connectors that name no converter write Confluent-framed Avro to the stack's registry.
${Object.entries(converters)
  .map(([key, value]) => `${key}=${value}`)
  .join('\n')}
`;
}

// Connect logs every client config at INFO; those lines drown the ones that matter.
// Log4j's own shutdown hook would stop logging while Connect's hook is still stopping connectors.
const LOG4J_CONFIG = `status = warn
name = cdc-sync-kafka-connect
shutdownHook = disable

appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %X{connector.context}%m (%c)%n

rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT

logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.jetty.name = org.eclipse.jetty
logger.jetty.level = WARN
`;
