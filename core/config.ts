import { z } from 'zod';
import { ConfigError } from './errors.js';
import { isSecretKey, REDACTED, redactText } from './redact.js';

// How a config is validated, whichever schema it has: the key paths and bad values of every problem at once, the
// environment references, durations. The schemas themselves belong to the components that read them; the pipeline's
// composed schema is the application's (`ops/pipeline-config.ts`).

const DURATION_UNITS_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A duration such as `90s`, `30m`, `48h` or `7d`, parsed to milliseconds; a
 * plain number is taken as milliseconds, so a parsed config written back out
 * loads again.
 */
export const durationSchema = z.union(
  [
    z.number().int().nonnegative(),
    z
      .string()
      .regex(/^\d+[smhd]$/, 'expected a whole number and a unit s, m, h or d, e.g. 48h')
      .transform(
        (text) => Number(text.slice(0, -1)) * DURATION_UNITS_MS[text.at(-1) as keyof typeof DURATION_UNITS_MS],
      ),
  ],
  { error: 'expected a whole number and a unit s, m, h or d, e.g. 48h, or a number of milliseconds' },
);

/**
 * The config schemas of the components a pipeline may run, by registry name: the composition (the CLI) passes its
 * registries, so that every configured transform's and sink's own settings are checked with the rest of the file.
 */
export type ComponentSchemas = {
  readonly transforms: Readonly<Record<string, z.ZodType>>;
  readonly sinks: Readonly<Record<string, z.ZodType>>;
};

/**
 * Validates an already parsed config object against `schema`, after replacing `${NAME}` and `${NAME:-default}` in its
 * strings with the environment; `origin` names where it came from in errors. With `components`, each section under
 * `transforms` and `sinks` is checked too: a name no registry knows, and every setting its own schema refuses. Every
 * problem of the whole config is reported at once, in one `ConfigError`, each with its key path.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): z.output<S> {
  const value = interpolateEnv(raw, [], origin, env);
  const result = schema.safeParse(value);
  const problems = [
    ...(result.success ? [] : issueLines(result.error.issues, value, [])),
    ...(components === undefined ? [] : componentProblems(value, components)),
  ];
  if (problems.length > 0) throw configError(problems, origin);
  return result.data!;
}

/**
 * Validates one config value with its schema; on failure throws a `ConfigError`
 * naming every refused key path (below `keyPrefix`), the origin and the bad
 * values. Used for the whole file and for each transform's and sink's own section.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  value: unknown,
  keyPrefix: readonly PropertyKey[],
  origin: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw configError(issueLines(result.error.issues, value, keyPrefix), origin);
}

/** One problem: where, what, and the bad value (redacted under a secret key). */
type ConfigProblem = { readonly path: readonly PropertyKey[]; readonly message: string };

function issueLines(
  issues: readonly z.core.$ZodIssue[],
  value: unknown,
  keyPrefix: readonly PropertyKey[],
): ConfigProblem[] {
  return issues.map((issue) => {
    const path = [...keyPrefix, ...issue.path];
    const bad = valueAt(value, issue.path);
    const shown =
      bad === undefined || path.length === 0
        ? ''
        : ` (got ${path.some((part) => typeof part === 'string' && isSecretKey(part)) ? REDACTED : redactText(JSON.stringify(bad))})`;
    return { path, message: `${issue.message}${shown}` };
  });
}

/** Unknown component names and refused settings under `transforms` and `sinks`, where those sections are maps. */
function componentProblems(value: unknown, components: ComponentSchemas): ConfigProblem[] {
  if (value === null || typeof value !== 'object') return [];
  return (['transforms', 'sinks'] as const).flatMap((section) => {
    const entries = (value as Record<string, unknown>)[section];
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return [];
    const known = components[section];
    return Object.entries(entries).flatMap(([name, settings]): ConfigProblem[] => {
      const schema = known[name];
      if (schema === undefined) {
        const kind = section === 'transforms' ? 'transform' : 'sink';
        return [
          {
            path: [section, name],
            message: `Unknown ${kind} ${JSON.stringify(name)}; known: ${Object.keys(known).join(', ')}`,
          },
        ];
      }
      if (settings === false || settings === null || typeof settings !== 'object') return [];
      const result = schema.safeParse(settings);
      return result.success ? [] : issueLines(result.error.issues, settings, [section, name]);
    });
  });
}

/** One problem keeps the one-line form; several are listed, one per line. */
function configError(problems: readonly ConfigProblem[], origin: string): ConfigError {
  if (problems.length === 1) {
    const [only] = problems;
    return new ConfigError(`Invalid config at ${formatPath(only!.path)} in ${origin}: ${only!.message}`);
  }
  return new ConfigError(
    [
      `Invalid config in ${origin}, ${problems.length} problems:`,
      ...problems.map((problem) => `  at ${formatPath(problem.path)}: ${problem.message}`),
    ].join('\n'),
  );
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolateEnv(value: unknown, path: PropertyKey[], origin: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const resolved = env[name];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`Environment variable ${name} is not set, referenced at ${formatPath(path)} in ${origin}`);
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, [...path, i], origin, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, [...path, key], origin, env)]),
    );
  }
  return value;
}

/** `kafka.brokers[0]` style key paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
