import { type Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePipelineConfig } from '../ops/pipeline-config.js';
import { ConfigError } from '../core/errors.js';
import { REDACTED } from '../core/redact.js';
import { createProgram } from './program.js';

/** Secret values a user's environment may hold while they read help or hit a config error. */
const SECRET_ENV = {
  MONGODB_URI: 'mongodb://reader:pw-env-1@db:27017/',
  ERP_DB_PASSWORD: 'pw-env-2',
  KAFKA_SASL_PASSWORD: 'pw-env-3',
  ERP_POSTGRES_URL: 'postgres://cdc:pw-env-4@127.0.0.1:5432/erp_demo',
} as const;

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap((sub) => allCommands(sub))];
}

describe('secrets stay out of --help and config errors', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('no command help shows a secret from the environment', () => {
    for (const [name, value] of Object.entries(SECRET_ENV)) vi.stubEnv(name, value);
    const commands = allCommands(createProgram());
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) expect(command.helpInformation()).not.toMatch(/pw-env-\d/);
  });

  it.each([
    [
      'a SASL password of the wrong type, by key name',
      { kafka: { sasl: { mechanism: 'plain', username: 'svc', password: 42 } } },
      `Invalid config at kafka.sasl.password in p.yaml: Invalid input: expected string, received number (got ${REDACTED})`,
    ],
    [
      'credentials inside a bad URL',
      { schemaRegistry: { url: 'http://svc:pw-file-1@' } },
      `Invalid config at schemaRegistry.url in p.yaml: Invalid URL (got "http://svc:${REDACTED}@")`,
    ],
  ])('%s', (_case, raw, message) => {
    expect(() => parsePipelineConfig(raw, 'p.yaml', {})).toThrow(new ConfigError(message));
  });

  it('a SASL password comes from the environment', () => {
    const config = parsePipelineConfig(
      { kafka: { sasl: { mechanism: 'scram-sha-512', username: 'svc', password: '${KAFKA_SASL_PASSWORD}' } } },
      'p.yaml',
      SECRET_ENV,
    );
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'pw-env-3' });
  });
});
