import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServiceCommand } from './service.js';

/** What a PID file records, so that a reused PID is not mistaken for our process. */
export type PidRecord = {
  readonly pid: number;
  readonly command: string;
  readonly startedAt: string;
};

/** Starts the command detached in its own process group, output appended to the log; writes the PID file. */
export function startDetached(spec: ServiceCommand, logFile: string, pidFile: string): PidRecord {
  mkdirSync(dirname(logFile), { recursive: true });
  mkdirSync(dirname(pidFile), { recursive: true });
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`Cannot start ${spec.command}: no process was created`);
    child.unref();
    const record: PidRecord = { pid: child.pid, command: spec.command, startedAt: new Date().toISOString() };
    writeFileSync(pidFile, JSON.stringify(record) + '\n');
    return record;
  } finally {
    closeSync(log);
  }
}

/** Reads the PID file; undefined when it is missing or unreadable. */
export function readPidFile(pidFile: string): PidRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(pidFile, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'pid' in parsed && typeof parsed.pid === 'number') {
      return parsed as PidRecord;
    }
  } catch {
    // A missing or half-written PID file means "not running".
  }
  return undefined;
}

/** True when the PID is alive and still runs the recorded command (guards against PID reuse). */
export function isRunning(record: PidRecord): boolean {
  if (!isAlive(record.pid)) return false;
  try {
    const executable = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return basename(executable) === basename(record.command);
  } catch {
    return false;
  }
}

/** True when the process exists and is not a zombie (a zombie still answers `kill(pid, 0)`). */
export function isAlive(pid: number): boolean {
  const stat = readProcStat(String(pid));
  return stat !== undefined && stat.state !== 'Z';
}

/** State and process group of a process from `/proc/<pid>/stat`; undefined once it is gone. */
function readProcStat(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, pgrp, …
    const [state = '', , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * Stops the process group: SIGTERM, then SIGKILL after the grace period.
 * Resolves once no process of the group is left; removes the PID file.
 */
export async function stopProcessGroup(
  record: PidRecord,
  pidFile: string,
  graceMs = 20_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isRunning(record)) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(record.pid)) {
      rmSync(pidFile, { force: true });
      return 'stopped';
    }
    await sleep(200);
  }
  signalGroup(record.pid, 'SIGKILL');
  while (groupAlive(record.pid)) await sleep(100);
  rmSync(pidFile, { force: true });
  return 'killed';
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * True while any non-zombie process belongs to the group. Zombies are skipped
 * because their parent may be the very process waiting here, which cannot
 * reap them until this wait ends.
 */
function groupAlive(pgid: number): boolean {
  return readdirSync('/proc').some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = readProcStat(entry);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}
