import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_STREAM } from '../core/canonical.js';
import { type SinkDefinition } from './mongo/definition.js';
import { sinks } from './index.js';

const sinksDir = fileURLToPath(new URL('.', import.meta.url));
const mongoDir = join(sinksDir, 'mongo');

/** `order_view` -> `order-view`. */
const kebab = (name: string) => name.replaceAll('_', '-');

const entries = Object.entries(sinks) as [string, SinkDefinition][];

/** Every module in `mongo/` that exports a sink definition (helpers export none). */
async function definitionFiles(): Promise<string[]> {
  const files = readdirSync(mongoDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  const withDefinitions: string[] = [];
  for (const file of files) {
    const module = await importModule(file);
    if (Object.values(module).some(isDefinition)) withDefinitions.push(file);
  }
  return withDefinitions.sort();
}

/** A module of `mongo/` by file name; the name is only known at run time. */
async function importModule(file: string): Promise<Record<string, unknown>> {
  return (await import(/* @vite-ignore */ join(mongoDir, file))) as Record<string, unknown>;
}

function isDefinition(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'configSchema' in value && 'create' in value;
}

describe('sink registry', () => {
  it.each(entries)('%s is named after its key', (key, definition) => {
    expect(definition.name).toBe(key);
    expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it.each(entries)('%s has a one-line summary', (_key, definition) => {
    expect(definition.summary.trim()).not.toBe('');
    expect(definition.summary).not.toContain('\n');
  });

  it.each(entries)('%s has a config schema whose defaults parse from {}', (_key, definition) => {
    expect(definition.configSchema.safeParse({}).success).toBe(true);
  });

  it.each(entries)('%s describes every config key', (_key, definition) => {
    for (const [name, property] of configProperties(definition)) expect(property.description, name).toBeTruthy();
  });

  it.each(entries)('%s declares its canonical input types', (_key, definition) => {
    expect(definition.input.length).toBeGreaterThan(0);
    for (const eventType of definition.input) expect(Object.keys(EVENT_STREAM)).toContain(eventType);
    expect(new Set(definition.input).size).toBe(definition.input.length);
  });

  it.each(entries)('%s is idempotent, as the runner requires to retry whole batches', (_key, definition) => {
    expect(definition.requirements.idempotent).toBe(true);
  });

  it.each(entries)(
    '%s lives in mongo/<kebab-name>.ts, exports its definition and has a test beside it',
    async (key, definition) => {
      const file = join(mongoDir, `${kebab(key)}.ts`);
      expect(existsSync(file)).toBe(true);
      expect(existsSync(file.replace(/\.ts$/, '.test.ts'))).toBe(true);
      const module = await importModule(`${kebab(key)}.ts`);
      expect(Object.values(module)).toContain(definition);
    },
  );

  it('registers every sink file', async () => {
    const registered = entries.map(([key]) => `${kebab(key)}.ts`).sort();
    expect(await definitionFiles()).toEqual(registered);
  });
});

describe('sinks/README.md', () => {
  it('lists every sink with its input and config', async () => {
    const path = join(sinksDir, 'README.md');
    const current = readFileSync(path, 'utf8');
    const start = current.indexOf(GENERATED_START);
    const end = current.indexOf(GENERATED_END);
    expect(start, `${GENERATED_START} marker in ${path}`).toBeGreaterThan(-1);
    expect(end, `${GENERATED_END} marker in ${path}`).toBeGreaterThan(start);
    const updated = await format(
      `${current.slice(0, start + GENERATED_START.length)}\n\n${renderSinks()}\n\n${current.slice(end)}`,
      { ...(await resolveConfig(path)), filepath: path },
    );
    if (updated !== current && process.env['UPDATE_SINK_DOCS'] === '1') writeFileSync(path, updated);
    // On failure: UPDATE_SINK_DOCS=1 npx vitest run --project unit sinks/index.test.ts
    else expect(current).toBe(updated);
  });
});

const GENERATED_START = '<!-- generated from the registry by sinks/index.test.ts: start -->';
const GENERATED_END = '<!-- generated: end -->';

type ConfigProperty = {
  readonly default?: unknown;
  readonly description?: string;
  readonly properties?: Record<string, ConfigProperty>;
};

/** The config keys of a sink with their defaults and descriptions, nested keys dotted, from its zod schema. */
function configProperties(definition: SinkDefinition): [string, ConfigProperty][] {
  const schema = z.toJSONSchema(definition.configSchema, { io: 'input', unrepresentable: 'any' }) as ConfigProperty;
  const flatten = (prefix: string, property: ConfigProperty): [string, ConfigProperty][] => [
    [prefix, property],
    ...Object.entries(property.properties ?? {}).flatMap(([name, child]) => flatten(`${prefix}.${name}`, child)),
  ];
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => flatten(name, property));
}

function renderSinks(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = entries.map(([key, definition]) => {
    const config = configProperties(definition)
      .filter(([, property]) => property.properties === undefined)
      .map(([name, property]) => `\`${name}\` = \`${JSON.stringify(property.default)}\`: ${property.description ?? ''}`)
      .join('<br>');
    return [`[\`${key}\`](mongo/${kebab(key)}.ts)`, definition.input.join(', '), definition.summary, config]
      .map(cell)
      .join(' | ');
  });
  return ['| Sink | Input | Summary | Config |', '| --- | --- | --- | --- |', ...rows.map((row) => `| ${row} |`)].join(
    '\n',
  );
}
