import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveStackPaths, serviceFiles, type StackPaths } from './paths.js';
import { isPortOpen } from './probe.js';
import { isAlive, isRunning, readPidFile, startDetached, stopProcessGroup } from './process.js';
import {
  type HealthResult,
  type Prerequisite,
  type ServiceDirs,
  type StackReporter,
  type StackService,
} from './service.js';
import { createKafkaService } from './services/kafka.js';
import { createMongoWireService } from './services/mongo-wire.js';
import { createSchemaRegistryService } from './services/schema-registry.js';

/** A failure of the local stack, naming the service and, where there is one, its log file. */
export class StackError extends Error {
  constructor(
    message: string,
    readonly service: string,
    readonly logFile?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The services of the default local stack, ports taken from the environment. */
export function defaultServices(env: NodeJS.ProcessEnv = process.env): readonly StackService[] {
  return [createKafkaService(env), createSchemaRegistryService(env), createMongoWireService(env)];
}

/** One row of `stack status`. */
export type ServiceStatus = {
  readonly name: string;
  readonly summary: string;
  readonly ports: readonly number[];
  readonly endpoint: string;
  readonly endpointEnv: string;
  readonly pid: number | undefined;
  readonly health: HealthResult;
  readonly logFile: string;
};

/** The outcome of `up` for one service. */
export type UpResult = { readonly name: string; readonly pid: number; readonly alreadyRunning: boolean };

/** A stack instance: a list of services and the folders they live in. */
export type Stack = {
  readonly paths: StackPaths;
  readonly services: readonly StackService[];
  /** Installs, prepares and starts every service not already running, then waits until each is healthy. */
  up(report?: StackReporter): Promise<readonly UpResult[]>;
  /** Stops every service it has a PID file for and waits until their ports are free. */
  down(report?: StackReporter): Promise<void>;
  status(): Promise<readonly ServiceStatus[]>;
};

/**
 * Creates a stack over the given services. Installs run one after another and
 * are cached; services then start concurrently, since none of the default ones
 * depends on another.
 */
export function createStack(
  services: readonly StackService[] = defaultServices(),
  paths: StackPaths = resolveStackPaths(),
): Stack {
  const dirsOf = (service: StackService): ServiceDirs & ReturnType<typeof serviceFiles> => {
    const files = serviceFiles(paths, service.name);
    for (const dir of [files.cacheDir, files.dataDir, files.runDir]) mkdirSync(dir, { recursive: true });
    return files;
  };

  const sayFor =
    (service: StackService, report: StackReporter): StackReporter =>
    (message) =>
      report(`[${service.name}] ${message}`);

  /** The running instance of the service once healthy, or undefined when it is not running. */
  async function alreadyRunning(service: StackService, report: StackReporter): Promise<UpResult | undefined> {
    const files = dirsOf(service);
    const existing = readPidFile(files.pidFile);
    if (existing === undefined || !isRunning(existing)) return undefined;
    const say = sayFor(service, report);
    await waitHealthy(service, files.logFile, existing.pid, say);
    say(`already running (pid ${existing.pid}) at ${service.endpoint}`);
    return { name: service.name, pid: existing.pid, alreadyRunning: true };
  }

  async function installOne(service: StackService, report: StackReporter): Promise<void> {
    checkPrerequisites(service);
    for (const port of service.ports) {
      if (await isPortOpen(port)) {
        throw new StackError(
          `Port ${port} for ${service.name} is already in use by another process; stop it or set another port (see README, "Service ports")`,
          service.name,
        );
      }
    }
    const files = dirsOf(service);
    const say = sayFor(service, report);
    await service.install(files, say);
    await service.prepare(files, say);
  }

  async function startOne(service: StackService, report: StackReporter): Promise<UpResult> {
    const files = dirsOf(service);
    const say = sayFor(service, report);
    const record = startDetached(service.command(files), files.logFile, files.pidFile);
    say(`started (pid ${record.pid}), waiting for health; log: ${files.logFile}`);
    await waitHealthy(service, files.logFile, record.pid, say);
    say(`healthy at ${service.endpoint}`);
    return { name: service.name, pid: record.pid, alreadyRunning: false };
  }

  async function waitHealthy(service: StackService, logFile: string, pid: number, say: StackReporter): Promise<void> {
    const deadline = Date.now() + service.startTimeoutSeconds * 1000;
    let last: HealthResult = { healthy: false, reason: 'not probed yet' };
    let nextNotice = Date.now() + 10_000;
    while (Date.now() < deadline) {
      last = await service.health();
      if (last.healthy) return;
      if (!isAlive(pid)) {
        throw new StackError(
          `Service ${service.name} exited during start-up; log: ${logFile}\n${logTail(logFile)}`,
          service.name,
          logFile,
        );
      }
      if (Date.now() >= nextNotice) {
        say(`still waiting: ${last.reason}`);
        nextNotice = Date.now() + 10_000;
      }
      await sleep(500);
    }
    throw new StackError(
      `Service ${service.name} did not become healthy within ${service.startTimeoutSeconds} s (${last.reason}); log: ${logFile}\n${logTail(logFile)}`,
      service.name,
      logFile,
    );
  }

  return {
    paths,
    services,
    async up(report = () => {}) {
      // Installs run one at a time: several Maven builds sharing ~/.m2 at once can corrupt it.
      const toStart: StackService[] = [];
      const results = new Map<string, UpResult>();
      for (const service of services) {
        const running = await alreadyRunning(service, report);
        if (running === undefined) {
          await installOne(service, report);
          toStart.push(service);
        } else results.set(service.name, running);
      }
      const started = await Promise.allSettled(toStart.map((service) => startOne(service, report)));
      const failures = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length === 1) throw failures[0]!.reason;
      if (failures.length > 1) {
        const reasons = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)));
        throw new AggregateError(
          failures.map((f) => f.reason),
          reasons.join('\n\n'),
        );
      }
      for (const result of started) if (result.status === 'fulfilled') results.set(result.value.name, result.value);
      return services.map((service) => results.get(service.name)!);
    },
    async down(report = () => {}) {
      await Promise.all(
        [...services].reverse().map(async (service) => {
          const files = serviceFiles(paths, service.name);
          const record = readPidFile(files.pidFile);
          if (record === undefined) {
            report(`[${service.name}] not running`);
            return;
          }
          const outcome = await stopProcessGroup(record, files.pidFile);
          report(`[${service.name}] ${outcome === 'not-running' ? 'was not running' : outcome} (pid ${record.pid})`);
          for (const port of service.ports) {
            const deadline = Date.now() + 10_000;
            while ((await isPortOpen(port)) && Date.now() < deadline) await sleep(200);
          }
        }),
      );
    },
    async status() {
      return Promise.all(
        services.map(async (service): Promise<ServiceStatus> => {
          const files = serviceFiles(paths, service.name);
          const record = readPidFile(files.pidFile);
          const running = record !== undefined && isRunning(record);
          return {
            name: service.name,
            summary: service.summary,
            ports: service.ports,
            endpoint: service.endpoint,
            endpointEnv: service.endpointEnv,
            pid: running ? record.pid : undefined,
            health: running ? await service.health() : { healthy: false, reason: 'not running' },
            logFile: files.logFile,
          };
        }),
      );
    },
  };
}

/** The service's prerequisites that are missing from this machine. */
export function missingPrerequisites(service: StackService): Prerequisite[] {
  return service.prerequisites.filter((prerequisite) => {
    const probe = spawnSync(prerequisite.command, [...prerequisite.versionArgs], { stdio: 'ignore' });
    return probe.error !== undefined || probe.status !== 0;
  });
}

function checkPrerequisites(service: StackService): void {
  const [missing] = missingPrerequisites(service);
  if (missing !== undefined) {
    throw new StackError(
      `Service ${service.name} needs ${missing.command}, which is not installed or not on PATH; install it with: ${missing.install}`,
      service.name,
    );
  }
}

function logTail(logFile: string, lines = 25): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}
