import { Command } from 'commander';
import { createMssqlExecutor } from '../connectors/mssql/executor.js';
import { type ReadModelSnapshot } from '../sinks/mongo/read-models.js';
import { type DemoOptions, runDemo } from '../demo/run.js';
import { runEnable } from './cdc-command.js';
import { applyConnector } from './connectors-command.js';
import { listenForStopSignal } from './stop-signal.js';
import { formatTable } from './table.js';

/**
 * `cdc-sync demo`: the quick start's main job, the real chain (`demo/run.ts`). Progress goes to stderr, the read
 * models to stdout each time they change; Ctrl-C (or SIGTERM) stops everything the demo started. `--fixtures`
 * replays recorded Debezium records instead (no PostgreSQL or Connect); `--docker` runs the same chain on SQL Server
 * 2022 from docker-compose.yml and needs a Docker engine with Compose (without one it fails, saying so).
 */
export function createDemoCommand(): Command {
  return new Command('demo')
    .description(
      'Run the whole chain locally: sample ERP on PostgreSQL, Debezium in Kafka Connect, the pipeline, live ERP traffic, and the read models as they change',
    )
    .option('--once', 'exit once the traffic is done and the read models are in sync, instead of running until Ctrl-C')
    .option('--fixtures', 'replay recorded Debezium records instead of running PostgreSQL and Kafka Connect')
    .option(
      '--docker',
      'run the chain on SQL Server 2022 started through Docker Compose (docker-compose.yml) instead of the native PostgreSQL stand-in',
    )
    .action(async (options: DemoOptions) => {
      const say = (line: string): void => void process.stderr.write(`${line}\n`);
      await runDemo(options, {
        say,
        formatReadModels: formatSnapshot,
        listenForStop: () => listenForStopSignal(),
        enableCdc: (target, env, enable) =>
          runEnable(target, { env, write: say, connect: createMssqlExecutor }, enable),
        applyConnector: (config, env) => applyConnector(config, { env, write: say }),
      });
    });
}

/** The read models as two short tables. */
export function formatSnapshot(snapshot: ReadModelSnapshot): string {
  const availability = formatTable([
    ['SKU', 'LOCATION', 'ON HAND', 'RESERVED', 'AVAILABLE', 'FLAGS'],
    ...snapshot.availability.map((row) => [
      row.sku,
      row.location,
      row.onHand,
      row.reserved,
      row.available,
      row.flags.join(','),
    ]),
  ]);
  const orders = formatTable([
    ['ORDER', 'STATUS', 'LINES', 'PAYMENTS', 'SHIPMENTS', 'TRACKING', 'MILESTONES'],
    ...snapshot.orders.map((row) => [
      row.orderNumber,
      row.status,
      String(row.lines),
      String(row.payments),
      String(row.shipments),
      row.trackingNumbers.join(','),
      row.milestones.join(','),
    ]),
  ]);
  return `inventory_availability\n${availability}\n\norder_view\n${orders}`;
}
