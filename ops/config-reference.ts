import { z } from 'zod';
import { pipelineConfigSchema } from './pipeline-config.js';

type JsonSchema = {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
};

/**
 * The configuration reference as a Markdown table, generated from the zod
 * schema so that the docs cannot drift from the code: one row per setting
 * with its key path, type, default and description.
 */
export function renderConfigReference(): string {
  const root = z.toJSONSchema(pipelineConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = [
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...settings(root, []).map(
      ({ path, schema }) =>
        `| \`${path}\` | ${typeLabel(schema)} | ${schema.default === undefined ? '(none)' : `\`${JSON.stringify(schema.default)}\``} | ${schema.description ?? ''} |`,
    ),
  ];
  return rows.join('\n');
}

function settings(schema: JsonSchema, path: readonly string[]): { path: string; schema: JsonSchema }[] {
  if (schema.type === 'object' && schema.properties !== undefined) {
    return Object.entries(schema.properties).flatMap(([key, child]) => settings(child, [...path, key]));
  }
  return [{ path: path.join('.'), schema }];
}

function typeLabel(schema: JsonSchema): string {
  if (schema.enum !== undefined) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (schema.type === 'array') return `list of ${schema.items?.type ?? 'values'}`;
  if (schema.type === 'object') return 'map by name';
  if (schema.anyOf !== undefined) return schema.anyOf.map(typeLabel).join(' or ');
  return schema.type ?? 'any';
}
