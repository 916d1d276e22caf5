import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { runScopedSettings } from '../demo/config.js';
import { parsePipelineConfig, type PipelineConfig } from '../ops/pipeline-config.js';
import { peakRssMbOf } from './proc.js';

/**
 * Processes the benchmark measures: `cdc-sync run` workers and the raw-bound
 * scripts, each a child process of its own so that its CPU time and peak RSS
 * are its own. Their output goes to a log file per process.
 */

/** The repository root, where `cli/main.ts` is run from. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where one benchmark run's services are and where its files go. */
export type BenchEnvironment = {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly mongoUri: string;
  /** Config files and process logs. */
  readonly workDir: string;
};

/**
 * The pipeline config of one measured cdc-sync run: the default config but
 * for what isolates it from every other run (source topic prefix, canonical
 * topics, consumer groups, transactional id, database) and an ops server on a
 * free port. `run` names all of those.
 */
export function benchPipelineConfig(
  env: BenchEnvironment,
  options: {
    readonly run: string;
    readonly sourcePrefix: string;
    readonly database: string;
    readonly partitions: number;
  },
): PipelineConfig {
  return parsePipelineConfig(
    {
      kafka: { brokers: [...env.brokers], clientId: options.run, topicPartitions: options.partitions },
      schemaRegistry: { url: env.registryUrl },
      mongodb: { uri: env.mongoUri, database: options.database },
      source: { topicPrefix: options.sourcePrefix },
      transforms: SAMPLE_ERP_STAGES,
      ...runScopedSettings(options.run),
      ops: { port: 0 },
    },
    `the benchmark run ${options.run}`,
    {},
  );
}

/** A started child process; `stop` ends it and reports its peak RSS, read just before it exits. */
export type MeasuredProcess = {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process exits, with its exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** The peak RSS so far, in MB. */
  peakRssMB(): number | undefined;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves with the peak RSS read
   * before the signal.
   */
  stop(graceMs?: number): Promise<{ peakRssMB: number | undefined; killed: boolean }>;
};

/** Starts `cdc-sync run --role <role>` with `config`, written to a file of its own in the work folder. */
export function startWorker(
  env: BenchEnvironment,
  name: string,
  config: PipelineConfig,
  role: 'all' | 'transform' | 'sink',
): MeasuredProcess {
  const configFile = join(env.workDir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return startNode(env, name, ['cli/main.ts', 'run', '--config', configFile, '--role', role]);
}

/** Starts a TypeScript entry of the repository with `node --import tsx`, output appended to `<name>.log`. */
export function startNode(env: BenchEnvironment, name: string, args: readonly string[]): MeasuredProcess {
  const logFile = join(env.workDir, `${name}.log`);
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', log, log],
      env: process.env,
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  let peak: number | undefined;
  const peakRssMB = (): number | undefined => {
    if (exitCode === undefined) peak = peakRssMbOf(pid) ?? peak;
    return peak;
  };
  return {
    name,
    pid,
    logFile,
    exited,
    peakRssMB,
    async stop(graceMs = 30_000) {
      const rss = peakRssMB();
      if (exitCode !== undefined) return { peakRssMB: rss, killed: false };
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited.then(() => 'exited' as const), sleep(graceMs).then(() => 'late')]);
      if (outcome === 'late') {
        child.kill('SIGKILL');
        await exited;
        return { peakRssMB: rss, killed: true };
      }
      return { peakRssMB: rss, killed: false };
    },
  };
}

/**
 * Waits until the process prints a JSON line with `"event": event` to its log
 * and resolves with that line; rejects when it exits first or after
 * `timeoutMs`. The raw-bound scripts report this way.
 */
export async function waitForLogEvent(
  process: MeasuredProcess,
  event: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const { readFile } = await import('node:fs/promises');
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    const text = await readFile(process.logFile, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed['event'] === event) return parsed;
      } catch {
        // A half-written line; the next read has all of it.
      }
    }
    if (exited) throw new Error(`${process.name} exited before reporting ${event}; log: ${process.logFile}`);
    await sleep(50);
  }
  throw new Error(`${process.name} did not report ${event} within ${timeoutMs} ms; log: ${process.logFile}`);
}
