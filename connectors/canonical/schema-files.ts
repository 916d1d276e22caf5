import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EventStream } from '../../core/canonical.js';

/**
 * The canonical event schemas on disk: `schemas/canonical/<name>.avsc` is the
 * current schema of a stream, `schemas/history/<name>/v<n>.avsc` its released
 * versions. The files are the contract (see `schemas/README.md`); the codec
 * reads them at start-up.
 */
export const CANONICAL_SCHEMA_NAMES = {
  inventory: 'inventory-event',
  order: 'order-event',
} as const satisfies Record<EventStream, string>;

/** One released version of a schema. */
export type SchemaVersionFile = {
  readonly version: number;
  readonly path: string;
  readonly schema: unknown;
};

/**
 * The `schemas/` folder: the nearest one above this module that holds
 * `schemas/canonical/`. That is the repository's from source and from `dist/`
 * (the image copies `schemas/` beside `dist/`). Throws an `Error` naming the
 * start folder when there is none.
 */
export function schemasDirectory(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let folder = start; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'schemas', 'canonical'))) return join(folder, 'schemas');
    if (dirname(folder) === folder) throw new Error(`No schemas/canonical folder above ${start}`);
  }
}

/** The current schema of a stream, parsed. Throws an `Error` naming the file when it is missing or not JSON. */
export function readCanonicalSchema(stream: EventStream): unknown {
  return readJson(join(schemasDirectory(), 'canonical', `${CANONICAL_SCHEMA_NAMES[stream]}.avsc`));
}

/**
 * The released versions of a stream's schema, oldest first. Throws an
 * `Error` for a file in the history folder not named `v<n>.avsc`, or for a
 * gap in the numbering (versions are released in order and never deleted).
 */
export function readSchemaHistory(stream: EventStream): readonly SchemaVersionFile[] {
  const folder = join(schemasDirectory(), 'history', CANONICAL_SCHEMA_NAMES[stream]);
  if (!existsSync(folder)) return [];
  const versions = readdirSync(folder)
    .map((file) => {
      const match = /^v([1-9]\d*)\.avsc$/.exec(file);
      if (match === null) throw new Error(`Unexpected file ${join(folder, file)}; history files are named v<n>.avsc`);
      return { version: Number(match[1]), path: join(folder, file) };
    })
    .sort((a, b) => a.version - b.version);
  for (const [index, { version, path }] of versions.entries()) {
    if (version !== index + 1) throw new Error(`Schema history ${folder} skips version ${index + 1} before ${path}`);
  }
  return versions.map((file) => ({ ...file, schema: readJson(file.path) }));
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new Error(`Cannot read schema file ${path}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`Invalid JSON in schema file ${path}: ${detail}`, { cause: error });
  }
}
