import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../../stack/process.js';
import { waitUntil } from './fault-stack.js';

// `cdc-sync run` as real child processes, as a supervisor runs them: one process per worker, its JSON log lines
// collected, signalled by the PID this harness spawned (never by name).

/** One parsed pino line of a worker. */
export type LogLine = {
  readonly level: number;
  readonly msg: string;
  readonly time: number;
  readonly [field: string]: unknown;
};

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export type WorkerRole = 'all' | 'transform' | 'sink';

export type Worker = ReturnType<typeof startWorker>;

const running = new Set<Worker>();
/** What {@link saveWorkerLogs} keeps of every worker started. */
type WorkerLog = { name: string; pid: number; lines(): readonly LogLine[]; stderr(): string };
const started: WorkerLog[] = [];

/**
 * Starts `cdc-sync run --config <file> --role <role>` with `node --import tsx` (one process, no wrapper, so the PID
 * is the worker's), detached in a process group of its own.
 */
export function startWorker(name: string, configFile: string, role: WorkerRole = 'all') {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'run', '--config', configFile, '--role', role],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new Error(`Worker ${name} did not start`);
  const pid = child.pid;
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop()!;
    for (const text of complete) {
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // A line cut by a kill: nothing to learn from it.
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitCode: number | null | undefined;
  let exitSignal: NodeJS.Signals | null = null;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      running.delete(worker);
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );

  const signal = (sig: NodeJS.Signals) => {
    if (exitCode !== undefined || !isAlive(pid)) throw new Error(`Worker ${name} (pid ${pid}) is not running`);
    process.kill(-pid, sig);
  };

  const worker = {
    name,
    pid,
    role,
    lines: (): readonly LogLine[] => lines,
    stderr: () => stderr,
    exit,
    /** Undefined while running; the exit code (null when killed by a signal) afterwards. */
    exitCode: () => exitCode,
    exitSignal: () => exitSignal,
    running: () => exitCode === undefined,
    /** The last lines, for failure messages. */
    tail(count = 40): string {
      return [
        ...lines.slice(-count).map((line) => JSON.stringify(line)),
        stderr.trimEnd().split('\n').slice(-10).join('\n'),
      ].join('\n');
    },
    /**
     * Resolves with the first line (from `from` on) that matches; rejects when the worker exits first or after
     * `timeoutMs`.
     */
    waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs = 120_000, from = 0): Promise<LogLine> {
      return new Promise((resolve, reject) => {
        let checked = from;
        const check = () => {
          for (; checked < lines.length; checked++) {
            if (match(lines[checked]!)) {
              finish();
              resolve(lines[checked]!);
              return;
            }
          }
          if (exitCode !== undefined) {
            finish();
            reject(new Error(`Worker ${name} exited (${exitCode ?? exitSignal}) before ${what}:\n${worker.tail()}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} from ${name}:\n${worker.tail()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    /** The ops server's URL, from the line the worker logs when it listens. */
    async opsUrl(): Promise<string> {
      const line = await worker.waitForLine((l) => l.msg === 'Ops server listening', 'the ops server');
      return String(line['url']);
    },
    signal,
    /** SIGKILL, resolved once the process is gone. */
    async kill(): Promise<Date> {
      signal('SIGKILL');
      const at = new Date();
      await exit;
      return at;
    },
    freeze(): Date {
      signal('SIGSTOP');
      return new Date();
    },
    thaw(): void {
      signal('SIGCONT');
    },
    /** SIGTERM, as a supervisor stops it; resolves with the exit code. */
    async stop(timeoutMs = 60_000): Promise<number | null> {
      if (exitCode !== undefined) return exitCode;
      signal('SIGTERM');
      await waitUntil(() => exitCode !== undefined, `worker ${name} to exit after SIGTERM`, timeoutMs);
      return exitCode ?? null;
    },
    /** Waits until the worker has joined its groups and is ready. */
    async ready(timeoutMs = 120_000): Promise<void> {
      const url = await worker.opsUrl();
      await waitUntil(
        async () => {
          if (exitCode !== undefined) throw new Error(`Worker ${name} exited before it was ready:\n${worker.tail()}`);
          const response = await fetch(`${url}/readyz`).catch(() => undefined);
          return response?.status === 200;
        },
        `worker ${name} to be ready`,
        timeoutMs,
        250,
      );
    },
  };
  running.add(worker);
  started.push(worker);
  return worker;
}

/**
 * Writes every worker's log lines (and stderr) to `<dir>/<name>.log`, for a look at a failed scenario: set
 * `CDC_SYNC_FAULTS_LOGS=<dir>`.
 */
export function saveWorkerLogs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const worker of started.splice(0)) {
    const text = worker
      .lines()
      .map((line) => JSON.stringify(line))
      .join('\n');
    writeFileSync(join(dir, `${worker.name}-${worker.pid}.log`), `${text}\n${worker.stderr()}`);
  }
}

/** Kills every worker still running (thawed first, so nothing stays frozen); for `afterAll`/`afterEach`. */
export async function killAllWorkers(): Promise<void> {
  for (const worker of [...running]) {
    try {
      process.kill(-worker.pid, 'SIGCONT');
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await worker.exit;
  }
}
