import { Command } from 'commander';
import { PIPELINE_VERSION } from '../core/version.js';
import { createCdcCommand } from './cdc-command.js';
import { createConnectorsCommand } from './connectors-command.js';
import { createDemoCommand } from './demo-command.js';
import { createDlqCommand } from './dlq-command.js';
import { createProduceFixturesCommand } from './produce-fixtures-command.js';
import { createRebuildCommand } from './rebuild-command.js';
import { createReconcileCommand } from './reconcile-command.js';
import { createRunCommand } from './run-command.js';
import { createStackCommand } from './stack-command.js';
import { createStalledCommand } from './stalled-command.js';
import { createTestCommand } from './test-command.js';

/** Builds the `cdc-sync` command line. Each subcommand lives in a module of its own. */
export function createProgram(): Command {
  return new Command('cdc-sync')
    .description(
      'Change-data-capture synchronization: ERP row changes from Debezium on Kafka become canonical events and MongoDB read models',
    )
    .version(PIPELINE_VERSION)
    .addCommand(createDemoCommand())
    .addCommand(createRunCommand())
    .addCommand(createProduceFixturesCommand())
    .addCommand(createTestCommand())
    .addCommand(createStackCommand())
    .addCommand(createConnectorsCommand())
    .addCommand(createCdcCommand())
    .addCommand(createRebuildCommand())
    .addCommand(createReconcileCommand())
    .addCommand(createStalledCommand())
    .addCommand(createDlqCommand());
}
