import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { type SchemaRegistryConfig } from '../avro/confluent-decoder.js';
import { type SourceConfig } from '../debezium/source-config.js';
import { type KafkaConfig } from '../kafka/client.js';
import { apicurioAvroConverterConfig } from './converters.js';

/**
 * The pipeline's `connector` section: the Kafka Connect connector that writes the source topics, and how it reaches
 * the ERP database. {@link buildConnectorConfig} turns it, with the `source` section, into Debezium's settings.
 */
export const connectorConfigSchema = z.object({
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
});

/** The validated `connector` section. */
export type ConnectorSettings = z.output<typeof connectorConfigSchema>;

/** The sections of the pipeline config a connector is built from. */
export type ConnectorSections = {
  readonly source: SourceConfig;
  readonly connector: ConnectorSettings;
  readonly kafka: Pick<KafkaConfig, 'brokers'>;
  readonly schemaRegistry: SchemaRegistryConfig;
};

/**
 * The Debezium source connector's Kafka Connect config, generated from the
 * pipeline config (`source`, `connector`, `kafka.brokers`,
 * `schemaRegistry.url`), so the topics the connector writes and the topics
 * the pipeline reads are named by one file.
 *
 * The password is never in the pipeline config: it is read from the
 * environment variable `connector.passwordEnv` when the config is applied, and
 * {@link redactConnectorConfig} hides it in everything printed. (Kafka
 * Connect's `${env:VAR}` config provider would keep it out of Connect's REST
 * API too, but only where the worker was started with
 * `config.providers=env`; the local worker is not.)
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-connector-properties
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-connector-properties
 * @see https://debezium.io/documentation/reference/stable/configuration/avro.html
 */
export type ConnectorConfig = Readonly<Record<string, string>>;

/** Debezium's connector classes, by `source.connector`. */
export const CONNECTOR_CLASS = {
  sqlserver: 'io.debezium.connector.sqlserver.SqlServerConnector',
  postgresql: 'io.debezium.connector.postgresql.PostgresConnector',
} as const;

/** Confluent's Avro converter: the setting against a Confluent Schema Registry (not installed in the local worker). */
export const CONFLUENT_AVRO_CONVERTER = 'io.confluent.connect.avro.AvroConverter';

/** What replaces the password in printed configs. */
export const REDACTED = '********';

const PASSWORD_KEY = 'database.password';
const DEFAULT_PORT = { sqlserver: 1433, postgresql: 5432 } as const;

/** The source connectors cdc-sync can register; MySQL topics are read, but its connector is not generated. */
export type GeneratedConnector = keyof typeof CONNECTOR_CLASS;

/**
 * The connector config for the pipeline config, with `password` as
 * `database.password`. Throws a `ConfigError` for a source connector this
 * module does not generate (mysql).
 */
export function buildConnectorConfig(config: ConnectorSections, password: string): ConnectorConfig {
  const { source, connector } = config;
  const kind = generatedConnector(source.connector);
  const common: Record<string, string> = {
    'connector.class': CONNECTOR_CLASS[kind],
    'tasks.max': '1',
    'topic.prefix': source.topicPrefix,
    'database.hostname': connector.host,
    'database.port': String(connector.port ?? DEFAULT_PORT[kind]),
    'database.user': connector.user,
    [PASSWORD_KEY]: password,
    'table.include.list': source.tables.join(','),
    'snapshot.mode': connector.snapshotMode,
    'provide.transaction.metadata': 'true',
    'heartbeat.interval.ms': String(connector.heartbeatIntervalMs),
    'signal.data.collection': signalDataCollection(config),
    'tombstones.on.delete': 'true',
    'decimal.handling.mode': 'precise',
    ...converterConfig('key.converter', connector.converter, config.schemaRegistry.url),
    ...converterConfig('value.converter', connector.converter, config.schemaRegistry.url),
  };
  if (kind === 'sqlserver') {
    return {
      ...common,
      'database.names': source.database,
      'database.encrypt': String(connector.encrypt),
      'schema.history.internal.kafka.bootstrap.servers': config.kafka.brokers.join(','),
      'schema.history.internal.kafka.topic': connector.schemaHistoryTopic ?? `${source.topicPrefix}.schema-history`,
    };
  }
  return {
    ...common,
    'database.dbname': source.database,
    'plugin.name': 'pgoutput',
    'slot.name': connector.slotName,
    'publication.name': connector.publicationName,
    'publication.autocreate.mode': connector.publicationAutocreateMode,
  };
}

/** The signal table, as Debezium names it: `<db>.<schema>.<table>` for SQL Server, `<schema>.<table>` for PostgreSQL. */
export function signalDataCollection(config: Pick<ConnectorSections, 'source' | 'connector'>): string {
  const kind = generatedConnector(config.source.connector);
  return (
    config.connector.signalDataCollection ??
    (kind === 'sqlserver' ? `${config.source.database}.dbo.DebeziumSignal` : 'public.debezium_signal')
  );
}

/** The password from the environment variable `connector.passwordEnv`; a `ConfigError` naming the variable when unset. */
export function connectorPassword(config: Pick<ConnectorSections, 'connector'>, env: NodeJS.ProcessEnv): string {
  const name = config.connector.passwordEnv;
  const password = env[name];
  if (password === undefined || password === '') {
    throw new ConfigError(
      `Environment variable ${name} is not set; it holds the database password of connector ${config.connector.name} (connector.passwordEnv)`,
    );
  }
  return password;
}

/** The config with every password-like value replaced by {@link REDACTED}, for printing. */
export function redactConnectorConfig(config: ConnectorConfig): ConnectorConfig {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, /password|secret/i.test(key) ? REDACTED : value]),
  );
}

function generatedConnector(connector: SourceConfig['connector']): GeneratedConnector {
  if (connector === 'sqlserver' || connector === 'postgresql') return connector;
  throw new ConfigError(
    `Cannot generate a connector config for source.connector ${connector}; supported: sqlserver, postgresql`,
  );
}

/**
 * Avro key or value converter settings writing Confluent framing to the
 * registry: Apicurio's converter against the local Apicurio registry (its
 * Confluent API URL, ending in /apis/ccompat/v7), or Confluent's
 * `AvroConverter` with `schema.registry.url` against a Confluent registry.
 */
function converterConfig(
  prefix: 'key.converter' | 'value.converter',
  flavour: ConnectorSettings['converter'],
  registryUrl: string,
): Record<string, string> {
  if (flavour === 'confluent') {
    return { [prefix]: CONFLUENT_AVRO_CONVERTER, [`${prefix}.schema.registry.url`]: registryUrl };
  }
  try {
    return apicurioAvroConverterConfig(prefix, registryUrl);
  } catch (error: unknown) {
    throw new ConfigError(
      `Invalid schemaRegistry.url ${registryUrl} for connector.converter apicurio: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
