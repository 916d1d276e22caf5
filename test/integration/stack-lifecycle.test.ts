import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveStackPaths } from '../../stack/paths.js';
import { isPortOpen } from '../../stack/probe.js';
import { createStack, defaultServices, type UpResult } from '../../stack/stack.js';

// A second stack instance on its own ports and folders, so it never touches the stack the other tests use.
const stackDir = mkdtempSync(join(tmpdir(), 'cdc-sync-lifecycle-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CDC_SYNC_KAFKA_PORT: '29092',
  CDC_SYNC_KAFKA_CONTROLLER_PORT: '29093',
  CDC_SYNC_SCHEMA_REGISTRY_PORT: '28081',
  CDC_SYNC_MONGO_PORT: '28017',
  CDC_SYNC_STACK_DIR: stackDir,
};
const ports = [29092, 29093, 28081, 28017];
const stack = createStack(defaultServices(env), resolveStackPaths(env));

/** PIDs of every process whose command line or working directory is in this stack's folder. */
function processesOfThisStack(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stackDir) ||
          readlinkSync(`/proc/${pid}/cwd`).startsWith(stackDir)
        );
      } catch {
        return false;
      }
    })
    .map(Number)
    .sort((a, b) => a - b);
}

function runCli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', ...args], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the local stack lifecycle', () => {
  let first: readonly UpResult[] = [];

  afterAll(async () => {
    await stack.down();
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('starts every service from nothing', async () => {
    for (const port of ports) expect(await isPortOpen(port), `port ${port} free before start`).toBe(false);
    first = await stack.up();
    expect(first.map((r) => [r.name, r.alreadyRunning])).toEqual([
      ['kafka', false],
      ['schema-registry', false],
      ['mongo-wire', false],
    ]);
    expect(processesOfThisStack()).toEqual(first.map((r) => r.pid).sort((a, b) => a - b));
  });

  it('is harmless when run again: no second process', async () => {
    const second = await stack.up();
    expect(second).toEqual(first.map((r) => ({ ...r, alreadyRunning: true })));
    expect(processesOfThisStack()).toEqual(first.map((r) => r.pid).sort((a, b) => a - b));
  });

  it('reports every service healthy with its port, PID and log through the CLI', async () => {
    const result = runCli(['stack', 'status']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rows = result.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^SERVICE\s+PORTS\s+PID\s+HEALTH\s+ENDPOINT\s+LOG$/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(0, 5))).toEqual([
      ['kafka', '29092,29093', String(first[0]!.pid), 'healthy', 'KAFKA_BROKERS=127.0.0.1:29092'],
      [
        'schema-registry',
        '28081',
        String(first[1]!.pid),
        'healthy',
        'SCHEMA_REGISTRY_URL=http://127.0.0.1:28081/apis/ccompat/v7',
      ],
      ['mongo-wire', '28017', String(first[2]!.pid), 'healthy', 'MONGODB_URI=mongodb://127.0.0.1:28017/'],
    ]);
    for (const row of rows.slice(1)) expect(existsSync(row.split(/\s+/)[5]!)).toBe(true);
  });

  it('stops everything: no process left, ports free, PID files gone', async () => {
    const result = runCli(['stack', 'down']);
    expect(result.status).toBe(0);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('Stack is down');
    expect(processesOfThisStack()).toEqual([]);
    for (const port of ports) expect(await isPortOpen(port), `port ${port} free after down`).toBe(false);
    expect(readdirSync(join(stackDir, 'pids'))).toEqual([]);
    const status = runCli(['stack', 'status']);
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^kafka\s+29092,29093\s+-\s+down: not running/m);
  });

  it('refuses to start on a port another process holds, naming the port and service', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(28081, '127.0.0.1', resolve));
    try {
      const registryOnly = createStack(
        defaultServices(env).filter((service) => service.name === 'schema-registry'),
        resolveStackPaths(env),
      );
      await expect(registryOnly.up()).rejects.toThrow(
        'Port 28081 for schema-registry is already in use by another process; stop it or set another port (see README, "Service ports")',
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
