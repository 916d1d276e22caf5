import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runToCompletion } from '../exec.js';
import { copyMavenDependencies, readStamp, renderDependencyPom } from '../maven.js';
import { isPortOpen } from '../probe.js';
import {
  type HealthResult,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
  portFromEnv,
} from '../service.js';
import { JAVA_17, MAVEN } from '../prerequisites.js';
import { countBrokersAt } from '../../connectors/kafka/probe.js';
import { randomClusterId } from './kafka-cluster-id.js';

/** The Apache Kafka release the stack runs, fetched from Maven Central as `org.apache.kafka:kafka_2.13`. */
export const KAFKA_VERSION = '4.4.0';

// Must match the log4j-core that kafka-server pulls in; the SLF4J 1.x binding is not in Kafka's POMs.
export const LOG4J_VERSION = '2.25.5';
// Kafka's POMs bring only slf4j-api 1.x, so the broker needs the log4j2 SLF4J 1.x binding the release tarball ships.
const KAFKA_POM = renderDependencyPom({
  artifactId: 'kafka-runtime',
  version: KAFKA_VERSION,
  purpose: "only used to fetch the Kafka broker's runtime jars.",
  dependencies: [
    { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J_VERSION },
  ],
});
const INSTALL_STAMP = `kafka_2.13-${KAFKA_VERSION} log4j-${LOG4J_VERSION}`;
const HEALTH_TIMEOUT_MS = 4000;

/**
 * A single-node Apache Kafka broker in KRaft mode (one JVM acting as broker
 * and controller), run from the Maven Central jars rather than a release
 * tarball or a container.
 *
 * Ports come from `CDC_SYNC_KAFKA_PORT` (client listener, default 9092) and
 * `CDC_SYNC_KAFKA_CONTROLLER_PORT` (KRaft controller listener, default 9093).
 */
export function createKafkaService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_KAFKA_PORT', 9092, env);
  const controllerPort = portFromEnv('CDC_SYNC_KAFKA_CONTROLLER_PORT', 9093, env);
  const endpoint = `127.0.0.1:${port}`;

  return {
    name: 'kafka',
    summary: `Apache Kafka ${KAFKA_VERSION} (KRaft, single node) on ${endpoint}`,
    ports: [port, controllerPort],
    endpoint,
    endpointEnv: 'KAFKA_BROKERS',
    prerequisites: [JAVA_17, MAVEN],
    needs: [],
    startTimeoutSeconds: 90,

    async install(dirs: ServiceDirs, report: StackReporter): Promise<void> {
      const stampFile = join(dirs.cacheDir, 'installed.txt');
      const libDir = join(dirs.cacheDir, 'lib');
      if (existsSync(libDir) && (await readStamp(stampFile)) === INSTALL_STAMP) return;

      report(`Downloading Kafka ${KAFKA_VERSION} jars from Maven Central…`);
      await rm(stampFile, { force: true });
      await copyMavenDependencies({
        workDir: dirs.cacheDir,
        pomName: 'pom.xml',
        pom: KAFKA_POM,
        outputDir: libDir,
        logFile: join(dirs.cacheDir, 'install.log'),
      });
      await writeFile(stampFile, INSTALL_STAMP);
      report(`Kafka ${KAFKA_VERSION} installed in ${dirs.cacheDir}`);
    },

    async prepare(dirs: ServiceDirs, report: StackReporter): Promise<void> {
      // Rewritten every time so that changed ports take effect on the next start.
      await writeFile(
        serverPropertiesPath(dirs),
        renderServerProperties({ port, controllerPort, dataDir: dirs.dataDir }),
      );
      await writeFile(log4jConfigPath(dirs), LOG4J_CONFIG);
      if (existsSync(join(dirs.dataDir, 'meta.properties'))) return;

      report('Formatting Kafka storage…');
      // Made as Kafka's Uuid.randomUuid() makes one: never starting with '-', which the tool would take for an option.
      const clusterId = randomClusterId();
      await runToCompletion(
        'java',
        [
          ...jvmArgs(dirs, ['-Xmx256m']),
          'kafka.tools.StorageTool',
          'format',
          '--cluster-id',
          clusterId,
          '--config',
          serverPropertiesPath(dirs),
          '--ignore-formatted',
        ],
        { cwd: dirs.runDir, logFile: join(dirs.runDir, 'format.log') },
      );
    },

    command(dirs: ServiceDirs): ServiceCommand {
      return {
        command: 'java',
        args: [...jvmArgs(dirs, ['-Xms256m', '-Xmx512m']), 'kafka.Kafka', serverPropertiesPath(dirs)],
        cwd: dirs.runDir,
      };
    },

    async health(): Promise<HealthResult> {
      if (!(await isPortOpen(port))) return { healthy: false, reason: `nothing listens on ${endpoint}` };
      return describeClusterHealth(endpoint);
    },
  };
}

function serverPropertiesPath(dirs: ServiceDirs): string {
  return join(dirs.runDir, 'server.properties');
}

function log4jConfigPath(dirs: ServiceDirs): string {
  return join(dirs.runDir, 'log4j2.properties');
}

function jvmArgs(dirs: ServiceDirs, heap: readonly string[]): string[] {
  return [
    ...heap,
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jConfigPath(dirs)}`,
    '-cp',
    // Expanded by the JVM itself, so no shell is needed.
    join(dirs.cacheDir, 'lib', '*'),
  ];
}

/** Healthy when an admin client connects and the cluster reports at least one broker. */
async function describeClusterHealth(endpoint: string): Promise<HealthResult> {
  try {
    return (await countBrokersAt(endpoint, HEALTH_TIMEOUT_MS)) > 0
      ? { healthy: true }
      : { healthy: false, reason: `${endpoint} reports no brokers yet` };
  } catch (error: unknown) {
    return {
      healthy: false,
      reason: `Kafka admin on ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function renderServerProperties(options: { port: number; controllerPort: number; dataDir: string }): string {
  const { port, controllerPort, dataDir } = options;
  return `# Generated by cdc-sync on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
# A static voter set, so that changing the controller port later needs no re-format.
controller.quorum.voters=1@127.0.0.1:${controllerPort}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}

# Single node: every internal topic must get by with one replica, or
# consumer groups and transactions never become available.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
log.retention.hours=168
`;
}

// Kafka logs every config and every thread start and stop at INFO; those lines drown the ones that matter.
// Log4j's own shutdown hook would stop logging while Kafka's hook is still shutting down.
const LOG4J_CONFIG = `status = warn
name = cdc-sync-kafka
shutdownHook = disable

appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n

rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT

logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.config.name = org.apache.kafka.common.config
logger.config.level = WARN
logger.quota.name = org.apache.kafka.server.quota
logger.quota.level = WARN
logger.purgatory.name = org.apache.kafka.server.purgatory
logger.purgatory.level = WARN
logger.timer.name = org.apache.kafka.server.util.timer
logger.timer.level = WARN
logger.queue.name = org.apache.kafka.queue
logger.queue.level = WARN
logger.eventprocessor.name = org.apache.kafka.coordinator.common.runtime.MultiThreadedEventProcessor
logger.eventprocessor.level = WARN
`;
