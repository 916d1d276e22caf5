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
