import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { type CanonicalEventType, EVENT_STREAM } from '../../core/canonical.js';
import { ConfigError } from '../../core/errors.js';
import { type StageTestRun } from './run.js';

/**
 * The expected events file of `cdc-sync test`: YAML (`.yaml`, `.yml`) or JSON, either a list of canonical events or
 * `{ events: [...], deadLetters: [...] }` when some records are meant to be dead-lettered.
 *
 * An event gives `meta.eventType`, `meta.aggregateKey` and the whole `payload`. The other meta fields (`eventId`,
 * `sourceTable`, `sourcePosition`, `sourceCommittedAt`, `correlationId`) are compared only when the event states them:
 * a file written by hand can leave them out, and one written by `--update` states them all, so that a change to
 * event ids (they are derived from source table, key, position and event type, `core/event-id.ts`) shows too.
 * A dead letter gives the `stage` (or `decode`) and the error `message`.
 */
const metaSchema = z.strictObject({
  eventType: z.enum(Object.keys(EVENT_STREAM) as [CanonicalEventType, ...CanonicalEventType[]], {
    error: `expected one of ${Object.keys(EVENT_STREAM).join(', ')}`,
  }),
  aggregateKey: z.string({ error: 'expected a string' }),
  eventId: z.string({ error: 'expected a string' }).optional(),
  sourceTable: z.string({ error: 'expected a string' }).optional(),
  sourcePosition: z.string({ error: 'expected a string' }).optional(),
  sourceCommittedAt: z.number({ error: 'expected a number' }).optional(),
  correlationId: z.string({ error: 'expected a string' }).optional(),
});

const expectedEventSchema = z.strictObject({
  meta: metaSchema,
  payload: z.record(z.string(), z.unknown(), { error: 'expected an object' }),
});

const expectedDeadLetterSchema = z.strictObject({
  stage: z.string({ error: 'expected a string' }),
  message: z.string({ error: 'expected a string' }),
});

const expectedFileSchema = z.union(
  [
    z.array(expectedEventSchema),
    z.strictObject({
      events: z.array(expectedEventSchema).default([]),
      deadLetters: z.array(expectedDeadLetterSchema).default([]),
    }),
  ],
  { error: 'expected a list of events, or an object with events and deadLetters' },
);

/** One expected event as the file gives it. */
export type ExpectedEvent = z.output<typeof expectedEventSchema>;

/** One expected dead letter. */
export type ExpectedDeadLetter = z.output<typeof expectedDeadLetterSchema>;

/** An expected events file, read. */
export type Expected = {
  readonly path: string;
  readonly events: readonly ExpectedEvent[];
  readonly deadLetters: readonly ExpectedDeadLetter[];
};

/**
 * Parses an expected events file; `path` names it in errors and decides the syntax. Throws a `ConfigError` naming the
 * file and the entry, e.g. `expected.yaml [2].meta.eventType: expected one of StockLevelChanged, …`.
 */
export function parseExpected(text: string, path: string): Expected {
  const yaml = isYaml(path);
  let raw: unknown;
  try {
    raw = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${path}: invalid ${yaml ? 'YAML' : 'JSON'} (${detail})`, { cause: error });
  }
  if (raw !== null && raw !== undefined && typeof raw !== 'object') {
    throw new ConfigError(`${path}: expected a list of events, or an object with events and deadLetters`);
  }
  const parsed = expectedFileSchema.safeParse(raw ?? []);
  if (!parsed.success) {
    // A union reports the branch the input was closest to: a list's problems for a list, the object's for an object.
    const issues = parsed.error.issues.flatMap((issue) =>
      issue.code === 'invalid_union' && issue.errors.length > 0
        ? (issue.errors[Array.isArray(raw) ? 0 : 1] ?? issue.errors[0]!)
        : [issue],
    );
    const lines = issues.slice(0, 20).map((issue) => `${path} ${pathText(issue.path)}: ${issue.message}`);
    throw new ConfigError(lines.join('\n'));
  }
  const file = parsed.data;
  return Array.isArray(file)
    ? { path, events: file, deadLetters: [] }
    : { path, events: file.events, deadLetters: file.deadLetters };
}

/**
 * The text `--update` writes: the run's events with their whole meta, as a list, or as `{ events, deadLetters }` when
 * records were dead-lettered; YAML or JSON by the file's extension.
 */
export function renderExpected(run: Pick<StageTestRun, 'events' | 'deadLetters'>, path: string): string {
  const events = run.events.map(({ event }) => ({ meta: { ...event.meta }, payload: { ...event.payload } }));
  const deadLetters = run.deadLetters.map(({ stage, message }) => ({ stage, message }));
  const document = deadLetters.length === 0 ? events : { events, deadLetters };
  return isYaml(path)
    ? stringifyYaml(document, { lineWidth: 0, singleQuote: true })
    : `${JSON.stringify(document, null, 2)}\n`;
}

function isYaml(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** `[2].meta.eventType`, `events[0].payload`: an index in brackets, keys after dots. */
function pathText(path: readonly PropertyKey[]): string {
  const text = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return text.startsWith('.') ? text.slice(1) : text || '(root)';
}
