import { Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  createStack,
  DEFAULT_SERVICE_NAMES,
  isStackServiceName,
  OPTIONAL_SERVICE_NAMES,
  selectServices,
  type ServiceStatus,
  type StackServiceName,
} from '../stack/stack.js';
import { formatTable } from './table.js';

/**
 * Exit status of every `cdc-sync stack` command on a usage error, such as an unknown `--with` name; `status` keeps 1
 * for "a service is not healthy".
 */
export const STACK_USAGE_EXIT = 2;

type StackOptions = { readonly with?: readonly StackServiceName[] };

/**
 * `cdc-sync stack up|down|status`: the local stack of real services, run as plain processes. Each takes
 * `--with <services>` for the optional services (PostgreSQL, Kafka Connect); `status` and `down` also cover every
 * optional service that runs.
 */
export function createStackCommand(): Command {
  const exitOnUsageError = (error: CommanderError): never => process.exit(error.exitCode === 0 ? 0 : STACK_USAGE_EXIT);
  const stack = new Command('stack')
    .description(
      'Run the local stack of real services (Kafka, schema registry, MongoDB-wire server; PostgreSQL and Kafka ' +
        'Connect on request) as plain processes on 127.0.0.1',
    )
    .exitOverride(exitOnUsageError);
  const report = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  const subcommand = (name: string, description: string, withWhat: string): Command =>
    stack.command(name).description(description).addOption(withOption(withWhat)).exitOverride(exitOnUsageError);

  subcommand(
    'up',
    'Install (cached), start and wait until every service is healthy; harmless when already up',
    'also start these optional services, each once what it needs is healthy',
  ).action(async (options: StackOptions) => {
    const results = await createStack(selectServices({ with: options.with })).up(report);
    const started = results.filter((r) => !r.alreadyRunning).length;
    report(`Stack is up: ${started} started, ${results.length - started} already running`);
  });

  subcommand(
    'down',
    'Stop every service of the stack and wait until its ports are free',
    'also name these optional services in the report when they are not running (running ones are stopped anyway)',
  ).action(async (options: StackOptions) => {
    await createStack(selectServices({ with: options.with, running: true })).down(report);
    report('Stack is down');
  });

  subcommand(
    'status',
    'List each service with its ports, PID, health, endpoint and log file; exits 1 unless all are healthy',
    'list these optional services too, also when they are not running (running ones are listed anyway)',
  ).action(async (options: StackOptions) => {
    const rows = await createStack(selectServices({ with: options.with, running: true })).status();
    process.stdout.write(formatStatusTable(rows) + '\n');
    if (!rows.every((row) => row.health.healthy)) process.exitCode = 1;
  });

  return stack;
}

function withOption(what: string): Option {
  return new Option(
    '--with <services>',
    `${what}: ${OPTIONAL_SERVICE_NAMES.join(', ')} (comma-separated, repeatable)`,
  ).argParser(parseServiceNames);
}

/**
 * Commander parser for `--with`: comma-separated service names, added to those of earlier `--with` options, each
 * kept once. The default services are accepted, as they run anyway. Throws an `InvalidArgumentError` naming the bad
 * value and the optional services.
 */
export function parseServiceNames(text: string, previous: readonly StackServiceName[] = []): StackServiceName[] {
  const names = [...previous];
  for (const name of text.split(',').map((part) => part.trim())) {
    if (name === '') {
      throw new InvalidArgumentError(`Expected comma-separated service names, got ${JSON.stringify(text)}`);
    }
    if (!isStackServiceName(name)) {
      throw new InvalidArgumentError(
        `Unknown service ${JSON.stringify(name)}; the optional services are ${OPTIONAL_SERVICE_NAMES.join(', ')} ` +
          `(${DEFAULT_SERVICE_NAMES.join(', ')} always run)`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Renders `stack status` as an aligned table. */
export function formatStatusTable(rows: readonly ServiceStatus[]): string {
  return formatTable([
    ['SERVICE', 'PORTS', 'PID', 'HEALTH', 'ENDPOINT', 'LOG'],
    ...rows.map((row) => [
      row.name,
      row.ports.join(','),
      row.pid === undefined ? '-' : String(row.pid),
      row.health.healthy ? 'healthy' : `down: ${row.health.reason}`,
      `${row.endpointEnv}=${row.endpoint}`,
      row.logFile,
    ]),
  ]);
}
