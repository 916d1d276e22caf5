import { Command } from 'commander';
import { createStack, type ServiceStatus } from '../stack/stack.js';
import { formatTable } from './table.js';

/** `cdc-sync stack up|down|status`: the local stack of real services, run as plain processes. */
export function createStackCommand(): Command {
  const stack = new Command('stack').description(
    'Run the local stack of real services (Kafka, schema registry, MongoDB-wire server) as plain processes on 127.0.0.1',
  );
  const report = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };

  stack
    .command('up')
    .description('Install (cached), start and wait until every service is healthy; harmless when already up')
    .action(async () => {
      const results = await createStack().up(report);
      const started = results.filter((r) => !r.alreadyRunning).length;
      report(`Stack is up: ${started} started, ${results.length - started} already running`);
    });

  stack
    .command('down')
    .description('Stop every service of the stack and wait until its ports are free')
    .action(async () => {
      await createStack().down(report);
      report('Stack is down');
    });

  stack
    .command('status')
    .description('List each service with its ports, PID, health, endpoint and log file; exits 1 unless all are healthy')
    .action(async () => {
      const rows = await createStack().status();
      process.stdout.write(formatStatusTable(rows) + '\n');
      if (!rows.every((row) => row.health.healthy)) process.exitCode = 1;
    });

  return stack;
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
