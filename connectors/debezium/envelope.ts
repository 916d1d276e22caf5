import { z } from 'zod';
import {
  type ChangeEvent,
  ENVELOPE_FIELDS,
  isOp,
  type Row,
  type SourceInfo,
  type TableRef,
  type Tombstone,
  type TransactionInfo,
} from '../../core/envelope.js';
import { ConfigError, DecodeError } from '../../core/errors.js';
import { mysqlPosition, postgresPosition, sqlServerPosition } from '../../core/position.js';
import { type SourceConfig, sourceConfigSchema } from './source-config.js';

/**
 * Turns decoded Debezium records (key and value as `confluent-decoder.ts`
 * hands them out) into the pipeline's {@link ChangeEvent}, so that nothing
 * downstream sees how SQL Server, PostgreSQL and MySQL differ: the table
 * comes from the topic name, the position from the connector's own source
 * fields. Its settings are the pipeline's `source` section (`source-config.ts`)
 * with its defaults; `database` is optional here, needed for PostgreSQL only.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-events
 * @see https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events
 * @see https://debezium.io/documentation/reference/stable/connectors/mysql.html#mysql-events
 */
export const envelopeReaderConfigSchema = sourceConfigSchema
  .pick({ connector: true, topicPrefix: true, names: true, schemas: true })
  .extend({
    database: sourceConfigSchema.shape.database
      .unwrap()
      .optional()
      .describe("PostgreSQL only: the connector's database.dbname, naming the database of tombstones"),
    heartbeatTopicsPrefix: z
      .string()
      .min(1)
      .default('__debezium-heartbeat')
      .describe("The connector's topic.heartbeat.prefix"),
    transactionTopic: z
      .string()
      .min(1)
      .default('transaction')
      .describe("The connector's topic.transaction: metadata goes to <topic.prefix>.<topic.transaction>"),
  })
  .refine((config) => config.connector !== 'postgresql' || config.database !== undefined, {
    message: 'database is required for the postgresql connector',
    path: ['database'],
  });

export type EnvelopeReaderConfig = z.input<typeof envelopeReaderConfigSchema>;

/** Why a record carries no row change; such records are skipped, not failed. */
export const IGNORE_REASON = {
  heartbeat: 'heartbeat',
  schemaChange: 'schema-change',
  transactionMetadata: 'transaction-metadata',
} as const;

export type IgnoreReason = (typeof IGNORE_REASON)[keyof typeof IGNORE_REASON];

/** A decoded Kafka record: key and value as decoded (null when the Kafka key or value was null). */
export type DebeziumRecord = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: unknown;
  readonly value: unknown;
  /** Full name of the value's writer schema, when known; recognises schema-change, heartbeat and transaction values by name. */
  readonly valueSchemaName?: string | undefined;
};

/** What a record turned out to be. */
export type EnvelopeResult =
  | { readonly kind: 'change'; readonly event: ChangeEvent }
  | (Tombstone & { readonly table: TableRef })
  | { readonly kind: 'ignored'; readonly reason: IgnoreReason; readonly detail: string };

/**
 * Reads the records of one connector. `read` returns a change, a tombstone
 * (null value), or an ignorable record with its reason (heartbeats, schema
 * changes, transaction metadata); it throws a `DecodeError` naming the field
 * for a malformed envelope, an unknown op, a bad position, or a topic that
 * does not belong to the connector.
 */
export type EnvelopeReader = { readonly read: (record: DebeziumRecord) => EnvelopeResult };

/** Throws a `ConfigError` naming the key path of an invalid setting. */
export function createEnvelopeReader(config: EnvelopeReaderConfig): EnvelopeReader {
  const parsed = envelopeReaderConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid envelope reader setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const settings = parsed.data;
  const { topicPrefix, connector } = settings;
  const rename = sourceRenamer(connector, settings.names);
  const schemaOf = (name: string) => settings.schemas[name] ?? name;
  function names(row: Row): Row;
  function names(row: Row | null): Row | null;
  function names(row: Row | null): Row | null {
    return rename === undefined || row === null ? row : renameColumns(row, rename);
  }
  const heartbeatTopic = `${settings.heartbeatTopicsPrefix}.${topicPrefix}`;
  const transactionTopic = `${topicPrefix}.${settings.transactionTopic}`;

  return {
    read(record) {
      const where = `${record.topic}[${record.partition}]@${record.offset}`;
      const fail = (message: string) =>
        new DecodeError(`${message} in record ${where}`, {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        });

      const ignored = ignoredReason(record);
      if (ignored !== undefined) return { kind: 'ignored', ...ignored };

      const topicTable = parseTopic(record.topic, fail);
      if (record.value === null || record.value === undefined) {
        const database = topicTable.database ?? settings.database!;
        return {
          kind: 'tombstone',
          key: names(asRow(record.key, 'key', fail) ?? {}),
          table: { ...topicTable, database },
        };
      }

      const value = asRow(record.value, 'value', fail)!;
      if (isSchemaChangeValue(value)) {
        return {
          kind: 'ignored',
          reason: IGNORE_REASON.schemaChange,
          detail: `Schema change event on ${record.topic}`,
        };
      }
      const op = value[ENVELOPE_FIELDS.op];
      if (op === undefined) throw fail('Missing field op');
      if (!isOp(op)) throw fail(`Invalid op ${JSON.stringify(op)} in field op`);
      const source = asRow(value[ENVELOPE_FIELDS.source], 'source', fail);
      if (source === null) throw fail('Missing field source');
      const fields = sourceFields(source, fail);
      checkSourceTable(record.topic, fields, fail);
      const database = topicTable.database ?? fields.string('db');

      return {
        kind: 'change',
        event: {
          op,
          table: { ...topicTable, database },
          key: names(asRow(record.key, 'key', fail) ?? {}),
          before: names(asRow(value[ENVELOPE_FIELDS.before], 'before', fail)),
          after: names(asRow(value[ENVELOPE_FIELDS.after], 'after', fail)),
          source: sourceInfo(fields),
          position: position(fields, fail),
          tsMs: asSafeNumber(value[ENVELOPE_FIELDS.tsMs], 'ts_ms', fail, true) ?? fields.number('ts_ms'),
          transaction: transactionInfo(value[ENVELOPE_FIELDS.transaction], fail),
        },
      };
    },
  };

  function ignoredReason(record: DebeziumRecord): { reason: IgnoreReason; detail: string } | undefined {
    const name = record.valueSchemaName ?? '';
    if (record.topic === heartbeatTopic || name === 'io.debezium.connector.common.Heartbeat') {
      return { reason: IGNORE_REASON.heartbeat, detail: `Heartbeat on ${record.topic}` };
    }
    if (record.topic === transactionTopic || name === 'io.debezium.connector.common.TransactionMetadataValue') {
      return { reason: IGNORE_REASON.transactionMetadata, detail: `Transaction metadata on ${record.topic}` };
    }
    if (record.topic === topicPrefix || name.endsWith('.SchemaChangeValue')) {
      return { reason: IGNORE_REASON.schemaChange, detail: `Schema change event on ${record.topic}` };
    }
    return undefined;
  }

  /**
   * Throws unless the record's own source block names the table its topic is for. The reader takes the table from
   * the topic, so a record of another database, schema or table on that topic (a misrouted topic, a routing SMT)
   * would otherwise be read as a change of the topic's table. Names are compared as Debezium puts them into topic
   * names (characters other than letters, digits, `.`, `_` and `-` become `_`); a field the connector leaves out is
   * not compared.
   *
   * @see https://debezium.io/documentation/reference/stable/configuration/topic-auto-create-config.html
   */
  function checkSourceTable(topic: string, fields: SourceFields, fail: Fail): void {
    const parts = topic.slice(topicPrefix.length + 1).split('.');
    const compared = { sqlserver: ['db', 'schema', 'table'], postgresql: ['schema', 'table'], mysql: ['db', 'table'] }[
      connector
    ];
    const named = compared.map((field) => fields.optionalString(field));
    const differs = named.some((name, i) => name !== undefined && name.replace(TOPIC_NAME_REPLACED, '_') !== parts[i]);
    if (differs) {
      const source = named.map((name, i) => name ?? parts[i]).join('.');
      throw fail(`Source table ${source} is not the table ${parts.join('.')} of the topic`);
    }
  }

  /** `<prefix>.<db>.<schema>.<table>` (SQL Server), `<prefix>.<schema>.<table>` (PostgreSQL), `<prefix>.<db>.<table>` (MySQL). */
  function parseTopic(topic: string, fail: Fail): Omit<TableRef, 'database'> & { database: string | undefined } {
    const parts = topic.startsWith(`${topicPrefix}.`) ? topic.slice(topicPrefix.length + 1).split('.') : [];
    const where = (expected: string) =>
      fail(`Topic ${topic} is not ${topicPrefix}.${expected} of the ${connector} connector`);
    switch (connector) {
      case 'sqlserver':
        if (parts.length !== 3) throw where('<db>.<schema>.<table>');
        return {
          server: topicPrefix,
          database: parts[0]!,
          schema: schemaOf(parts[1]!),
          table: rename === undefined ? parts[2]! : rename(parts[2]!),
        };
      case 'postgresql':
        if (parts.length !== 2) throw where('<schema>.<table>');
        return {
          server: topicPrefix,
          database: undefined,
          schema: schemaOf(parts[0]!),
          table: rename === undefined ? parts[1]! : rename(parts[1]!),
        };
      case 'mysql':
        if (parts.length !== 2) throw where('<db>.<table>');
        // MySQL has no schemas within a database; the database doubles as the schema.
        return {
          server: topicPrefix,
          database: parts[0]!,
          schema: schemaOf(parts[0]!),
          table: rename === undefined ? parts[1]! : rename(parts[1]!),
        };
    }
  }

  function position(fields: SourceFields, fail: Fail): ChangeEvent['position'] {
    try {
      switch (connector) {
        case 'sqlserver': {
          const commitLsn = fields.optionalString('commit_lsn');
          if (commitLsn === undefined) throw fail('Missing field source.commit_lsn');
          return sqlServerPosition({
            commitLsn,
            changeLsn: fields.optionalString('change_lsn') ?? null,
            eventSerialNo: fields.optionalNumber('event_serial_no') ?? null,
          });
        }
        case 'postgresql': {
          const [lastCommitLsn, sequenceLsn] = postgresSequence(fields, fail);
          const lsn = fields.optionalBigint('lsn') ?? sequenceLsn;
          if (lsn === undefined) throw fail('Missing field source.lsn');
          return postgresPosition({ commitLsn: lastCommitLsn ?? 0n, lsn });
        }
        case 'mysql':
          return mysqlPosition({ file: fields.string('file'), pos: fields.number('pos'), row: fields.number('row') });
      }
    } catch (error: unknown) {
      // core/position.ts names the bad value and field in a RangeError; the record location is ours to add.
      if (error instanceof RangeError) throw fail(error.message);
      throw error;
    }
  }
}

type Fail = (message: string) => DecodeError;

/** Characters Debezium's default topic naming replaces with `_` in topic names. */
const TOPIC_NAME_REPLACED = /[^A-Za-z0-9._-]/g;

/**
 * `sales_order_header` → `SalesOrderHeader`, `qty_on_hand` → `QtyOnHand`:
 * PostgreSQL's lower snake_case names as the SQL Server ERP spells them, the
 * names transforms are written against. Names without underscores only get
 * their first letter upper-cased (`sku` → `Sku`); names already in PascalCase
 * stay as they are.
 */
export function snakeToPascal(name: string): string {
  return name
    .split('_')
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** How a source's table and column names map onto the names transforms expect (`source.names`). */
export type SourceNaming = 'as-is' | 'snake-to-pascal';

/**
 * The renaming of a source's table and column names for `names`, or, when unset, the connector's default:
 * snake-to-pascal for postgresql (the sample ERP's snake_case names), as-is for the others. Undefined for as-is, so
 * callers can skip renaming.
 */
export function sourceRenamer(
  connector: EnvelopeReaderConfig['connector'],
  names: SourceNaming | undefined,
): ((name: string) => string) | undefined {
  return (names ?? (connector === 'postgresql' ? 'snake-to-pascal' : 'as-is')) === 'snake-to-pascal'
    ? snakeToPascal
    : undefined;
}

/**
 * The table as the envelope reader names its changes, for a captured table of `source.tables` (`schema.table` as
 * the source names it): the schema as `source.schemas` maps it, the table renamed for `source.names`.
 */
export function capturedTableRef(source: SourceConfig, captured: string): TableRef {
  const [schema, table] = captured.split('.') as [string, string];
  const rename = sourceRenamer(source.connector, source.names);
  return {
    server: source.topicPrefix,
    database: source.connector === 'mysql' ? schema : source.database,
    schema: source.schemas[schema] ?? schema,
    table: rename === undefined ? table : rename(table),
  };
}

/** The row with its column names renamed, values and column order kept. */
function renameColumns(row: Row, rename: (name: string) => string): Row {
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [rename(column), value])) as Row;
}

type SourceFields = ReturnType<typeof sourceFields>;

/** Typed access to `source.*`, each failure naming the field. */
function sourceFields(source: Row, fail: Fail) {
  const field = (name: string) => source[name] ?? undefined;
  const optionalString = (name: string): string | undefined => {
    const value = field(name);
    if (value === undefined || typeof value === 'string') return value;
    throw fail(`Invalid field source.${name} ${String(value)}, expected a string`);
  };
  const optionalNumber = (name: string): number | undefined => asSafeNumber(field(name), `source.${name}`, fail, true);
  const optionalBigint = (name: string): bigint | undefined => {
    const value = field(name);
    if (value === undefined || typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    throw fail(`Invalid field source.${name} ${String(value)}, expected an integer`);
  };
  const required = <T>(name: string, value: T | undefined): T => {
    if (value === undefined) throw fail(`Missing field source.${name}`);
    return value;
  };
  return {
    raw: source,
    optionalString,
    optionalNumber,
    optionalBigint,
    string: (name: string) => required(name, optionalString(name)),
    number: (name: string) => required(name, optionalNumber(name)),
  };
}

function sourceInfo(fields: SourceFields): SourceInfo {
  const snapshot = fields.optionalString('snapshot');
  const info: Record<string, unknown> = {
    connector: fields.string('connector'),
    tsMs: fields.number('ts_ms'),
    // Debezium's snapshot marker is an enum: true, first, last, incremental… or false while streaming.
    snapshot: snapshot !== undefined && snapshot !== 'false',
  };
  const optional: [keyof SourceInfo, unknown][] = [
    ['commitLsn', fields.optionalString('commit_lsn')],
    ['changeLsn', fields.optionalString('change_lsn')],
    ['eventSerialNo', fields.optionalNumber('event_serial_no')],
    ['lsn', fields.optionalBigint('lsn')?.toString()],
    ['file', fields.optionalString('file')],
    ['pos', fields.optionalNumber('pos')],
    ['row', fields.optionalNumber('row')],
  ];
  for (const [key, value] of optional) if (value !== undefined) info[key] = value;
  return info as SourceInfo;
}

/** PostgreSQL's `source.sequence`: a JSON array `["<last commit LSN>", "<LSN>"]` of decimal strings or nulls. */
function postgresSequence(fields: SourceFields, fail: Fail): [bigint | undefined, bigint | undefined] {
  const text = fields.optionalString('sequence');
  if (text === undefined) return [undefined, undefined];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const lsn = (entry: unknown): bigint | undefined => {
    if (entry === null) return undefined;
    if (typeof entry === 'string' && /^\d+$/.test(entry)) return BigInt(entry);
    throw fail(`Invalid field source.sequence ${JSON.stringify(text)}`);
  };
  if (!Array.isArray(parsed) || parsed.length !== 2)
    throw fail(`Invalid field source.sequence ${JSON.stringify(text)}`);
  return [lsn(parsed[0]), lsn(parsed[1])];
}

function transactionInfo(raw: unknown, fail: Fail): TransactionInfo | null {
  const block = asRow(raw, 'transaction', fail);
  if (block === null) return null;
  const id = block['id'];
  if (typeof id !== 'string') throw fail(`Invalid field transaction.id ${String(id)}, expected a string`);
  return {
    id,
    totalOrder: asSafeNumber(block['total_order'], 'transaction.total_order', fail, false)!,
    dataCollectionOrder: asSafeNumber(
      block['data_collection_order'],
      'transaction.data_collection_order',
      fail,
      false,
    )!,
  };
}

/** A decoded record (plain object) or null; anything else is a malformed envelope. */
function asRow(value: unknown, name: string, fail: Fail): Row | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) return value as Row;
  throw fail(`Invalid field ${name} ${String(value)}, expected a record`);
}

/** Avro longs arrive as bigints; positions and timestamps in `core/` are numbers, so they must fit exactly. */
function asSafeNumber(value: unknown, name: string, fail: Fail, optional: boolean): number | undefined {
  if (value === null || value === undefined) {
    if (optional) return undefined;
    throw fail(`Missing field ${name}`);
  }
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (
    typeof number !== 'number' ||
    !Number.isSafeInteger(number) ||
    (typeof value === 'bigint' && BigInt(number) !== value)
  ) {
    throw fail(`Invalid field ${name} ${String(value)}, expected an integer below 2^53`);
  }
  return number;
}

function isSchemaChangeValue(value: Row): boolean {
  // SchemaChangeValue has source, ts_ms, databaseName, schemaName, ddl and tableChanges, but no op.
  return value[ENVELOPE_FIELDS.op] === undefined && 'tableChanges' in value && 'ddl' in value;
}
