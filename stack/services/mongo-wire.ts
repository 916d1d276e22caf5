import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pingMongoAt } from '../../sinks/mongo/probe.js';
import { runToCompletion } from '../exec.js';
import { copyMavenDependencies, readStamp, renderDependencyPom } from '../maven.js';
import {
  portFromEnv,
  type HealthResult,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
} from '../service.js';
import { JAVA_17, JAVAC_17, MAVEN } from '../prerequisites.js';

/** The mongo-java-server release the stack runs (`de.bwaldvogel:mongo-java-server-h2-backend` on Maven Central). */
export const MONGO_JAVA_SERVER_VERSION = '1.47.0';
const SLF4J_VERSION = '2.0.17';
/** Our launcher around it (see the class comment there). */
const SOURCE_FILE = fileURLToPath(new URL('../mongo-wire/MongoWireServer.java', import.meta.url));
const MAIN_CLASS = 'cdcsync.stack.MongoWireServer';
const DATA_FILE = 'read-models.mv.db';
const POM = renderDependencyPom({
  artifactId: 'mongo-wire-runtime',
  version: MONGO_JAVA_SERVER_VERSION,
  purpose: "only used to fetch the MongoDB-wire server's runtime jars.",
  dependencies: [
    { groupId: 'de.bwaldvogel', artifactId: 'mongo-java-server-h2-backend', version: MONGO_JAVA_SERVER_VERSION },
    // The server logs through SLF4J; without a binding its errors would go nowhere.
    { groupId: 'org.slf4j', artifactId: 'slf4j-simple', version: SLF4J_VERSION },
  ],
});
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The local MongoDB-wire-protocol server: mongo-java-server with its H2
 * (MVStore) backend storing every database in one file under the data
 * directory, run by a small launcher (`stack/mongo-wire/MongoWireServer.java`)
 * that commits each write before acknowledging it, so acknowledged writes
 * survive a SIGKILL of the server, and that reports MongoDB 6.0 (wire
 * version 17) so current drivers accept it. Its single-document updates are
 * atomic, as MongoDB's are.
 *
 * Installing fetches the jars from Maven Central with Maven and compiles the
 * launcher with `javac`; both are cached until the launcher's source or a
 * version changes. Data survives restarts; `stack down` keeps it.
 *
 * Environment: `CDC_SYNC_MONGO_PORT`, the TCP port on 127.0.0.1 (default 27017).
 *
 * What the server supports of MongoDB is in README.md, "The local MongoDB-wire server".
 */
export function createMongoWireService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_MONGO_PORT', 27017, env);
  const endpoint = `mongodb://127.0.0.1:${port}/`;

  return {
    name: 'mongo-wire',
    summary: `MongoDB wire protocol (mongo-java-server ${MONGO_JAVA_SERVER_VERSION}, H2 file, durable writes) on ${endpoint}`,
    ports: [port],
    endpoint,
    endpointEnv: 'MONGODB_URI',
    prerequisites: [JAVA_17, JAVAC_17, MAVEN],
    needs: [],
    startTimeoutSeconds: 60,
    install: (dirs, report) => install(dirs, report),
    prepare: async (dirs) => {
      await mkdir(dirs.dataDir, { recursive: true });
    },
    command(dirs: ServiceDirs): ServiceCommand {
      return {
        command: 'java',
        args: [
          '-Xms32m',
          '-Xmx256m',
          '-XX:+UseSerialGC',
          '-Djava.awt.headless=true',
          '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
          '-cp',
          `${classesDir(dirs)}:${join(libDir(dirs), '*')}`,
          MAIN_CLASS,
          '127.0.0.1',
          String(port),
          join(dirs.dataDir, DATA_FILE),
        ],
      };
    },
    health: () => pingHealth(endpoint),
  };
}

function libDir(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'lib');
}

function classesDir(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'classes');
}

/** Fetches the jars and compiles the launcher, unless the stamp shows both match the current source and versions. */
async function install(dirs: ServiceDirs, report: StackReporter): Promise<void> {
  const stampFile = join(dirs.cacheDir, 'installed.txt');
  const source = await readFile(SOURCE_FILE);
  const wanted = `mongo-java-server-${MONGO_JAVA_SERVER_VERSION} slf4j-${SLF4J_VERSION} launcher-${createHash('sha256').update(source).digest('hex')}`;
  if ((await readStamp(stampFile)) === wanted && existsSync(classesDir(dirs))) return;

  report(
    `Installing mongo-java-server ${MONGO_JAVA_SERVER_VERSION} from Maven Central jars and compiling its launcher…`,
  );
  const started = Date.now();
  // Without a stamp, an interrupted install is never mistaken for a finished one.
  await rm(stampFile, { force: true });
  const logFile = join(dirs.cacheDir, 'install.log');
  await copyMavenDependencies({
    workDir: dirs.cacheDir,
    pomName: 'pom.xml',
    pom: POM,
    outputDir: libDir(dirs),
    logFile,
  });
  await rm(classesDir(dirs), { recursive: true, force: true });
  await runToCompletion(
    'javac',
    ['--release', '17', '-cp', join(libDir(dirs), '*'), '-d', classesDir(dirs), SOURCE_FILE],
    { logFile },
  );
  await writeFile(stampFile, wanted);
  report(`mongo-java-server installed in ${dirs.cacheDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Healthy when a MongoDB client connects and `ping` answers ok; never throws. */
async function pingHealth(endpoint: string): Promise<HealthResult> {
  try {
    await pingMongoAt(endpoint, HEALTH_TIMEOUT_MS);
    return { healthy: true };
  } catch (error: unknown) {
    return {
      healthy: false,
      reason: `ping ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
