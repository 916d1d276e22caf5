/**
 * The contract every service of the local stack fulfils.
 *
 * A service is a plain local process bound to 127.0.0.1. The stack runner
 * (`stack/stack.ts`) owns the generic parts: prerequisites, PID files, log
 * files, detaching, waiting for health and stopping. A service definition
 * only says how to install itself into its cache directory, how to prepare
 * its data directory, which command runs it in the foreground, and how to
 * tell that it is healthy.
 */

/** A command the service needs on PATH, with the advice printed when it is missing. */
export type Prerequisite = {
  readonly command: string;
  /** Arguments that make the command print its version and exit 0, e.g. `["-version"]`. */
  readonly versionArgs: readonly string[];
  /** How to install it on Debian, e.g. `apt-get install -y openjdk-17-jre-headless`. */
  readonly install: string;
};

/** Where a service keeps its files; every directory exists before a hook is called. */
export type ServiceDirs = {
  /** Downloads and builds, kept across stack restarts (`~/.cache/cdc-sync/<service>`). */
  readonly cacheDir: string;
  /** The service's data, outside the repository (`<stack dir>/data/<service>`). */
  readonly dataDir: string;
  /** Where the service's own config files may be written (`<stack dir>/run/<service>`). */
  readonly runDir: string;
};

/** Progress reporting for long installs; lines go to the user's terminal. */
export type StackReporter = (message: string) => void;

/** The foreground command that runs the service. The runner detaches it and redirects its output to the log. */
export type ServiceCommand = {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
};

/** The outcome of one health probe: healthy, or the reason it is not. */
export type HealthResult = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

/**
 * One service of the local stack.
 *
 * Guarantees the runner relies on: `install` and `prepare` are idempotent and
 * fast when their work is already done; `command` runs in the foreground until
 * it receives SIGTERM; `health` never throws and answers within a few seconds.
 */
export type StackService = {
  /** Short kebab-case name, used for PID, log and data file names. */
  readonly name: string;
  /** One line for `stack status`. */
  readonly summary: string;
  /** Every TCP port the service binds on 127.0.0.1; all must be free before it starts. */
  readonly ports: readonly number[];
  /** Endpoint string clients use, e.g. `127.0.0.1:9092` or `http://127.0.0.1:8081`. */
  readonly endpoint: string;
  /** The environment variable through which tests and the pipeline receive the endpoint. */
  readonly endpointEnv: string;
  readonly prerequisites: readonly Prerequisite[];
  /**
   * Names of the services that must be healthy before this one starts, e.g. `kafka` for a Kafka Connect worker.
   * Only services of the same stack count: one left out of it (given by env, or run elsewhere) is taken as there.
   * `stack down` stops a service before the ones it needs.
   */
  readonly needs: readonly string[];
  /** Seconds to wait for health after starting before giving up. */
  readonly startTimeoutSeconds: number;
  install(dirs: ServiceDirs, report: StackReporter): Promise<void>;
  prepare(dirs: ServiceDirs, report: StackReporter): Promise<void>;
  command(dirs: ServiceDirs): ServiceCommand;
  health(): Promise<HealthResult>;
};

/** Reads a port from the environment, falling back to the default; rejects anything that is not a TCP port. */
export function portFromEnv(envName: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[envName];
  if (raw === undefined || raw === '') return fallback;
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Invalid port ${JSON.stringify(raw)} in environment variable ${envName}`);
  }
  return port;
}
