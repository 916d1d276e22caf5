import { type PipelineConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { apicurioAvroConverterConfig } from './converters.js';

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
export function buildConnectorConfig(
  config: Pick<PipelineConfig, 'source' | 'connector' | 'kafka' | 'schemaRegistry'>,
  password: string,
): ConnectorConfig {
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
export function signalDataCollection(config: Pick<PipelineConfig, 'source' | 'connector'>): string {
  const kind = generatedConnector(config.source.connector);
  return (
    config.connector.signalDataCollection ??
    (kind === 'sqlserver' ? `${config.source.database}.dbo.DebeziumSignal` : 'public.debezium_signal')
  );
}

/** The password from the environment variable `connector.passwordEnv`; a `ConfigError` naming the variable when unset. */
export function connectorPassword(config: Pick<PipelineConfig, 'connector'>, env: NodeJS.ProcessEnv): string {
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

function generatedConnector(connector: PipelineConfig['source']['connector']): GeneratedConnector {
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
  flavour: PipelineConfig['connector']['converter'],
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
