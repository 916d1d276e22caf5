import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type TransformDefinition } from '../core/stage.js';
import { EVENT_STREAM } from '../core/canonical.js';
import { transforms } from './index.js';

const transformsDir = fileURLToPath(new URL('.', import.meta.url));

/** `stock_level` -> `stock-level`. */
const kebab = (name: string) => name.replaceAll('_', '-');

/** Every stage file: `<domain>/<name>.ts`, tests excluded. Helpers at the top level are not stages. */
function stageFiles(): string[] {
  return readdirSync(transformsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((domain) =>
      readdirSync(join(transformsDir, domain.name))
        .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
        .map((file) => `${domain.name}/${file}`),
    )
    .sort();
}

const entries = Object.entries(transforms);

describe('transform registry', () => {
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

  it.each(entries)('%s declares its input tables and canonical outputs', (_key, definition) => {
    expect(definition.input.tables.length).toBeGreaterThan(0);
    // The sample ERP's tables live in SQL Server's dbo schema (`source.schemas` maps another source's schema onto it).
    for (const table of definition.input.tables) expect(table).toMatch(/^dbo\.[A-Z][A-Za-z]*$/);
    expect(definition.output.length).toBeGreaterThan(0);
    for (const eventType of definition.output) expect(Object.keys(EVENT_STREAM)).toContain(eventType);
  });

  it.each(entries)(
    '%s lives in <domain>/<kebab-name>.ts, exports its definition and has a test beside it',
    async (key, definition) => {
      const files = stageFiles().filter((file) => file.endsWith(`/${kebab(key)}.ts`));
      expect(files).toHaveLength(1);
      const file = files[0]!;
      expect(existsSync(join(transformsDir, file.replace(/\.ts$/, '.test.ts')))).toBe(true);
      const module: Record<string, unknown> = await import(`./${file.replace(/\.ts$/, '.js')}`);
      expect(Object.values(module)).toContain(definition);
    },
  );

  it('registers every stage file', () => {
    const registered = new Set(entries.map(([key]) => kebab(key)));
    const unregistered = stageFiles().filter((file) => !registered.has(file.replace(/^.*\//, '').replace(/\.ts$/, '')));
    expect(unregistered).toEqual([]);
  });

  // Event ids hash table, key, position and event type: two stages emitting one
  // event type from one table would give different events the same id.
  it('has no two transforms emitting the same event type from the same table', () => {
    const pairs = entries.flatMap(([, definition]) =>
      definition.input.tables.flatMap((table) => definition.output.map((eventType) => `${table} → ${eventType}`)),
    );
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});

describe('transforms/README.md', () => {
  it('lists every transform with its tables, events and config', async () => {
    const path = join(transformsDir, 'README.md');
    const current = readFileSync(path, 'utf8');
    const start = current.indexOf(GENERATED_START);
    const end = current.indexOf(GENERATED_END);
    expect(start, `${GENERATED_START} marker in ${path}`).toBeGreaterThan(-1);
    expect(end, `${GENERATED_END} marker in ${path}`).toBeGreaterThan(start);
    const updated = await format(
      `${current.slice(0, start + GENERATED_START.length)}\n\n${renderTransforms()}\n\n${current.slice(end)}`,
      { ...(await resolveConfig(path)), filepath: path },
    );
    if (updated !== current && process.env['UPDATE_TRANSFORM_DOCS'] === '1') writeFileSync(path, updated);
    // On failure: UPDATE_TRANSFORM_DOCS=1 npx vitest run --project unit transforms/index.test.ts
    else expect(current).toBe(updated);
  });
});

const GENERATED_START = '<!-- generated from the registry by transforms/index.test.ts: start -->';
const GENERATED_END = '<!-- generated: end -->';

type ConfigProperty = { readonly default?: unknown; readonly description?: string };

/** The config keys of a transform with their defaults and descriptions, from its zod schema. */
function configProperties(definition: TransformDefinition): [string, ConfigProperty][] {
  const schema = z.toJSONSchema(definition.configSchema, { io: 'input', unrepresentable: 'any' });
  return Object.entries((schema.properties ?? {}) as Record<string, ConfigProperty>);
}

function renderTransforms(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = entries.map(([key, definition]) => {
    const file = stageFiles().find((candidate) => candidate.endsWith(`/${kebab(key)}.ts`)) ?? '';
    const config = configProperties(definition)
      .map(([name, property]) => `\`${name}\` = \`${JSON.stringify(property.default)}\`: ${property.description ?? ''}`)
      .join('<br>');
    return [
      `[\`${key}\`](${file})`,
      definition.input.tables.map((table) => `\`${table}\``).join(', '),
      definition.output.join(', '),
      definition.summary,
      config === '' ? 'none' : config,
    ]
      .map(cell)
      .join(' | ');
  });
  return [
    '| Transform | Input table | Output events | What | Config keys (`= default`) |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}
