import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CANONICAL_TOPICS } from './canonical.js';
import { ConfigError } from './errors.js';
import { isSecretKey, REDACTED, redactText } from './redact.js';
import { backoffConfigSchema } from './runner/backoff.js';

/** The tables of the sample ERP, captured by default. */
export const SAMPLE_ERP_TABLES = [
  'dbo.InventoryBalance',
  'dbo.SalesOrderHeader',
  'dbo.SalesOrderLine',
  'dbo.PaymentTransaction',
  'dbo.Shipment',
  'dbo.ReturnAuthorization',
  'dbo.Refund',
] as const;

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
 * The pipeline configuration, declared once: defaults, descriptions and the
 * TypeScript type all come from this schema. Strings may reference the
 * environment as `${NAME}` or `${NAME:-default}`, so secrets stay out of the
 * file.
 */
/** The Debezium connectors whose topics the pipeline reads. */
export const SOURCE_CONNECTORS = ['sqlserver', 'postgresql', 'mysql'] as const;

/** How the source's table and column names map onto the names stages expect. */
export const NAME_MAPPINGS = ['as-is', 'snake-to-pascal'] as const;

export const pipelineConfigSchema = z
  .object({
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('pino log level'),
    stopTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(15_000)
      .describe(
        'Longest a stop (SIGTERM, SIGINT) waits for in-flight batches to finish and commit; then it abandons them without committing their offsets (they are read again after a restart), logs them, and cdc-sync run exits 1. Keep it below the grace period of the supervisor (Kubernetes: 30 s)',
      ),
    kafka: z
      .object({
        brokers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:9092']).describe('Bootstrap brokers, host:port'),
        clientId: z.string().min(1).default('cdc-sync').describe('Kafka client id'),
        topicPartitions: z
          .number()
          .int()
          .positive()
          .default(1)
          .describe('Partitions of topics the pipeline creates because they are missing at start-up'),
        maxBytesPerPartition: z
          .number()
          .int()
          .positive()
          .default(1_048_576)
          .describe(
            'Most bytes fetched per partition at once; bounds the size of one batch (one transaction, one bulk write)',
          ),
        maxRequestBytes: z
          .number()
          .int()
          .positive()
          .default(1_048_576)
          .describe(
            "Most bytes of records one produce request carries, as the Java producer's max.request.size; a batch's outputs are split into requests within it and within each topic's max.message.bytes, and a record larger on its own is dead-lettered",
          ),
        sessionTimeoutMs: z
          .number()
          .int()
          .min(6_000)
          .default(30_000)
          .describe(
            "Consumer group session timeout: a worker whose heartbeats stop this long is evicted from its group and its partitions go to the others; at least the broker's group.min.session.timeout.ms (6 s by default)",
          ),
        ssl: z.boolean().default(false).describe('Connect to the brokers over TLS'),
        sasl: z
          .object({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism'),
            username: z.string().min(1).describe('SASL user name'),
            password: z
              .string()
              .min(1)
              .describe('SASL password; write ${KAFKA_SASL_PASSWORD} so it stays out of the file. Redacted in logs'),
          })
          .strict()
          .optional()
          .describe('SASL authentication to the brokers; none when absent'),
      })
      .prefault({}),
    schemaRegistry: z
      .object({
        url: z
          .url()
          .default('http://127.0.0.1:8081/apis/ccompat/v7')
          .describe('Base URL of the Confluent-compatible schema registry API'),
      })
      .prefault({}),
    mongodb: z
      .object({
        uri: z
          .string()
          .min(1)
          .default('mongodb://127.0.0.1:27017/')
          .describe('MongoDB connection string; use ${MONGODB_URI} for credentials'),
        database: z.string().min(1).default('cdc_sync').describe('Database of the read models'),
      })
      .prefault({}),
    source: z
      .object({
        connector: z
          .enum(SOURCE_CONNECTORS)
          .default('sqlserver')
          .describe('The Debezium connector that writes the source topics'),
        topicPrefix: z.string().min(1).default('erp').describe("The connector's topic.prefix"),
        database: z.string().min(1).default('ErpDemo').describe('The ERP database name, as in the topic names'),
        tables: z
          .array(z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected schema.table'))
          .min(1)
          .default([...SAMPLE_ERP_TABLES])
          .describe('Captured tables as schema.table'),
        names: z
          .enum(NAME_MAPPINGS)
          .optional()
          .describe(
            'How table and column names of the source map onto the names transforms expect (SQL Server PascalCase): snake-to-pascal turns sales_order_header into SalesOrderHeader; default snake-to-pascal for postgresql, as-is otherwise',
          ),
      })
      .prefault({}),
    connector: z
      .object({
        name: z.string().min(1).default('cdc-sync-erp').describe('Kafka Connect connector name'),
        connectUrl: z.url().default('http://127.0.0.1:8083').describe('Kafka Connect REST API base URL'),
        host: z.string().min(1).default('127.0.0.1').describe('ERP database host, as the Connect worker reaches it'),
        port: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('ERP database port; default 1433 for sqlserver, 5432 for postgresql'),
        user: z.string().min(1).default('cdc').describe('ERP database login of the connector'),
        passwordEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
          .default('ERP_DB_PASSWORD')
          .describe(
            'Environment variable holding the database password, read when the connector is applied and never printed',
          ),
        snapshotMode: z
          .enum(['initial', 'initial_only', 'no_data', 'when_needed', 'always'])
          .default('initial')
          .describe("Debezium's snapshot.mode"),
        heartbeatIntervalMs: z
          .number()
          .int()
          .nonnegative()
          .default(10_000)
          .describe("Debezium's heartbeat.interval.ms; 0 disables heartbeats"),
        converter: z
          .enum(['apicurio', 'confluent'])
          .default('apicurio')
          .describe(
            "Avro converter writing Confluent framing to schemaRegistry.url: apicurio (Apicurio's AvroConverter, for the local Apicurio registry) or confluent (io.confluent.connect.avro.AvroConverter with schema.registry.url)",
          ),
        slotName: z
          .string()
          .regex(/^[a-z0-9_]+$/, 'expected lower-case letters, digits and underscores')
          .default('cdc_sync')
          .describe('PostgreSQL only: the replication slot (unique per server)'),
        publicationName: z
          .string()
          .min(1)
          .default('dbz_publication')
          .describe('PostgreSQL only: the publication pgoutput reads; the sample DDL creates dbz_publication'),
        publicationAutocreateMode: z
          .enum(['disabled', 'all_tables', 'filtered', 'no_tables'])
          .default('disabled')
          .describe(
            "PostgreSQL only: Debezium's publication.autocreate.mode; disabled uses the publication the DDL created with its explicit table list",
          ),
        encrypt: z
          .boolean()
          .default(true)
          .describe(
            "SQL Server only: Debezium's database.encrypt (TLS to the database); false for the docker-compose SQL Server's self-signed certificate",
          ),
        schemaHistoryTopic: z
          .string()
          .min(1)
          .optional()
          .describe('SQL Server only: the schema history topic; default <source.topicPrefix>.schema-history'),
        signalDataCollection: z
          .string()
          .min(1)
          .optional()
          .describe(
            'The signal table; default ErpDemo.dbo.DebeziumSignal (sqlserver, with source.database) or public.debezium_signal (postgresql)',
          ),
      })
      .prefault({}),
    topics: z
      .object({
        inventory: z.string().min(1).default(CANONICAL_TOPICS.inventory).describe('Canonical inventory events'),
        order: z.string().min(1).default(CANONICAL_TOPICS.order).describe('Canonical order events'),
        deadLetter: z
          .string()
          .min(1)
          .default('cdc-sync.dlq')
          .describe('Records that cannot be decoded, transformed or written'),
      })
      .prefault({}),
    transform: z
      .object({
        groupId: z.string().min(1).default('cdc-sync-transform').describe('Consumer group of the transform workers'),
        transactionalId: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Kafka transactional id, stable per worker instance so a restart fences its predecessor; default cdc-sync-transform-<hostname>',
          ),
      })
      .prefault({}),
    sink: z
      .object({
        groupId: z.string().min(1).default('cdc-sync-sink').describe('Consumer group of the sink workers'),
      })
      .prefault({}),
    transforms: z
      .record(z.string(), z.union([z.literal(false), z.record(z.string(), z.unknown())]))
      .default({})
      .describe('Per-transform config by registry name; false disables one. Unlisted transforms run with defaults'),
    sinks: z
      .record(z.string(), z.union([z.literal(false), z.record(z.string(), z.unknown())]))
      .default({})
      .describe('Per-sink config by registry name; false disables one. Unlisted sinks run with defaults'),
    backoff: backoffConfigSchema.prefault({}),
    ops: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /metrics, /healthz, /readyz and the ops dashboard'),
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Address the ops server binds; keep 127.0.0.1 unless a scraper must reach it from elsewhere'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(9464)
          .describe('Port of the ops server; 0 picks a free one (logged at start-up)'),
        probeIntervalMs: z
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe('Time between readiness probes of each dependency (Kafka, the registry, MongoDB)'),
        probeTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(1_500)
          .describe('Longest a readiness probe may take before the dependency counts as down'),
      })
      .prefault({}),
    stalled: z
      .object({
        awaitingPayment: durationSchema
          .prefault('24h')
          .describe('An order accepted this long ago without a captured payment is stalled'),
        awaitingShipment: durationSchema
          .prefault('48h')
          .describe('An order whose payment was captured this long ago without a shipment is stalled'),
        awaitingRefund: durationSchema
          .prefault('72h')
          .describe('A return received this long ago without a refund is stalled'),
      })
      .prefault({})
      .describe('Thresholds per waiting state for `cdc-sync stalled` and the dashboard, as 90s, 30m, 48h or 7d'),
  })
  .strict();

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;

/**
 * Reads, interpolates and validates a YAML or JSON config file. Throws a
 * `ConfigError` naming the file, the key path and the bad value.
 */
export function loadPipelineConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new ConfigError(
      `Cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error: unknown) {
    throw new ConfigError(
      `Invalid YAML or JSON in config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return parsePipelineConfig(raw, path, env, components);
}

/**
 * The config schemas of the components a pipeline may run, by registry name: the composition (the CLI) passes its
 * registries, so that every configured transform's and sink's own settings are checked with the rest of the file.
 */
export type ComponentSchemas = {
  readonly transforms: Readonly<Record<string, z.ZodType>>;
  readonly sinks: Readonly<Record<string, z.ZodType>>;
};

/**
 * Validates an already parsed config object; `origin` names where it came from in errors. With `components`, each
 * section under `transforms` and `sinks` is checked too: a name no registry knows, and every setting its own schema
 * refuses. Every problem of the whole config is reported at once, in one `ConfigError`, each with its key path.
 */
export function parsePipelineConfig(
  raw: unknown,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): PipelineConfig {
  const value = interpolateEnv(raw, [], origin, env);
  const result = pipelineConfigSchema.safeParse(value);
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

/** The Debezium topic of a captured table, e.g. `erp.ErpDemo.dbo.SalesOrderHeader`. */
export function sourceTopic(source: PipelineConfig['source'], table: string): string {
  return source.connector === 'postgresql'
    ? `${source.topicPrefix}.${table}`
    : `${source.topicPrefix}.${source.database}.${table}`;
}

/** The transform worker's transactional id: configured, or derived from the host name. */
export function transactionalIdOf(config: PipelineConfig): string {
  return config.transform.transactionalId ?? `cdc-sync-transform-${hostname()}`;
}
