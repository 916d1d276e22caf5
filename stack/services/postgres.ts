import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runToCompletion } from '../exec.js';
import { isAlive } from '../process.js';
import {
  type HealthResult,
  type Prerequisite,
  type ServiceCommand,
  type ServiceDirs,
  type StackReporter,
  type StackService,
  portFromEnv,
} from '../service.js';

/**
 * The login the local PostgreSQL creates: a superuser (hence also allowed to
 * replicate), authenticated by password (SCRAM-SHA-256) over TCP from
 * 127.0.0.1 only. Local-only development credentials, never a secret.
 */
export const POSTGRES_CREDENTIALS = { user: 'cdc', password: 'cdc' } as const;

/** The database every start guarantees, the PostgreSQL stand-in for the ERP (see devtools/sql/postgres). */
export const POSTGRES_DATABASE = 'erp_demo';

/** Where Debian's `postgresql-<major>` packages put their server binaries. */
const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';
/** The OS account the server runs as when the stack runs as root (PostgreSQL refuses root); Debian's package creates it. */
const ROOT_RUN_AS = 'postgres';
const INSTALL_HINT = 'apt-get install -y postgresql';
const HEALTH_TIMEOUT_MS = 4000;

/** How to reach one database of a PostgreSQL server. */
export type PostgresConnection = {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
};

/**
 * A local PostgreSQL server from Debian's packages, the stand-in ERP database
 * for Debezium's PostgreSQL connector: logical decoding on
 * (`wal_level=logical`, 10 replication slots and WAL senders), TCP on
 * 127.0.0.1 only (no Unix socket), password login for
 * {@link POSTGRES_CREDENTIALS} (superuser with REPLICATION) from 127.0.0.1,
 * and the database {@link POSTGRES_DATABASE}.
 *
 * Install needs nothing beyond the `postgresql` package (the newest major
 * under /usr/lib/postgresql is used). `prepare` runs `initdb` once and
 * creates the database in single-user mode; the configuration files are
 * rewritten on every start so that a changed port takes effect.
 *
 * PostgreSQL refuses to run as root. Run as any other user, the cluster is
 * `<dataDir>/pgdata`. Run as root, the server runs as the OS user `postgres`,
 * which cannot enter root's home (mode 0700), so the cluster lives in that
 * user's home, `/var/lib/postgresql/cdc-sync/<hash of dataDir>/pgdata`, with
 * a symlink `<dataDir>/pgdata` to it; deleting the stack folder therefore
 * still means a fresh cluster on the next start, and clusters of stack
 * folders that no longer exist are removed.
 *
 * The foreground command is a small `sh` wrapper around `postgres -D …` (not
 * `pg_ctl`): the runner's SIGTERM to the process group reaches the postmaster
 * (smart shutdown) and the wrapper, which follows up with SIGINT, a fast
 * shutdown (`pg_ctl stop`'s default), so that an open session such as a
 * Connect worker's cannot hold the stop until the runner's SIGKILL. The
 * postmaster's children put themselves in process groups of their own and
 * exit before it does.
 *
 * The port comes from `CDC_SYNC_POSTGRES_PORT` (default 5432); the endpoint,
 * `ERP_POSTGRES_URL`, is `postgresql://cdc:cdc@127.0.0.1:<port>/erp_demo`.
 *
 * @see https://www.postgresql.org/docs/15/server-shutdown.html
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#setting-up-postgresql
 */
export function createPostgresService(env: NodeJS.ProcessEnv = process.env): StackService {
  const port = portFromEnv('CDC_SYNC_POSTGRES_PORT', 5432, env);
  const connection: PostgresConnection = {
    host: '127.0.0.1',
    port,
    ...POSTGRES_CREDENTIALS,
    database: POSTGRES_DATABASE,
  };
  const endpoint = postgresUrl(connection);
  const server = findServerBinaries();
  const runAs = process.getuid?.() === 0 ? ROOT_RUN_AS : undefined;

  const prerequisites: Prerequisite[] = [
    {
      // The binary found; otherwise the place it is looked for, which does not run, so every check reports it missing
      // (a `postgres` elsewhere on PATH is not one the service would use).
      command: join(server?.binDir ?? join(DEBIAN_POSTGRES_ROOT, '<version>', 'bin'), 'postgres'),
      versionArgs: ['--version'],
      install: INSTALL_HINT,
    },
  ];
  if (runAs !== undefined) {
    prerequisites.push({ command: 'setpriv', versionArgs: ['--version'], install: 'apt-get install -y util-linux' });
  }

  return {
    name: 'postgres',
    summary: `PostgreSQL ${server?.major ?? '(not installed)'} (wal_level=logical, user ${connection.user}) on 127.0.0.1:${port}`,
    ports: [port],
    endpoint,
    endpointEnv: 'ERP_POSTGRES_URL',
    prerequisites,
    needs: [],
    startTimeoutSeconds: 60,

    async install(): Promise<void> {
      // Nothing to download: the binaries come from the Debian package. Fail here, with the hint, if they are gone.
      requireServer(server);
      if (runAs !== undefined) lookUpUser(runAs);
    },

    async prepare(dirs: ServiceDirs, report: StackReporter): Promise<void> {
      const cluster = clusterLocation(dirs, runAs);
      if (cluster.owner !== undefined) await adoptExternalCluster(dirs, cluster, cluster.owner);
      if (!existsSync(cluster.dataDir)) {
        await initCluster(requireServer(server), cluster, join(dirs.runDir, 'initdb.log'), report);
      }
      serverFor(cluster, server, dirs);
      await writeOwned(join(cluster.dataDir, 'postgresql.conf'), renderPostgresqlConf(port), cluster.owner);
      await writeOwned(join(cluster.dataDir, 'pg_hba.conf'), PG_HBA_CONF, cluster.owner);
    },

    command(dirs: ServiceDirs): ServiceCommand {
      const cluster = clusterLocation(dirs, runAs);
      const binaries = serverFor(cluster, server, dirs);
      const postgres = [
        join(binaries.binDir, 'postgres'),
        '-D',
        cluster.dataDir,
        // Also in postgresql.conf; repeated so that a missing or edited file can never expose another address.
        '-c',
        'listen_addresses=127.0.0.1',
        '-p',
        String(port),
      ];
      return {
        command: 'sh',
        args: ['-c', SHUTDOWN_WRAPPER, 'cdc-sync-postgres', ...asUser(cluster.owner, postgres)],
        // A folder the server's user may enter; PostgreSQL changes into its data directory anyway.
        cwd: cluster.baseDir,
        env: userEnv(cluster.owner),
      };
    },

    health: () => sqlHealth(connection, server),
  };
}

/** `postgresql://user:password@host:port/database` */
export function postgresUrl(connection: PostgresConnection): string {
  const user = encodeURIComponent(connection.user);
  const password = encodeURIComponent(connection.password);
  return `postgresql://${user}:${password}@${connection.host}:${connection.port}/${encodeURIComponent(connection.database)}`;
}

/**
 * Runs SQL through `psql` (statements separated by semicolons; psql
 * meta-commands allowed) and resolves with its unaligned, tuples-only output:
 * one line per row, columns separated by `|`. Stops at the first error and
 * rejects with psql's message; times out after `timeoutMs`.
 */
export function runPsql(
  connection: PostgresConnection,
  sql: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<string> {
  const psql = psqlPath(findServerBinaries());
  return new Promise((resolve, reject) => {
    const child = spawn(
      psql,
      [
        '-X',
        '-q',
        '-A',
        '-t',
        '-w',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        connection.host,
        '-p',
        String(connection.port),
        '-U',
        connection.user,
        '-d',
        connection.database,
        '-f',
        '-',
      ],
      {
        env: { ...process.env, PGPASSWORD: connection.password, PGCONNECT_TIMEOUT: '3', PGAPPNAME: 'cdc-sync' },
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 30_000,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new Error(`Cannot run ${psql}: ${error.message}`, { cause: error })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else {
        const status = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`psql on ${connection.host}:${connection.port} failed (${status}): ${stderr.trim()}`));
      }
    });
    // psql may exit (e.g. connection refused) before reading its input; the close handler reports that failure.
    child.stdin.on('error', () => {});
    child.stdin.end(sql);
  });
}

/**
 * Turns the runner's SIGTERM into a fast shutdown: the postmaster, in the same
 * process group, gets the SIGTERM itself (smart shutdown), and the SIGINT that
 * follows upgrades it to fast. Waits until the server has really exited and
 * exits with its status.
 */
const SHUTDOWN_WRAPPER = `"$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
status=0
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done
exit "$status"`;

type ServerBinaries = { readonly major: string; readonly binDir: string };

/** The newest PostgreSQL under /usr/lib/postgresql that has a server binary. */
function findServerBinaries(): ServerBinaries | undefined {
  let majors: string[];
  try {
    majors = readdirSync(DEBIAN_POSTGRES_ROOT).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const major = majors
    .filter((entry) => existsSync(join(DEBIAN_POSTGRES_ROOT, entry, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return major === undefined ? undefined : { major, binDir: join(DEBIAN_POSTGRES_ROOT, major, 'bin') };
}

function requireServer(server: ServerBinaries | undefined): ServerBinaries {
  if (server === undefined) {
    throw new Error(
      `Service postgres needs the PostgreSQL server, but no ${DEBIAN_POSTGRES_ROOT}/<version>/bin/postgres exists; install it with: ${INSTALL_HINT}`,
    );
  }
  return server;
}

/**
 * The binaries of the cluster's own major version (a data directory only runs on the major that made it), or the
 * newest installed for a cluster not made yet. Throws when the cluster's major is no longer installed.
 */
function serverFor(cluster: ClusterLocation, newest: ServerBinaries | undefined, dirs: ServiceDirs): ServerBinaries {
  let major: string;
  try {
    major = readFileSync(join(cluster.dataDir, 'PG_VERSION'), 'utf8').trim();
  } catch {
    return requireServer(newest);
  }
  const binDir = join(DEBIAN_POSTGRES_ROOT, major, 'bin');
  if (existsSync(join(binDir, 'postgres'))) return { major, binDir };
  throw new Error(
    `The PostgreSQL cluster in ${cluster.dataDir} was made by PostgreSQL ${major}, which is not installed; ` +
      `install it (apt-get install -y postgresql-${major}) or delete ${dirs.dataDir} to start afresh`,
  );
}

function psqlPath(server: ServerBinaries | undefined): string {
  const bundled = server === undefined ? undefined : join(server.binDir, 'psql');
  return bundled !== undefined && existsSync(bundled) ? bundled : 'psql';
}

/** An OS account from /etc/passwd. */
type OsUser = { readonly name: string; readonly uid: number; readonly gid: number; readonly home: string };

function lookUpUser(name: string): OsUser {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (fields === undefined || fields.length < 7) {
    throw new Error(
      `Service postgres runs the server as the OS user ${name} when the stack runs as root (PostgreSQL refuses root), ` +
        `but there is no such user; ${INSTALL_HINT} creates it`,
    );
  }
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
}

/** Where the cluster lives, and as whom the server runs (undefined: as the current user). */
type ClusterLocation = {
  /** The PostgreSQL data directory (`-D`). */
  readonly dataDir: string;
  /** The folder holding it, writable by the server's user. */
  readonly baseDir: string;
  readonly owner: OsUser | undefined;
};

function clusterLocation(dirs: ServiceDirs, runAs: string | undefined): ClusterLocation {
  if (runAs === undefined) return { dataDir: join(dirs.dataDir, 'pgdata'), baseDir: dirs.dataDir, owner: undefined };
  const owner = lookUpUser(runAs);
  const key = createHash('sha256').update(dirs.dataDir).digest('hex').slice(0, 16);
  const baseDir = join(externalRoot(owner), key);
  return { dataDir: join(baseDir, 'pgdata'), baseDir, owner };
}

function externalRoot(owner: OsUser): string {
  return join(owner.home, 'cdc-sync');
}

/**
 * Ties a cluster in the server user's home to the stack folder: a missing
 * `<dataDir>/pgdata` link means the stack folder was emptied, so the old
 * cluster goes too; clusters whose stack folder no longer exists are removed.
 */
async function adoptExternalCluster(dirs: ServiceDirs, cluster: ClusterLocation, owner: OsUser): Promise<void> {
  const link = join(dirs.dataDir, 'pgdata');
  const linked = await readlink(link).catch(() => undefined);
  if (linked !== cluster.dataDir) {
    if (existsSync(link) && !isSymlink(link)) {
      throw new Error(
        `${link} is a cluster made by a non-root run of the stack; as root the server runs as ${owner.name}, ` +
          `which cannot use it: delete it, or run the stack as that non-root user again`,
      );
    }
    await rm(link, { force: true });
    await rm(cluster.baseDir, { recursive: true, force: true });
    await symlink(cluster.dataDir, link);
  }
  const root = externalRoot(owner);
  await mkdir(cluster.baseDir, { recursive: true });
  await chown(root, owner.uid, owner.gid);
  await chown(cluster.baseDir, owner.uid, owner.gid);
  await writeOwned(join(cluster.baseDir, 'stack-data-dir'), `${dirs.dataDir}\n`, owner);
  for (const entry of readdirSync(root)) {
    const other = join(root, entry);
    if (other === cluster.baseDir) continue;
    const stackDataDir = (await readFile(join(other, 'stack-data-dir'), 'utf8').catch(() => '')).trim();
    if (stackDataDir === '' || existsSync(join(stackDataDir, 'pgdata')) || postmasterAlive(join(other, 'pgdata'))) {
      continue;
    }
    await rm(other, { recursive: true, force: true });
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function postmasterAlive(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid);
  } catch {
    return false;
  }
}

/**
 * `initdb` into a scratch folder, the database created in single-user mode,
 * then renamed into place: an interrupted first start leaves no half-made
 * cluster behind.
 */
async function initCluster(
  binaries: ServerBinaries,
  cluster: ClusterLocation,
  logFile: string,
  report: StackReporter,
): Promise<void> {
  report(`Creating a PostgreSQL ${binaries.major} cluster in ${cluster.dataDir}…`);
  const scratch = `${cluster.dataDir}.init`;
  const passwordFile = join(cluster.baseDir, 'initdb-password');
  await mkdir(cluster.baseDir, { recursive: true });
  await rm(scratch, { recursive: true, force: true });
  await writeOwned(passwordFile, `${POSTGRES_CREDENTIALS.password}\n`, cluster.owner, 0o600);
  const options = { cwd: cluster.baseDir, logFile, env: userEnv(cluster.owner) };
  const initdb = asUser(cluster.owner, [
    join(binaries.binDir, 'initdb'),
    '-D',
    scratch,
    '-U',
    POSTGRES_CREDENTIALS.user,
    `--pwfile=${passwordFile}`,
    '--auth-host=scram-sha-256',
    '--auth-local=peer',
    '--encoding=UTF8',
    '--locale=C',
    '--no-instructions',
  ]);
  try {
    await runToCompletion(initdb[0]!, initdb.slice(1), options);
  } finally {
    await rm(passwordFile, { force: true });
  }
  // A single-user backend reads commands from stdin, one per line; the standalone session is the bootstrap superuser.
  const createDatabase = asUser(cluster.owner, [
    'sh',
    '-c',
    `printf '%s\\n' "CREATE DATABASE ${POSTGRES_DATABASE} ENCODING 'UTF8' TEMPLATE template0;" | "$0" --single -c exit_on_error=on -D "$1" template1`,
    join(binaries.binDir, 'postgres'),
    scratch,
  ]);
  await runToCompletion(createDatabase[0]!, createDatabase.slice(1), options);
  await rename(scratch, cluster.dataDir);
}

/** The command line, run as `owner` through `setpriv` when there is one. */
function asUser(owner: OsUser | undefined, argv: readonly string[]): string[] {
  if (owner === undefined) return [...argv];
  return ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', '--', ...argv];
}

/** The server user's home, so that nothing it runs looks into root's. */
function userEnv(owner: OsUser | undefined): Record<string, string> {
  return owner === undefined ? {} : { HOME: owner.home };
}

async function writeOwned(file: string, content: string, owner: OsUser | undefined, mode = 0o644): Promise<void> {
  await writeFile(file, content, { mode });
  if (owner !== undefined) await chown(file, owner.uid, owner.gid);
}

/** Healthy when psql logs in as the cdc user and `SELECT 1` answers from the erp_demo database; never throws. */
async function sqlHealth(connection: PostgresConnection, server: ServerBinaries | undefined): Promise<HealthResult> {
  if (server === undefined) return { healthy: false, reason: 'PostgreSQL is not installed' };
  try {
    const output = await runPsql(connection, 'SELECT 1;', { timeoutMs: HEALTH_TIMEOUT_MS });
    return output.trim() === '1'
      ? { healthy: true }
      : { healthy: false, reason: `SELECT 1 answered ${JSON.stringify(output.trim())}` };
  } catch (error: unknown) {
    return { healthy: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function renderPostgresqlConf(port: number): string {
  return `# Generated by cdc-sync on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = ${port}
# TCP only: no socket in /var/run/postgresql to collide with a system cluster.
unix_socket_directories = ''
max_connections = 100
shared_buffers = 128MB
dynamic_shared_memory_type = posix
password_encryption = scram-sha-256

# Logical decoding for Debezium's PostgreSQL connector (pgoutput).
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
# A slot left behind by a stopped connector or a failed test run must not fill the disk with WAL.
max_slot_wal_keep_size = 1GB
max_wal_size = 1GB
min_wal_size = 80MB

# Output goes to stderr, which the stack runner writes to the service log.
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
datestyle = 'iso, mdy'
lc_messages = 'C'
lc_monetary = 'C'
lc_numeric = 'C'
lc_time = 'C'
default_text_search_config = 'pg_catalog.english'
`;
}

const PG_HBA_CONF = `# Generated by cdc-sync on every start; edits are overwritten.
# TYPE  DATABASE     USER  ADDRESS       METHOD
host    all          all   127.0.0.1/32  scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
`;
