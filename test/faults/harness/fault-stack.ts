import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveStackPaths, serviceFiles } from '../../../stack/paths.js';
import { isPortOpen } from '../../../stack/probe.js';
import { isAlive, isRunning, readPidFile } from '../../../stack/process.js';
import { type StackService } from '../../../stack/service.js';
import { createKafkaConnectService } from '../../../stack/services/kafka-connect.js';
import { createKafkaService } from '../../../stack/services/kafka.js';
import { createMongoWireService } from '../../../stack/services/mongo-wire.js';
import { createPostgresService } from '../../../stack/services/postgres.js';
import { createSchemaRegistryService } from '../../../stack/services/schema-registry.js';
import { createStack } from '../../../stack/stack.js';
import { freePort } from '../../integration/services.js';

// The fault suite's own stack: the stack code of stack/ with a state folder and ports of its own, so that killing,
// freezing and restarting its servers never touches the shared stack other tests use at the same time. Every signal
// goes to a process named by a PID file under this stack's folder, and only once that process is shown to run from
// that folder.

/** The services a fault stack runs: the three every scenario needs, then the two of the Debezium scenarios. */
export const SERVICE_NAMES = ['kafka', 'schema-registry', 'mongo-wire', 'postgres', 'kafka-connect'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export const CORE_SERVICES: readonly ServiceName[] = ['kafka', 'schema-registry', 'mongo-wire'];
export const DEBEZIUM_SERVICES: readonly ServiceName[] = ['postgres', 'kafka-connect'];

/** Where the fault stack lives: its state folder and the port variables of stack/services. */
export type FaultStackSettings = {
  readonly stackDir: string;
  readonly env: Readonly<Record<string, string>>;
};

/** A fresh state folder and a free port for every service. */
export async function allocateFaultStack(): Promise<FaultStackSettings> {
  const stackDir = mkdtempSync(join(tmpdir(), 'cdc-sync-faults-'));
  const env: Record<string, string> = {
    CDC_SYNC_STACK_DIR: stackDir,
    CDC_SYNC_KAFKA_PORT: String(await freePort()),
    CDC_SYNC_KAFKA_CONTROLLER_PORT: String(await freePort()),
    CDC_SYNC_SCHEMA_REGISTRY_PORT: String(await freePort()),
    CDC_SYNC_MONGO_PORT: String(await freePort()),
    CDC_SYNC_POSTGRES_PORT: String(await freePort()),
    CDC_SYNC_CONNECT_PORT: String(await freePort()),
  };
  return { stackDir, env };
}

/** A signal the harness sends to a service. */
export type FaultSignal = 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM';

export type FaultStack = ReturnType<typeof faultStack>;

/** The fault stack's services and the faults the harness injects into them. */
export function faultStack(settings: FaultStackSettings) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings.env };
  const paths = resolveStackPaths(env);
  if (paths.stackRoot !== settings.stackDir) throw new Error(`Fault stack folder mismatch: ${paths.stackRoot}`);
  const services: Record<ServiceName, StackService> = {
    kafka: createKafkaService(env),
    'schema-registry': createSchemaRegistryService(env),
    'mongo-wire': createMongoWireService(env),
    postgres: createPostgresService(env),
    'kafka-connect': createKafkaConnectService(env),
  };
  const stackOf = (names: readonly ServiceName[]) =>
    createStack(
      names.map((name) => services[name]),
      paths,
    );
  const say = (line: string) => process.stderr.write(`[fault stack] ${line}\n`);

  /** The PID of a running service of this stack; throws unless its PID file names a live process of this stack. */
  function pid(name: ServiceName): number {
    const record = readPidFile(serviceFiles(paths, name).pidFile);
    if (record === undefined || !isRunning(record))
      throw new Error(`Service ${name} of the fault stack is not running`);
    if (!runsFrom(record.pid, settings.stackDir)) {
      throw new Error(`PID ${record.pid} of ${name} does not run from the fault stack's folder ${settings.stackDir}`);
    }
    return record.pid;
  }

  /** Signals the service's process group (services start detached, each in a group of its own). */
  function signal(name: ServiceName, sig: FaultSignal): number {
    if (name === 'postgres') throw new Error('The fault suite never signals PostgreSQL');
    const target = pid(name);
    process.kill(-target, sig);
    return target;
  }

  return {
    settings,
    env,
    paths,
    services,
    endpoints: {
      kafkaBrokers: [services.kafka.endpoint],
      schemaRegistryUrl: services['schema-registry'].endpoint,
      mongodbUri: services['mongo-wire'].endpoint,
      connectUrl: services['kafka-connect'].endpoint,
    },
    logFile: (name: ServiceName) => serviceFiles(paths, name).logFile,
    pid,
    /** Starts the services not running yet and waits until each is healthy. */
    async up(names: readonly ServiceName[]): Promise<void> {
      await stackOf(names).up(say);
    },
    /** Stops the services (SIGTERM, then SIGKILL) and waits until their ports are free. */
    async down(names: readonly ServiceName[]): Promise<void> {
      for (const name of names) {
        if (name === 'postgres') continue;
        try {
          signal(name, 'SIGCONT');
        } catch {
          // Not running: nothing is frozen.
        }
      }
      await stackOf(names).down(say);
    },
    /** SIGKILL; resolves once the process is gone and its ports are closed. */
    async kill(name: ServiceName): Promise<{ pid: number; at: Date }> {
      const target = signal(name, 'SIGKILL');
      const at = new Date();
      await waitUntil(() => !isAlive(target), `${name} (pid ${target}) to die`, 30_000);
      for (const port of services[name].ports) {
        await waitUntil(async () => !(await isPortOpen(port, 300)), `port ${port} of ${name} to close`, 30_000);
      }
      return { pid: target, at };
    },
    /** SIGSTOP: the process keeps its sockets, which accept connections but never answer. */
    freeze(name: ServiceName): { pid: number; at: Date } {
      return { pid: signal(name, 'SIGSTOP'), at: new Date() };
    },
    thaw(name: ServiceName): void {
      signal(name, 'SIGCONT');
    },
    /**
     * Thaws every frozen service and starts every stopped one, so that a scenario that failed half-way leaves a
     * working stack to the next one.
     */
    async heal(names: readonly ServiceName[] = CORE_SERVICES): Promise<void> {
      for (const name of names) {
        try {
          signal(name, 'SIGCONT');
        } catch {
          // Not running: started below.
        }
      }
      await stackOf(names).up(say);
    },
    /** Starts a killed service again from its data and waits until it is healthy. */
    async restart(name: ServiceName): Promise<void> {
      await stackOf([name]).up(say);
    },
  };
}

/** True when the process's command line names the folder or it runs in it: it belongs to that stack. */
function runsFrom(pid: number, folder: string): boolean {
  try {
    return (
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(folder) ||
      readlinkSync(`/proc/${pid}/cwd`).startsWith(folder)
    );
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
