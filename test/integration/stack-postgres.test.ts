import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveStackPaths } from '../../stack/paths.js';
import { isPortOpen } from '../../stack/probe.js';
import { createStack } from '../../stack/stack.js';
import {
  POSTGRES_CREDENTIALS,
  POSTGRES_DATABASE,
  createPostgresService,
  runPsql,
  type PostgresConnection,
} from '../../stack/services/postgres.js';

// The postgres service in stack instances of its own (temporary folders, port 25432), so it never touches the
// PostgreSQL other tests use.
const PORT = 25432;
const runningAsRoot = process.getuid?.() === 0;
const connection: PostgresConnection = {
  host: '127.0.0.1',
  port: PORT,
  ...POSTGRES_CREDENTIALS,
  database: POSTGRES_DATABASE,
};
const stackDirs: string[] = [];

function newStack() {
  const stackDir = mkdtempSync(join(tmpdir(), 'cdc-sync-postgres-'));
  stackDirs.push(stackDir);
  const env = { ...process.env, CDC_SYNC_POSTGRES_PORT: String(PORT), CDC_SYNC_STACK_DIR: stackDir };
  const stack = createStack([createPostgresService(env)], resolveStackPaths(env));
  const clusterLink = join(stackDir, 'data', 'postgres', 'pgdata');
  return { stackDir, stack, clusterLink };
}

/** The postmaster's PID and those of its children, from the cluster's postmaster.pid and /proc. */
function serverProcesses(clusterDir: string): number[] {
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the local PostgreSQL service', () => {
  const first = newStack();

  afterAll(async () => {
    for (const stackDir of stackDirs) {
      const env = { ...process.env, CDC_SYNC_POSTGRES_PORT: String(PORT), CDC_SYNC_STACK_DIR: stackDir };
      await createStack([createPostgresService(env)], resolveStackPaths(env)).down();
      // Run as root, the cluster lives in the postgres user's home; remove it along with the stack folder.
      const link = join(stackDir, 'data', 'postgres', 'pgdata');
      if (existsSync(link) && lstatSync(link).isSymbolicLink())
        rmSync(dirname(readlinkSync(link)), { recursive: true });
      rmSync(stackDir, { recursive: true, force: true });
    }
  });

  it('starts a cluster ready for logical decoding, with the cdc login and the erp_demo database', async () => {
    expect(await isPortOpen(PORT)).toBe(false);
    expect(await first.stack.up()).toEqual([{ name: 'postgres', pid: expect.any(Number), alreadyRunning: false }]);
    const settings = await runPsql(
      connection,
      `SELECT name || '=' || setting FROM pg_settings
         WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders', 'listen_addresses',
                        'unix_socket_directories', 'port', 'server_encoding', 'TimeZone')
         ORDER BY name;
       SELECT current_database(), rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user;`,
    );
    // Sorted in the C collation: upper case first.
    expect(settings.trim().split('\n')).toEqual([
      'TimeZone=UTC',
      'listen_addresses=127.0.0.1',
      'max_replication_slots=10',
      'max_wal_senders=10',
      `port=${PORT}`,
      'server_encoding=UTF8',
      'unix_socket_directories=',
      'wal_level=logical',
      'erp_demo|t|t',
    ]);
    await expect(runPsql({ ...connection, password: 'wrong' }, 'SELECT 1;')).rejects.toThrow(
      'password authentication failed for user "cdc"',
    );
    if (runningAsRoot) {
      // PostgreSQL refuses root: the server runs as the postgres user, whose home holds the cluster.
      expect(lstatSync(first.clusterLink).isSymbolicLink()).toBe(true);
      expect(readlinkSync(first.clusterLink)).toMatch(/^\/.+\/cdc-sync\/[0-9a-f]{16}\/pgdata$/);
      expect(
        (await runPsql(connection, 'SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid();')).trim(),
      ).toBe('cdc');
    } else {
      expect(lstatSync(first.clusterLink).isDirectory()).toBe(true);
    }
  });

  it('stops every server process and frees the port, and keeps the data for the next start', async () => {
    await runPsql(connection, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (42);');
    const processes = serverProcesses(first.clusterLink);
    expect(processes.length).toBeGreaterThan(3);

    // An open session, as a Connect worker keeps one: a smart shutdown would wait for it until the runner's SIGKILL.
    const session = runPsql(connection, 'SELECT pg_sleep(60);', { timeoutMs: 90_000 }).then(
      () => 'finished',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    await expect
      .poll(async () =>
        (
          await runPsql(connection, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%';")
        ).trim(),
      )
      .toBe('1');
    const reports: string[] = [];
    await first.stack.down((line) => reports.push(line));
    // Stopped within the runner's grace, not killed: a smart shutdown would have waited for the session until the
    // runner's SIGKILL.
    expect(reports).toEqual([expect.stringMatching(/^\[postgres\] stopped \(pid \d+\)$/)]);
    expect(await session).toContain('terminating connection due to administrator command');
    expect(processes.filter(alive)).toEqual([]);
    expect(await isPortOpen(PORT)).toBe(false);
    expect(readdirSync(join(first.stackDir, 'pids'))).toEqual([]);

    await first.stack.up();
    expect((await runPsql(connection, 'SELECT id FROM kept;')).trim()).toBe('42');
  });

  it('starts afresh once the stack folder is gone, and removes clusters of stack folders that no longer exist', async () => {
    await first.stack.down();
    const oldCluster = runningAsRoot ? dirname(readlinkSync(first.clusterLink)) : undefined;
    rmSync(first.stackDir, { recursive: true, force: true });

    const second = newStack();
    await second.stack.up();
    await expect(runPsql(connection, 'SELECT id FROM kept;')).rejects.toThrow('relation "kept" does not exist');
    if (oldCluster !== undefined) expect(existsSync(oldCluster)).toBe(false);
    else expect(existsSync(first.clusterLink)).toBe(false);
  });
});
