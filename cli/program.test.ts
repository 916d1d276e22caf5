import { describe, expect, it } from 'vitest';
import { PIPELINE_VERSION } from '../core/version.js';
import { createProgram } from './program.js';

describe('the cdc-sync command line', () => {
  it('lists its commands in --help', () => {
    const help = createProgram().helpInformation();
    expect(help).toMatch(/^Usage: cdc-sync \[options\] \[command\]/);
    expect(help).toMatch(/^ {2}stack\s+Run the local stack of real services/m);
  });

  it.each([
    [['stack', 'up'], 'Install (cached), start and wait until every service is healthy; harmless when already up'],
    [['stack', 'down'], 'Stop every service of the stack and wait until its ports are free'],
    [
      ['stack', 'status'],
      'List each service with its ports, PID, health, endpoint and log file; exits 1 unless all are healthy',
    ],
  ])('describes %j', (path, description) => {
    const command = path.reduce((parent, name) => parent.commands.find((c) => c.name() === name)!, createProgram());
    expect(command.description()).toBe(description);
  });

  it('reports the pipeline version', async () => {
    const program = createProgram().exitOverride();
    let output = '';
    program.configureOutput({ writeOut: (text) => (output += text) });
    await expect(program.parseAsync(['node', 'cdc-sync', '--version'])).rejects.toMatchObject({
      code: 'commander.version',
    });
    expect(output).toBe(`${PIPELINE_VERSION}\n`);
  });
});
