import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ChangeEvent } from './envelope.js';
import { defineStage, skip, stageRegistry } from './stage.js';

const ctx = { logger: pino({ enabled: false }) };

const echo = defineStage({
  name: 'echo_status',
  summary: 'Skips every change, naming the configured status',
  tables: ['Shipment'],
  output: ['ShipmentDispatched'],
  config: z.strictObject({ status: z.string().default('SH').describe('A status') }),
  create:
    (config, { name }) =>
    () =>
      skip(`${name} saw ${config.status}`),
});

describe('defineStage', () => {
  it('gives the definition the registry and the runner use, from one declaration', () => {
    expect(echo).toMatchObject({
      name: 'echo_status',
      summary: 'Skips every change, naming the configured status',
      input: { tables: ['Shipment'] },
      output: ['ShipmentDispatched'],
    });
    expect(echo.configSchema.parse({})).toEqual({ status: 'SH' });
  });

  it('creates a stage named after it whose apply gets the parsed config and its name', () => {
    const stage = echo.create(echo.configSchema.parse({ status: 'DL' }), ctx);
    expect(stage.name).toBe('echo_status');
    expect(stage.apply({} as ChangeEvent)).toEqual({ kind: 'skip', reason: 'echo_status saw DL' });
  });
});

describe('stageRegistry', () => {
  it('keys each definition by its name', () => {
    expect(Object.keys(stageRegistry(echo))).toEqual(['echo_status']);
    expect(stageRegistry(echo).echo_status).toBe(echo);
  });

  it('refuses a name given twice', () => {
    expect(() => stageRegistry(echo, { ...echo })).toThrow(new Error('Two stages are named echo_status'));
  });
});
