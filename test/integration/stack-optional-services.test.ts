import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStackPaths } from '../../stack/paths.js';
import { isPortOpen } from '../../stack/probe.js';
import { createStack, OPTIONAL_SERVICE_NAMES, selectServices } from '../../stack/stack.js';
import { freePortBelowEphemeral } from './services.js';

// `cdc-sync stack up|status|down --with kafka-connect,postgres` as a user runs them, in a stack instance of its own:
// a temporary folder and free ports for every service, so the stack other tests and people use is never touched.
const stackDir = mkdtempSync(join(tmpdir(), 'cdc-sync-optional-'));
const PORT_VARIABLES = [
  'CDC_SYNC_KAFKA_PORT',
  'CDC_SYNC_KAFKA_CONTROLLER_PORT',
  'CDC_SYNC_SCHEMA_REGISTRY_PORT',
  'CDC_SYNC_MONGO_PORT',
  'CDC_SYNC_POSTGRES_PORT',
  'CDC_SYNC_CONNECT_PORT',
] as const;
type PortVariable = (typeof PORT_VARIABLES)[number];
const port: Partial<Record<PortVariable, number>> = {};
const env: NodeJS.ProcessEnv = { ...process.env, CDC_SYNC_STACK_DIR: stackDir };
/** Where PostgreSQL's cluster lives: in the stack folder, or behind its `pgdata` link when run as root. */
const clusterLink = join(stackDir, 'data', 'postgres', 'pgdata');

function p(variable: PortVariable): number {
  return port[variable]!;
}

function runCli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', ...args], {
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string): string[] => text.trimEnd().split('\n');

/** PIDs of every process whose command line or working directory is in this stack's folders. */
function processesOfThisStack(): number[] {
  const cluster = existsSync(clusterLink) && lstatSync(clusterLink).isSymbolicLink() ? readlinkSync(clusterLink) : '';
  const folders = [stackDir, ...(cluster === '' ? [] : [dirname(cluster)])];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        return folders.some((folder) => cmdline.includes(folder) || cwd.startsWith(folder));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function openPorts(): Promise<number[]> {
  const open: number[] = [];
  for (const variable of PORT_VARIABLES) if (await isPortOpen(p(variable))) open.push(p(variable));
  return open;
}

/** The first five columns of `stack status`: service, ports, PID, health, endpoint. */
function statusRows(stdout: string): string[][] {
  const [header, ...rows] = lines(stdout);
  expect(header).toMatch(/^SERVICE\s+PORTS\s+PID\s+HEALTH\s+ENDPOINT\s+LOG$/);
  return rows.map((row) => row.split(/\s{2,}/).slice(0, 5));
}

describe('the local stack with its optional services', () => {
  const pids: Record<string, string> = {};

  beforeAll(async () => {
    // Below the ephemeral range: Connect's port stays unbound while Kafka and the registry start, and the registry
    // also listens on a port of the kernel's choosing, which could otherwise be one chosen here.
    const taken = new Set<number>();
    for (const variable of PORT_VARIABLES) {
      const chosen = await freePortBelowEphemeral(taken);
      taken.add(chosen);
      port[variable] = chosen;
      env[variable] = String(chosen);
    }
  });

  afterAll(async () => {
    // Whatever a failed test left running in this stack folder, and nothing else.
    await createStack(selectServices({ with: OPTIONAL_SERVICE_NAMES, env }), resolveStackPaths(env)).down();
    // Run as root, the cluster lives in the postgres user's home; remove it along with the stack folder.
    if (existsSync(clusterLink) && lstatSync(clusterLink).isSymbolicLink()) {
      rmSync(dirname(readlinkSync(clusterLink)), { recursive: true, force: true });
    }
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('refuses an unknown --with name with exit 2, naming it and the valid names, and starts nothing', async () => {
    const result = runCli(['stack', 'up', '--with', 'kafka-connect,postgress']);
    expect(result).toEqual({
      status: 2,
      stdout: '',
      stderr:
        "error: option '--with <services>' argument 'kafka-connect,postgress' is invalid. " +
        'Unknown service "postgress"; the optional services are postgres, kafka-connect ' +
        '(kafka, schema-registry, mongo-wire always run)\n',
    });
    expect(existsSync(join(stackDir, 'pids'))).toBe(false);
    expect(await openPorts()).toEqual([]);
  });

  it('up --with kafka-connect starts Kafka and the registry first, then Connect, and no PostgreSQL', async () => {
    const result = runCli(['stack', 'up', '--with', 'kafka-connect']);
    expect(result.status, result.stderr).toBe(0);
    const log = lines(result.stderr);
    expect(log.at(-1)).toBe('Stack is up: 4 started, 0 already running');
    const at = (line: string): number => {
      const index = log.indexOf(line);
      expect(index, `${line} in\n${result.stderr}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const connectStarted = log.findIndex((line) => line.startsWith('[kafka-connect] started (pid '));
    expect(connectStarted).toBeGreaterThan(at(`[kafka] healthy at 127.0.0.1:${p('CDC_SYNC_KAFKA_PORT')}`));
    expect(connectStarted).toBeGreaterThan(
      at(`[schema-registry] healthy at http://127.0.0.1:${p('CDC_SYNC_SCHEMA_REGISTRY_PORT')}/apis/ccompat/v7`),
    );
    expect(at(`[kafka-connect] healthy at http://127.0.0.1:${p('CDC_SYNC_CONNECT_PORT')}`)).toBeGreaterThan(
      connectStarted,
    );
    expect(log.filter((line) => line.startsWith('[postgres]'))).toEqual([]);
    expect(await isPortOpen(p('CDC_SYNC_POSTGRES_PORT'))).toBe(false);
  }, 300_000);

  it('up --with kafka-connect,postgres starts PostgreSQL and leaves the running services as they are', async () => {
    const result = runCli(['stack', 'up', '--with', 'kafka-connect,postgres']);
    expect(result.status, result.stderr).toBe(0);
    const log = lines(result.stderr);
    expect(log.at(-1)).toBe('Stack is up: 1 started, 4 already running');
    expect(log.filter((line) => / already running /.test(line)).map((line) => line.split(' ')[0])).toEqual([
      '[kafka]',
      '[schema-registry]',
      '[mongo-wire]',
      '[kafka-connect]',
    ]);
    expect(log).toContain(
      `[postgres] healthy at postgresql://cdc:cdc@127.0.0.1:${p('CDC_SYNC_POSTGRES_PORT')}/erp_demo`,
    );
  }, 300_000);

  it('status --with kafka-connect,postgres lists all five healthy and exits 0; plain status lists them too', () => {
    const result = runCli(['stack', 'status', '--with', 'kafka-connect,postgres']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rows = statusRows(result.stdout);
    for (const [name, , pid] of rows) pids[name!] = pid!;
    expect(rows).toEqual([
      [
        'kafka',
        `${p('CDC_SYNC_KAFKA_PORT')},${p('CDC_SYNC_KAFKA_CONTROLLER_PORT')}`,
        pids['kafka'],
        'healthy',
        `KAFKA_BROKERS=127.0.0.1:${p('CDC_SYNC_KAFKA_PORT')}`,
      ],
      [
        'schema-registry',
        String(p('CDC_SYNC_SCHEMA_REGISTRY_PORT')),
        pids['schema-registry'],
        'healthy',
        `SCHEMA_REGISTRY_URL=http://127.0.0.1:${p('CDC_SYNC_SCHEMA_REGISTRY_PORT')}/apis/ccompat/v7`,
      ],
      [
        'mongo-wire',
        String(p('CDC_SYNC_MONGO_PORT')),
        pids['mongo-wire'],
        'healthy',
        `MONGODB_URI=mongodb://127.0.0.1:${p('CDC_SYNC_MONGO_PORT')}/`,
      ],
      [
        'postgres',
        String(p('CDC_SYNC_POSTGRES_PORT')),
        pids['postgres'],
        'healthy',
        `ERP_POSTGRES_URL=postgresql://cdc:cdc@127.0.0.1:${p('CDC_SYNC_POSTGRES_PORT')}/erp_demo`,
      ],
      [
        'kafka-connect',
        String(p('CDC_SYNC_CONNECT_PORT')),
        pids['kafka-connect'],
        'healthy',
        `CONNECT_URL=http://127.0.0.1:${p('CDC_SYNC_CONNECT_PORT')}`,
      ],
    ]);
    for (const pid of Object.values(pids)) expect(pid).toMatch(/^\d+$/);
    expect(processesOfThisStack()).toEqual(expect.arrayContaining(Object.values(pids).map(Number)));

    const plain = runCli(['stack', 'status']);
    expect(plain.status).toBe(0);
    expect(statusRows(plain.stdout)).toEqual(rows);
  });

  it('plain down stops every running service, Connect first, and frees every port', async () => {
    const result = runCli(['stack', 'down']);
    expect(result.status, result.stderr).toBe(0);
    const [first, ...rest] = lines(result.stderr);
    expect(first).toBe(`[kafka-connect] stopped (pid ${pids['kafka-connect']})`);
    expect(rest.slice(0, -1).sort()).toEqual(
      ['kafka', 'mongo-wire', 'postgres', 'schema-registry'].map((name) => `[${name}] stopped (pid ${pids[name]})`),
    );
    expect(rest.at(-1)).toBe('Stack is down');
    expect(processesOfThisStack()).toEqual([]);
    expect(await openPorts()).toEqual([]);
    expect(readdirSync(join(stackDir, 'pids'))).toEqual([]);
  }, 120_000);

  it('once down, status --with lists the optional services as not running and exits 1; down --with names them', () => {
    const status = runCli(['stack', 'status', '--with', 'kafka-connect,postgres']);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(1);
    expect(statusRows(status.stdout).map((row) => [row[0], row[2], row[3]])).toEqual(
      ['kafka', 'schema-registry', 'mongo-wire', 'postgres', 'kafka-connect'].map((name) => [
        name,
        '-',
        'down: not running',
      ]),
    );
    expect(statusRows(runCli(['stack', 'status']).stdout).map((row) => row[0])).toEqual([
      'kafka',
      'schema-registry',
      'mongo-wire',
    ]);

    const down = runCli(['stack', 'down', '--with', 'postgres', '--with', 'kafka-connect']);
    expect(down.status).toBe(0);
    const [first, ...rest] = lines(down.stderr);
    expect(first).toBe('[kafka-connect] not running');
    expect(rest.slice(0, -1).sort()).toEqual([
      '[kafka] not running',
      '[mongo-wire] not running',
      '[postgres] not running',
      '[schema-registry] not running',
    ]);
    expect(rest.at(-1)).toBe('Stack is down');
  });
});
