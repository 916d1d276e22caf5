import { type SourceColumn, type SourceTableDefinition } from '../../core/stage.js';

/**
 * The Avro schemas that Debezium's SQL Server connector (3.x) registers through
 * Confluent's AvroConverter, built from a table definition.
 *
 * Fixed connector settings this mirrors: `decimal.handling.mode=precise`,
 * `time.precision.mode=adaptive` (the default), `binary.handling.mode=bytes`,
 * `schema.name.adjustment.mode=none` (the 2.x+ default), and
 * `provide.transaction.metadata=true` (the `transaction` field is in the
 * envelope either way; the setting only decides whether it is filled).
 * AvroConverter runs with its defaults (`connect.meta.data=true`,
 * `enhanced.avro.schema.support=false`).
 *
 * The output is the JSON that Avro's Java `Schema.toString()` writes, key for
 * key and in the same order, which is what the registry stores: record keys
 * `type, name, namespace, fields` and then the `connect.*` properties;
 * a nested record omits its namespace when it equals the enclosing one and a
 * second use of a record is a reference by name (`"Value"`).
 *
 * Not modelled: column default values (Debezium copies a parsable default
 * into the field's `default` and `connect.default`), column comments, and
 * types other than those in {@link SQL_SERVER_TYPES}.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-transaction-metadata
 * @see https://docs.confluent.io/platform/current/schema-registry/connect.html
 */

/** One column as SQL Server declares it. */
export type SqlServerColumn = SourceColumn;

/** A captured table and the connector it is captured by: `server` is the connector's `topic.prefix`. */
export type SqlServerTable = SourceTableDefinition & { readonly server: string; readonly database: string };

export type SqlServerSchemaOptions = {
  /**
   * Debezium 3.1 added `connect.version: 1` to the `source` record
   * (DBZ-8499); 3.0 registers it without. Defaults to `3.1+`.
   */
  readonly debeziumVersion?: '3.0' | '3.1+';
};

/** An Avro schema as JSON: a type name, or an object / union in Avro's JSON form. */
export type AvroSchemaJson = string | readonly AvroSchemaJson[] | { readonly [key: string]: unknown };

/** The key and value schemas of one table's topic; `key` is null for a table without a primary key. */
export type SqlServerSchemas = {
  readonly topic: string;
  readonly key: AvroSchemaJson | null;
  readonly value: AvroSchemaJson;
};

/**
 * SQL Server types and how Debezium maps each (adaptive time precision,
 * precise decimals); `p` and `s` are the declared precision and scale.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sql-server-basic-values
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sql-server-temporal-values
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sql-server-decimal-values
 */
export const SQL_SERVER_TYPES = [
  'bit',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'real',
  'float',
  'decimal',
  'numeric',
  'money',
  'smallmoney',
  'char',
  'varchar',
  'nchar',
  'nvarchar',
  'text',
  'ntext',
  'uniqueidentifier',
  'xml',
  'binary',
  'varbinary',
  'image',
  'date',
  'time',
  'datetime',
  'smalldatetime',
  'datetime2',
  'datetimeoffset',
] as const;

/** The snapshot markers of Debezium 3.x, in `SnapshotRecord` order; the Avro schema lists them in `connect.parameters.allowed`. */
const SNAPSHOT_VALUES = 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental';

/**
 * Builds the key and value schemas for a table. Throws a `RangeError`
 * naming the column for a type outside {@link SQL_SERVER_TYPES}, a malformed
 * type, or a primary-key column that is not a column.
 */
export function buildSqlServerSchemas(table: SqlServerTable, options: SqlServerSchemaOptions = {}): SqlServerSchemas {
  const topic = `${table.server}.${table.database}.${table.schema}.${table.table}`;
  const columns = new Map(table.columns.map((column) => [column.name, column]));
  const keyFields = table.primaryKey.map((name) => {
    const column = columns.get(name);
    if (column === undefined)
      throw new RangeError(`Primary-key column ${JSON.stringify(name)} is not a column of ${topic}`);
    // Debezium builds the key from the same column definitions; SQL Server key columns are never nullable.
    return field(column.name, columnSchema(column, topic), false);
  });
  const valueRecord = {
    type: 'record',
    name: 'Value',
    fields: table.columns.map((column) => field(column.name, columnSchema(column, topic), column.nullable)),
    'connect.name': `${topic}.Value`,
  };
  const key =
    keyFields.length === 0
      ? null
      : { type: 'record', name: 'Key', namespace: topic, fields: keyFields, 'connect.name': `${topic}.Key` };
  const value = {
    type: 'record',
    name: 'Envelope',
    namespace: topic,
    fields: [
      optionalField('before', valueRecord),
      // The second use of a named type is a reference, relative to the enclosing namespace.
      optionalField('after', 'Value'),
      { name: 'source', type: sqlServerSourceSchema(options.debeziumVersion ?? '3.1+') },
      optionalField('transaction', transactionBlockSchema()),
      { name: 'op', type: 'string' },
      optionalField('ts_ms', 'long'),
      optionalField('ts_us', 'long'),
      optionalField('ts_ns', 'long'),
    ],
    'connect.version': 2,
    'connect.name': `${topic}.Envelope`,
  };
  return { topic, key, value };
}

/**
 * `io.debezium.connector.sqlserver.Source`: the common source fields of
 * every Debezium connector, then SQL Server's own.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-event-values
 */
export function sqlServerSourceSchema(debeziumVersion: '3.0' | '3.1+' = '3.1+'): AvroSchemaJson {
  return {
    type: 'record',
    name: 'Source',
    namespace: 'io.debezium.connector.sqlserver',
    fields: [
      ...commonSourceFields(),
      { name: 'schema', type: 'string' },
      { name: 'table', type: 'string' },
      optionalField('change_lsn', 'string'),
      optionalField('commit_lsn', 'string'),
      optionalField('event_serial_no', 'long'),
    ],
    ...(debeziumVersion === '3.1+' ? { 'connect.version': 1 } : {}),
    'connect.name': 'io.debezium.connector.sqlserver.Source',
  };
}

/** The fields every Debezium 3.x `Source` record starts with. */
export function commonSourceFields(): { readonly [key: string]: unknown }[] {
  return [
    { name: 'version', type: 'string' },
    { name: 'connector', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'ts_ms', type: 'long' },
    {
      name: 'snapshot',
      // An optional field with a non-null default puts the type first and null second.
      type: [
        {
          type: 'string',
          'connect.version': 1,
          'connect.parameters': { allowed: SNAPSHOT_VALUES },
          'connect.default': 'false',
          'connect.name': 'io.debezium.data.Enum',
        },
        'null',
      ],
      default: 'false',
    },
    { name: 'db', type: 'string' },
    optionalField('sequence', 'string'),
    optionalField('ts_us', 'long'),
    optionalField('ts_ns', 'long'),
  ];
}

/**
 * The `transaction` block (`event.block`), present whenever
 * `provide.transaction.metadata=true`.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-change-data-event-enrichment
 */
export function transactionBlockSchema(): AvroSchemaJson {
  return {
    type: 'record',
    name: 'block',
    namespace: 'event',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'total_order', type: 'long' },
      { name: 'data_collection_order', type: 'long' },
    ],
    'connect.version': 1,
    'connect.name': 'event.block',
  };
}

/** Parses `decimal(19, 4)` into its name and arguments. */
function parseType(type: string, where: string): { name: string; args: number[] } {
  const match = /^\s*([a-z0-9_]+)\s*(?:\(\s*(max|\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/i.exec(type);
  if (match === null) throw new RangeError(`Invalid SQL Server type ${JSON.stringify(type)} of ${where}`);
  const args = [match[2], match[3]].filter((arg): arg is string => arg !== undefined && arg !== 'max').map(Number);
  return { name: match[1]!.toLowerCase(), args };
}

function columnSchema(column: SqlServerColumn, topic: string): AvroSchemaJson {
  const where = `column ${column.name} of ${topic}`;
  const { name, args } = parseType(column.type, where);
  switch (name) {
    case 'bit':
      return 'boolean';
    case 'tinyint':
    case 'smallint':
      // Connect INT16 (tinyint is unsigned 0-255, so it needs 16 bits too); Avro has no int16.
      return { type: 'int', 'connect.type': 'int16' };
    case 'int':
      return 'int';
    case 'bigint':
      return 'long';
    case 'real':
      return 'float';
    case 'float':
      // float(1..24) is a REAL in SQL Server, float(25..53) a double.
      return args[0] !== undefined && args[0] <= 24 ? 'float' : 'double';
    case 'decimal':
    case 'numeric':
      return decimalSchema(args[0] ?? 18, args[1] ?? 0);
    case 'money':
      return decimalSchema(19, 4);
    case 'smallmoney':
      return decimalSchema(10, 4);
    case 'char':
    case 'varchar':
    case 'nchar':
    case 'nvarchar':
    case 'text':
    case 'ntext':
    case 'uniqueidentifier':
      // The JDBC driver reports uniqueidentifier as CHAR(36): a plain string, not io.debezium.data.Uuid.
      return 'string';
    case 'xml':
      return semantic('string', 'io.debezium.data.Xml');
    case 'binary':
    case 'varbinary':
    case 'image':
      return 'bytes';
    case 'date':
      return semantic('int', 'io.debezium.time.Date');
    case 'time':
      return adaptive(args[0] ?? 7, 'io.debezium.time.Time', 'io.debezium.time.MicroTime', 'io.debezium.time.NanoTime');
    case 'datetime':
    case 'smalldatetime':
      return semantic('long', 'io.debezium.time.Timestamp');
    case 'datetime2':
      return adaptive(
        args[0] ?? 7,
        'io.debezium.time.Timestamp',
        'io.debezium.time.MicroTimestamp',
        'io.debezium.time.NanoTimestamp',
      );
    case 'datetimeoffset':
      return semantic('string', 'io.debezium.time.ZonedTimestamp');
    default:
      throw new RangeError(`Unsupported SQL Server type ${JSON.stringify(column.type)} of ${where}`);
  }
}

/** `time.precision.mode=adaptive`: fractional-second precision 0-3 in ms (Time is an int), 4-6 in µs, 7 in ns. */
function adaptive(precision: number, millis: string, micros: string, nanos: string): AvroSchemaJson {
  if (precision <= 3) return semantic(millis === 'io.debezium.time.Time' ? 'int' : 'long', millis);
  return semantic('long', precision <= 6 ? micros : nanos);
}

function semantic(type: string, connectName: string): AvroSchemaJson {
  return { type, 'connect.version': 1, 'connect.name': connectName };
}

/** Connect's Decimal as AvroConverter writes it, properties in the order it adds them. */
function decimalSchema(precision: number, scale: number): AvroSchemaJson {
  return {
    type: 'bytes',
    scale,
    precision,
    'connect.version': 1,
    'connect.parameters': { scale: String(scale), 'connect.decimal.precision': String(precision) },
    'connect.name': 'org.apache.kafka.connect.data.Decimal',
    logicalType: 'decimal',
  };
}

function field(name: string, type: AvroSchemaJson, nullable: boolean): { readonly [key: string]: unknown } {
  return nullable ? optionalField(name, type) : { name, type };
}

/** A Connect optional field without a default: `["null", T]` with `default: null`. */
function optionalField(name: string, type: AvroSchemaJson): { readonly [key: string]: unknown } {
  return { name, type: ['null', type], default: null };
}
