import { ConfigError } from '../../core/errors.js';

/** A table as `schema.table`, parts unquoted. */
export type TableName = { readonly schema: string; readonly name: string };

/** Longest identifier SQL Server accepts (`sysname`). */
const MAX_IDENTIFIER = 128;

/**
 * Quotes an identifier the way `QUOTENAME` does: in brackets, with `]` doubled, so any name (spaces, quotes,
 * semicolons, brackets) stays one identifier. Throws `ConfigError` for an empty name or one over 128 characters.
 *
 * @see https://learn.microsoft.com/sql/t-sql/functions/quotename-transact-sql
 */
export function quoteName(name: string): string {
  if (name.length === 0 || name.length > MAX_IDENTIFIER) {
    throw new ConfigError(`Identifier ${JSON.stringify(name)} must be 1 to ${MAX_IDENTIFIER} characters long`);
  }
  return `[${name.replace(/]/g, ']]')}]`;
}

/** A Unicode string literal, `N'…'`, with every `'` doubled: the value can never end the literal early. */
export function quoteLiteral(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}

/** `[schema].[table]`. */
export function quoteTable(table: TableName): string {
  return `${quoteName(table.schema)}.${quoteName(table.name)}`;
}

/** `schema.table`, unquoted, as users write it. */
export function tableLabel(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

/**
 * Parses `schema.table` as given in `source` (e.g. `--tables` or `source.tables`). Both parts are required;
 * brackets around a part are removed. Throws `ConfigError` naming the value and its source otherwise.
 */
export function parseTableName(value: string, source: string): TableName {
  const parts = value.trim().split('.');
  const [schema, name] = parts.map((part) => part.replace(/^\[(.*)\]$/, '$1'));
  if (parts.length !== 2 || schema === undefined || name === undefined || schema === '' || name === '') {
    throw new ConfigError(`Table ${JSON.stringify(value)} in ${source} is not schema.table, e.g. dbo.Item`);
  }
  return { schema, name };
}

/** True when both name the same table; SQL Server's default collations compare identifiers case-insensitively. */
export function sameTable(a: TableName, b: TableName): boolean {
  return a.schema.toLowerCase() === b.schema.toLowerCase() && a.name.toLowerCase() === b.name.toLowerCase();
}

/**
 * The connector's signal table, Debezium's `signal.data.collection` (`database.schema.table` for SQL Server): a row
 * inserted there asks the connector for an ad-hoc snapshot. `source` says where the name came from, for messages.
 *
 * @see https://debezium.io/documentation/reference/stable/configuration/signalling.html
 */
export type SignalTable = { readonly database: string; readonly table: TableName; readonly source: string };

/**
 * Parses a signal table named as in `source`: `database.schema.table`, as Debezium's SQL Server connector names it,
 * or `schema.table` in `defaultDatabase`. Brackets around a part are removed. Throws `ConfigError` naming the value
 * and its source otherwise.
 */
export function parseSignalTable(value: string, defaultDatabase: string, source: string): SignalTable {
  const parts = value
    .trim()
    .split('.')
    .map((part) => part.replace(/^\[(.*)\]$/, '$1'));
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((part) => part === '')) {
    throw new ConfigError(
      `Signal table ${JSON.stringify(value)} in ${source} is not database.schema.table or schema.table, e.g. ErpDemo.dbo.DebeziumSignal`,
    );
  }
  const [schema, name] = parts.slice(-2) as [string, string];
  return { database: parts.length === 3 ? parts[0]! : defaultDatabase, table: { schema, name }, source };
}

/** `database.schema.table`, unquoted, as `signal.data.collection` names it. */
export function signalTableLabel(signal: SignalTable): string {
  return `${signal.database}.${tableLabel(signal.table)}`;
}

/**
 * `CREATE TABLE` for a signal table with the columns Debezium's source signalling channel reads, as
 * devtools/sql/sqlserver/enable-cdc.sql creates `dbo.DebeziumSignal`: `id VARCHAR(42)` primary key (named
 * `PK_<table>`), `type VARCHAR(32) NOT NULL`, `data VARCHAR(2048) NULL`.
 *
 * @see https://debezium.io/documentation/reference/stable/configuration/signalling.html#debezium-signaling-data-collection-structure
 */
export function createSignalTableStatement(table: TableName): string {
  return `CREATE TABLE ${quoteTable(table)} ([id] VARCHAR(42) NOT NULL CONSTRAINT ${quoteName(`PK_${table.name}`)} PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);`;
}
