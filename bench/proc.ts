import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolveStackPaths, serviceFiles, type StackPaths } from '../stack/paths.js';
import { isRunning, readPidFile } from '../stack/process.js';

/**
 * CPU time and memory of processes, read from Linux's `/proc`: the
 * benchmark's workers and the local stack's servers, whose PIDs the stack
 * keeps in its PID files (`stack/paths.ts`).
 *
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 * @see https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
 */

/** Clock ticks per second of `/proc/<pid>/stat`'s times; 100 on every common Linux. */
export const CLOCK_TICKS_PER_SECOND = readClockTicks();

/**
 * User plus system CPU seconds of `/proc/<pid>/stat`'s text (fields 14 and
 * 15, in clock ticks). The command name in parentheses may hold spaces, so
 * fields are counted after its closing parenthesis. Throws a `RangeError` for
 * text that is not a stat line.
 */
export function parseCpuSeconds(stat: string, ticksPerSecond = CLOCK_TICKS_PER_SECOND): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state (field 3) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || stat.lastIndexOf(')') < 0) {
    throw new RangeError(`Not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  }
  return (utime + stime) / ticksPerSecond;
}

/** A memory figure of `/proc/<pid>/status` (e.g. `VmHWM`, the peak resident set) in MB; undefined when absent. */
export function parseStatusMb(status: string, field: 'VmHWM' | 'VmRSS'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match === null ? undefined : Number(match[1]) / 1024;
}

/** CPU seconds the process has used so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The process's peak resident set size so far, in MB; undefined once it is gone. */
export function peakRssMbOf(pid: number): number | undefined {
  try {
    return parseStatusMb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
  } catch {
    return undefined;
  }
}

/** CPU seconds of each named process now; processes that are gone are left out. */
export function cpuSnapshot(pids: Readonly<Record<string, number>>): Record<string, number> {
  const snapshot: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = cpuSecondsOf(pid);
    if (seconds !== undefined) snapshot[name] = seconds;
  }
  return snapshot;
}

/** The servers of the local stack the benchmark measures, by the name the report gives them. */
export const MEASURED_SERVERS = {
  kafka: 'kafka',
  schemaRegistry: 'schema-registry',
  mongoWire: 'mongo-wire',
} as const;

/**
 * The PIDs of the running local stack's servers, from its PID files. Throws
 * naming the service when one is not running: its CPU could not be measured.
 */
export function stackServerPids(paths: StackPaths = resolveStackPaths()): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [name, service] of Object.entries(MEASURED_SERVERS)) {
    const record = readPidFile(serviceFiles(paths, service).pidFile);
    if (record === undefined || !isRunning(record)) {
      throw new Error(
        `The local stack's ${service} is not running (no live PID in ${serviceFiles(paths, service).pidFile}); start it with npm run stack:up`,
      );
    }
    pids[name] = record.pid;
  }
  return pids;
}

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}
