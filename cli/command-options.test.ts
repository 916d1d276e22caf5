import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { configOption, loadCommandConfig, parseCount, requiredConfigOption } from './command-options.js';
import { createConnectorsCommand } from './connectors-command.js';
import { createDlqCommand } from './dlq-command.js';
import { createRebuildCommand } from './rebuild-command.js';
import { createReconcileCommand } from './reconcile-command.js';
import { createRunCommand } from './run-command.js';
import { createStalledCommand } from './stalled-command.js';

type ConfigOptionShape = { readonly description: string; readonly mandatory: boolean };

/** `--config` of a command and of each of its subcommands, by command path. */
function configOptions(command: Command, path = command.name()): [string, ConfigOptionShape][] {
  const own = command.options
    .filter((option) => option.long === '--config')
    .map((option): [string, ConfigOptionShape] => [
      path,
      { description: option.description, mandatory: option.mandatory },
    ]);
  return [...own, ...command.commands.flatMap((sub) => configOptions(sub, `${path} ${sub.name()}`))];
}

const optional = { description: configOption().description, mandatory: false };
const required = { description: requiredConfigOption().description, mandatory: true };

describe('--config', () => {
  it('is the same option, worded once, in every command that takes the pipeline config', () => {
    const commands = [
      createDlqCommand(),
      createStalledCommand(),
      createRebuildCommand(),
      createReconcileCommand(),
      createRunCommand(),
      createConnectorsCommand(),
    ];
    expect(Object.fromEntries(commands.flatMap((command) => configOptions(command)))).toEqual({
      'dlq list': optional,
      'dlq show': optional,
      'dlq replay': optional,
      stalled: optional,
      rebuild: optional,
      reconcile: optional,
      run: required,
      'connectors apply': required,
      'connectors status': required,
      'connectors restart': required,
      'connectors snapshot': required,
    });
    expect(optional.description).toBe(
      'pipeline config file (YAML or JSON; ${VAR} references read the environment); default: the built-in defaults, ' +
        'which point at the local stack',
    );
  });

  it('is refused by commander when a command needs it and it is missing', () => {
    const command = new Command('needs')
      .addOption(requiredConfigOption())
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .action(() => {});
    expect(() => command.parse([], { from: 'user' })).toThrow("required option '-c, --config <file>' not specified");
  });

  it('falls back to the sample ERP on the local stack, named as the origin, when it is optional and missing', async () => {
    const { config, origin } = await loadCommandConfig(undefined, {});
    expect(origin).toBe('the default config (no --config given: the sample ERP on the local stack)');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(Object.keys(config.transforms)).toEqual([
      'stock_level',
      'order_header',
      'order_line',
      'payment_captured',
      'shipment_dispatched',
      'return_received',
      'refund_completed',
    ]);
  });
});

describe('parseCount', () => {
  it.each([
    ['0', 0],
    ['5', 5],
    ['120', 120],
  ])('reads %s as %d', (text, count) => {
    expect(parseCount(text)).toBe(count);
  });

  it.each(['-1', '1.5', 'many', '9007199254740993'])('refuses %s, naming it', (text) => {
    expect(() => parseCount(text)).toThrow(`Expected a whole number of 0 or more, got ${JSON.stringify(text)}`);
  });
});
