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
import { createKafkaConnectService } from './services/kafka-connect.js';
import { createKafkaService } from './services/kafka.js';
import { createMongoWireService } from './services/mongo-wire.js';
import { createPostgresService } from './services/postgres.js';
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

/**
 * Every service of the local stack by name, in the order `stack status` lists them. `stack up` runs the
 * {@link DEFAULT_SERVICE_NAMES}, and the {@link OPTIONAL_SERVICE_NAMES} only when asked for (`--with`).
 */
export const STACK_SERVICES = {
  kafka: createKafkaService,
  'schema-registry': createSchemaRegistryService,
  'mongo-wire': createMongoWireService,
  postgres: createPostgresService,
  'kafka-connect': createKafkaConnectService,
} as const satisfies Record<string, (env: NodeJS.ProcessEnv) => StackService>;

/** The name of a service of the local stack. */
export type StackServiceName = keyof typeof STACK_SERVICES;

/** The services every `stack up` runs: what the pipeline and the integration tests need. */
export const DEFAULT_SERVICE_NAMES = [
  'kafka',
  'schema-registry',
  'mongo-wire',
] as const satisfies readonly StackServiceName[];

/** The services that run only when asked for: real Debezium captures need them, the pipeline does not. */
export const OPTIONAL_SERVICE_NAMES = ['postgres', 'kafka-connect'] as const satisfies readonly StackServiceName[];

/** True when `name` names a service of the local stack. */
export function isStackServiceName(name: string): name is StackServiceName {
  return Object.hasOwn(STACK_SERVICES, name);
}

/** The services of the default local stack, ports taken from the environment. */
export function defaultServices(env: NodeJS.ProcessEnv = process.env): readonly StackService[] {
  return DEFAULT_SERVICE_NAMES.map((name) => STACK_SERVICES[name](env));
}

/** Where the local stack's default services answer, with the ports `env` gives them (`CDC_SYNC_*_PORT`). */
export type LocalEndpoints = {
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly mongodbUri: string;
};

/** The endpoints of the local stack: what tools use when neither an option nor `KAFKA_BROKERS` and the like name one. */
export function localEndpoints(env: NodeJS.ProcessEnv = process.env): LocalEndpoints {
  return {
    kafkaBrokers: STACK_SERVICES.kafka(env).endpoint,
    schemaRegistryUrl: STACK_SERVICES['schema-registry'](env).endpoint,
    mongodbUri: STACK_SERVICES['mongo-wire'](env).endpoint,
  };
}

/** Which services a `stack` command works on, besides the default ones; see {@link selectServices}. */
export type ServiceSelection = {
  /** Services to add, by name (`--with`); what they need comes with them. */
  readonly with?: readonly StackServiceName[];
  /** Also every other service whose process runs in the stack instance, so that `status` and `down` miss none. */
  readonly running?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly paths?: StackPaths;
};

/**
 * The services a `stack` command works on, in {@link STACK_SERVICES} order:
 * the default ones, those named in `selection.with` and every service these
 * need, and with `selection.running` every other service whose recorded
 * process is alive in the stack instance at `selection.paths`. Ports come
 * from `selection.env`; only the services selected read them. Throws when
 * such a variable holds an invalid port.
 */
export function selectServices(selection: ServiceSelection = {}): readonly StackService[] {
  const env = selection.env ?? process.env;
  const paths = selection.paths ?? resolveStackPaths(env);
  const names = Object.keys(STACK_SERVICES) as StackServiceName[];
  const created = new Map<StackServiceName, StackService>();
  const serviceOf = (name: StackServiceName): StackService => {
    const service = created.get(name) ?? STACK_SERVICES[name](env);
    created.set(name, service);
    return service;
  };
  const wanted = new Set<StackServiceName>([...DEFAULT_SERVICE_NAMES, ...(selection.with ?? [])]);
  if (selection.running === true) {
    for (const name of names) {
      const record = readPidFile(serviceFiles(paths, name).pidFile);
      if (record !== undefined && isRunning(record)) wanted.add(name);
    }
  }
  // Iterating a Set also visits what is added meanwhile, so what the needed services need comes along too.
  for (const name of wanted) for (const need of serviceOf(name).needs) if (isStackServiceName(need)) wanted.add(need);
  return names.filter((name) => wanted.has(name)).map(serviceOf);
}

/**
 * The services in start waves: each service sits in the first wave after
 * every service it needs (services not in the list count as there), so the
 * services of one wave can start together once those of the waves before are
 * healthy. Keeps the list's order within a wave. Throws when services need
 * each other in a cycle.
 */
export function startWaves(services: readonly StackService[]): readonly (readonly StackService[])[] {
  const byName = new Map(services.map((service) => [service.name, service]));
  const waveOf = new Map<string, number>();
  const path: string[] = [];
  const place = (service: StackService): number => {
    const known = waveOf.get(service.name);
    if (known !== undefined) return known;
    if (path.includes(service.name)) {
      throw new Error(
        `Services of the stack need each other in a cycle: ${[...path.slice(path.indexOf(service.name)), service.name].join(' -> ')}`,
      );
    }
    path.push(service.name);
    const needed = service.needs.flatMap((name) => byName.get(name) ?? []);
    const wave = needed.length === 0 ? 0 : 1 + Math.max(...needed.map(place));
    path.pop();
    waveOf.set(service.name, wave);
    return wave;
  };
  const waves: StackService[][] = [];
  for (const service of services) (waves[place(service)] ??= []).push(service);
  return waves;
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
  /**
   * Installs and prepares every service not already running, then starts them in {@link startWaves}: each once the
   * services it needs are healthy. Resolves once all are healthy, in the order of `services`.
   */
  up(report?: StackReporter): Promise<readonly UpResult[]>;
  /**
   * Stops every service it has a PID file for, each before the services it needs, and waits until their ports are
   * free.
   */
  down(report?: StackReporter): Promise<void>;
  status(): Promise<readonly ServiceStatus[]>;
};

/**
 * Creates a stack over the given services. Installs run one after another and
 * are cached; services then start wave by wave ({@link startWaves}), those of
 * one wave concurrently. A service whose start fails stops the waves after it;
 * what already started keeps running.
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
      const waves = startWaves(services);
      // Installs run one at a time: several Maven builds sharing ~/.m2 at once can corrupt it.
      const toStart = new Set<StackService>();
      const results = new Map<string, UpResult>();
      for (const service of services) {
        const running = await alreadyRunning(service, report);
        if (running === undefined) {
          await installOne(service, report);
          toStart.add(service);
        } else results.set(service.name, running);
      }
      for (const wave of waves) {
        const started = await Promise.allSettled(
          wave.filter((service) => toStart.has(service)).map((service) => startOne(service, report)),
        );
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
      }
      return services.map((service) => results.get(service.name)!);
    },
    async down(report = () => {}) {
      // Waves in reverse: a Connect worker still reaches Kafka while it shuts down.
      for (const wave of [...startWaves(services)].reverse()) {
        await Promise.all(
          wave.map(async (service) => {
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
      }
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
  return service.prerequisites.filter((prerequisite) => !isInstalled(prerequisite));
}

/** Whether the prerequisite's command runs here: its version command starts and exits 0. */
export function isInstalled(prerequisite: Prerequisite): boolean {
  const probe = spawnSync(prerequisite.command, [...prerequisite.versionArgs], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
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
