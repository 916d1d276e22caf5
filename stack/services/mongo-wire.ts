import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { runToCompletion } from '../exec.js';
import {
  portFromEnv,
  type HealthResult,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
} from '../service.js';

/** Our Go main that embeds FerretDB v1 (see stack/ferretdb/main.go). */
const SOURCE_DIR = fileURLToPath(new URL('../ferretdb/', import.meta.url));
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'] as const;
const BINARY_NAME = 'ferretdb-embedded';
/** FerretDB v1.24 declares `go 1.24` in its go.mod. */
const MIN_GO = { major: 1, minor: 24 } as const;
// -mod=readonly keeps a build from silently rewriting go.mod/go.sum in the work tree;
// the PostgreSQL backend is compiled out because only SQLite is used, which also
// spares downloading pgx.
const BUILD_ARGS = [
  'build',
  '-mod=readonly',
  '-buildvcs=false',
  '-trimpath',
  '-tags',
  'ferretdb_no_postgresql',
] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The local MongoDB-wire-protocol server: FerretDB v1 with its SQLite backend,
 * embedded in a tiny Go program that `install` builds with the local Go toolchain
 * (modules come from the Go module proxy; no Docker, MongoDB or PostgreSQL needed).
 *
 * Environment:
 * - `CDC_SYNC_MONGO_PORT`: TCP port on 127.0.0.1 (default 27017).
 * - `CDC_SYNC_MONGO_LOG_LEVEL`: `debug`, `info` (default), `warn` or `error`.
 *
 * What the server supports of MongoDB is recorded in stack/ferretdb/COMPATIBILITY.md.
 */
export function createMongoWireService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_MONGO_PORT', 27017, env);
  const logLevel = logLevelFromEnv(env);
  const endpoint = `mongodb://127.0.0.1:${port}/`;

  return {
    name: 'mongo-wire',
    summary: `MongoDB wire protocol (FerretDB v1 embedded, SQLite storage) on ${endpoint}`,
    ports: [port],
    endpoint,
    endpointEnv: 'MONGODB_URI',
    prerequisites: [
      {
        command: 'go',
        versionArgs: ['version'],
        install:
          `Go ${MIN_GO.major}.${MIN_GO.minor} or newer (Debian 12's golang-go is 1.19, too old): unpack an official ` +
          'Go release into /usr/local/go and put /usr/local/go/bin on PATH',
      },
    ],
    startTimeoutSeconds: 30,
    install: (dirs, report) => installBinary(dirs, report),
    prepare: async (dirs) => {
      await mkdir(dirs.dataDir, { recursive: true });
    },
    command(dirs: ServiceDirs): ServiceCommand {
      return {
        command: binaryPath(dirs),
        args: ['-listen-addr', `127.0.0.1:${port}`, '-data-dir', dirs.dataDir, '-log-level', logLevel],
      };
    },
    health: () => pingHealth(endpoint),
  };
}

function binaryPath(dirs: ServiceDirs): string {
  return join(dirs.cacheDir, 'bin', BINARY_NAME);
}

function logLevelFromEnv(env: NodeJS.ProcessEnv): (typeof LOG_LEVELS)[number] {
  const raw = env.CDC_SYNC_MONGO_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (level === undefined) {
    throw new Error(
      `Invalid log level ${JSON.stringify(raw)} in environment variable CDC_SYNC_MONGO_LOG_LEVEL; ` +
        `expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return level;
}

/** Builds the binary unless the marker shows it was built from exactly the current sources and flags. */
async function installBinary(dirs: ServiceDirs, report: StackReporter): Promise<void> {
  const binary = binaryPath(dirs);
  const marker = `${binary}.source-sha256`;
  const wanted = await sourceHash();
  if ((await readOptional(marker)) === wanted && (await exists(binary))) return;

  await checkGoVersion();
  await mkdir(join(dirs.cacheDir, 'bin'), { recursive: true });
  // Without a marker, an interrupted build is never mistaken for an up-to-date one.
  await rm(marker, { force: true });
  const logFile = join(dirs.cacheDir, 'build.log');
  report(`Building FerretDB (embedded, SQLite) from ${SOURCE_DIR} with go build; log: ${logFile}`);
  report('A first build downloads Go modules and compiles SQLite (a minute or more); rebuilds take seconds');
  const started = Date.now();
  const partial = `${binary}.partial`;
  await runToCompletion('go', [...BUILD_ARGS, '-o', partial, '.'], {
    cwd: SOURCE_DIR,
    logFile,
    env: {
      // A go.work further up, or GOFLAGS such as -mod=mod, must not change what gets built.
      GOWORK: 'off',
      GOFLAGS: '-mod=readonly',
      // modernc.org/sqlite is pure Go, so no C toolchain is needed.
      CGO_ENABLED: '0',
    },
  });
  await rename(partial, binary);
  await writeFile(marker, `${wanted}\n`);
  report(`Built ${binary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Hash of everything that decides the binary: our sources and the build flags. */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(BUILD_ARGS.join(' '));
  for (const file of SOURCE_FILES) {
    const content = await readFile(join(SOURCE_DIR, file));
    hash.update(`\0${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/**
 * Fails early with a clear message instead of a go.mod version error from deep inside the build.
 * Asked inside the module, so that Go 1.21+ first switches to the toolchain go.mod names (GOTOOLCHAIN=auto).
 */
async function checkGoVersion(): Promise<void> {
  const output = (
    await runToCompletion('go', ['env', 'GOVERSION'], { cwd: SOURCE_DIR, env: { GOWORK: 'off' } })
  ).trim();
  const match = /^go(\d+)\.(\d+)/.exec(output);
  if (match === null) return; // a development toolchain ("devel ..."); let go build decide
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major < MIN_GO.major || (major === MIN_GO.major && minor < MIN_GO.minor)) {
    throw new Error(`FerretDB needs Go ${MIN_GO.major}.${MIN_GO.minor} or newer, but go is ${output}`);
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Healthy when a MongoDB client connects and `ping` answers ok; never throws. */
async function pingHealth(endpoint: string): Promise<HealthResult> {
  const client = new MongoClient(endpoint, {
    directConnection: true,
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    socketTimeoutMS: 3000,
  });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1 ? { healthy: true } : { healthy: false, reason: `ping answered ${JSON.stringify(reply)}` };
  } catch (error: unknown) {
    return {
      healthy: false,
      reason: `ping ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}
