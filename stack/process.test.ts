import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, isRunning, readPidFile, startDetached, stopProcessGroup } from './process.js';

describe('detached service processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-sync-process-'));
  const logFile = join(dir, 'logs', 'svc.log');
  const pidFile = join(dir, 'pids', 'svc.pid');

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts a process group, logs its output, and stops it with SIGTERM', async () => {
    const record = startDetached({ command: 'bash', args: ['-c', 'echo started; sleep 60 & wait'] }, logFile, pidFile);
    expect(readPidFile(pidFile)).toEqual(record);
    expect(isRunning(record)).toBe(true);
    await expect.poll(() => readFileSync(logFile, 'utf8')).toBe('started\n');

    expect(await stopProcessGroup(record, pidFile)).toBe('stopped');
    expect(isAlive(record.pid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const record = startDetached(
      { command: 'bash', args: ['-c', "trap '' TERM; echo ignoring; sleep 60 & wait; sleep 60"] },
      logFile,
      pidFile,
    );
    // The trap must be in place before the signal arrives.
    await expect.poll(() => readFileSync(logFile, 'utf8')).toBe('ignoring\n');
    expect(await stopProcessGroup(record, pidFile, 500)).toBe('killed');
    expect(isAlive(record.pid)).toBe(false);
  });

  it('does not mistake another program on a reused PID for the service', () => {
    expect(isRunning({ pid: process.pid, command: '/opt/kafka/bin/java', startedAt: '' })).toBe(false);
    expect(isRunning({ pid: process.pid, command: process.execPath, startedAt: '' })).toBe(true);
  });

  it('treats a missing or corrupt PID file as not running', () => {
    expect(readPidFile(join(dir, 'nothing.pid'))).toBeUndefined();
  });
});
