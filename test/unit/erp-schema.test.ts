import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The sample ERP exists in two flavours that must not drift apart: the same
// tables and columns, SQL Server in PascalCase and PostgreSQL in snake_case.
// Neither database runs in unit tests, so the DDL is read as text.
const sqlDir = fileURLToPath(new URL('../../devtools/sql/', import.meta.url));
const read = (path: string) => readFileSync(join(sqlDir, path), 'utf8');

const sqlServerSchema = read('sqlserver/erp-schema.sql');
const sqlServerCdc = read('sqlserver/enable-cdc.sql');
const postgresSchema = read('postgres/erp-schema.sql');

/** `SalesOrderHeader` -> `sales_order_header`, `LineNo` -> `line_no`. */
function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '');
}

/** Unquotes `[LineNo]`, `"line_no"` and `dbo.Item` down to the bare name. */
function bareName(identifier: string): string {
  const last = identifier.split('.').pop() ?? identifier;
  return last.replace(/^[[\]"]|[[\]"]$/g, '');
}

/** Splits on commas outside parentheses, so `DECIMAL(19,4)` and `CHECK (x IN ('A', 'B'))` stay whole. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

const TABLE_CONSTRAINT = /^(CONSTRAINT|PRIMARY|FOREIGN|UNIQUE|CHECK)\b/i;

/** Maps each `CREATE TABLE` in a script to its column and constraint definitions, in declaration order. */
function tableDefinitions(sql: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  const text = stripComments(sql);
  const header = /CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.[\]"]+)\s*\(/gi;
  for (const match of text.matchAll(header)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < text.length) {
      if (text[end] === '(') depth += 1;
      if (text[end] === ')') depth -= 1;
      end += 1;
    }
    tables.set(bareName(match[1] ?? ''), splitTopLevel(text.slice(match.index + match[0].length, end - 1)));
  }
  return tables;
}

/** Maps each `CREATE TABLE` in a script to its column names, in declaration order. */
function createdTables(sql: string): Map<string, string[]> {
  return new Map(
    [...tableDefinitions(sql)].map(([table, definitions]) => [
      table,
      definitions
        .filter((definition) => !TABLE_CONSTRAINT.test(definition))
        .map((definition) => bareName(definition.split(/\s+/)[0] ?? '')),
    ]),
  );
}

/** Each table's primary-key columns, from an inline `PRIMARY KEY` or a table constraint. */
function primaryKeys(sql: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const [table, definitions] of tableDefinitions(sql)) {
    for (const definition of definitions) {
      const constraint = /^CONSTRAINT\s+\S+\s+PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(definition);
      if (constraint)
        keys.set(
          table,
          (constraint[1] ?? '').split(',').map((column) => bareName(column.trim())),
        );
      else if (!TABLE_CONSTRAINT.test(definition) && /\bPRIMARY\s+KEY\b/i.test(definition)) {
        keys.set(table, [bareName(definition.split(/\s+/)[0] ?? '')]);
      }
    }
  }
  return keys;
}

/** Each table's column-level foreign keys as `column -> Table.Column`. */
function foreignKeys(sql: string): Map<string, Record<string, string>> {
  const keys = new Map<string, Record<string, string>>();
  for (const [table, definitions] of tableDefinitions(sql)) {
    const references: Record<string, string> = {};
    for (const definition of definitions) {
      const reference = /\bREFERENCES\s+([\w.[\]"]+)\s*\(([^)]*)\)/i.exec(definition);
      if (reference === null || TABLE_CONSTRAINT.test(definition)) continue;
      const column = bareName(definition.split(/\s+/)[0] ?? '');
      references[column] = `${bareName(reference[1] ?? '')}.${bareName((reference[2] ?? '').trim())}`;
    }
    keys.set(table, references);
  }
  return keys;
}

function snakeCased(tables: Map<string, string[]>): Map<string, string[]> {
  return new Map([...tables].map(([table, columns]) => [snakeCase(table), columns.map(snakeCase)]));
}

// The signal table is created by enable-cdc.sql on SQL Server (it belongs to CDC
// set-up there) and by erp-schema.sql on PostgreSQL.
const sqlServerTables = new Map([...createdTables(sqlServerSchema), ...createdTables(sqlServerCdc)]);
const postgresTables = createdTables(postgresSchema);

const ERP_TABLES = [
  'Item',
  'Location',
  'InventoryBalance',
  'SalesOrderHeader',
  'SalesOrderLine',
  'PaymentTransaction',
  'Shipment',
  'ShipmentLine',
  'ReturnAuthorization',
  'Refund',
];

describe('sample ERP DDL', () => {
  it.each([
    ['SalesOrderHeader', 'sales_order_header'],
    ['LineNo', 'line_no'],
    ['RmaId', 'rma_id'],
    ['PspReference', 'psp_reference'],
    ['DebeziumSignal', 'debezium_signal'],
    ['id', 'id'],
  ])('snake-cases %s as %s', (pascal, snake) => {
    expect(snakeCase(pascal)).toBe(snake);
  });

  it('reads every table and its columns from the SQL Server script', () => {
    expect([...createdTables(sqlServerSchema).keys()]).toEqual(ERP_TABLES);
    expect(sqlServerTables.get('SalesOrderLine')).toEqual([
      'OrderNumber',
      'LineNo',
      'ItemId',
      'Sku',
      'Qty',
      'UnitPrice',
      'LineStatus',
      'LocationCode',
      'ModifiedAt',
    ]);
  });

  it('defines the same tables for SQL Server and PostgreSQL', () => {
    expect([...snakeCased(sqlServerTables).keys()].sort()).toEqual([...postgresTables.keys()].sort());
  });

  it.each([...sqlServerTables.keys()])('defines the same columns for %s in both flavours', (table) => {
    const expected = snakeCased(sqlServerTables).get(snakeCase(table));
    expect(postgresTables.get(snakeCase(table))).toEqual(expected);
  });

  it.each(ERP_TABLES)('gives %s a ModifiedAt DATETIME2(7) column', (table) => {
    expect(sqlServerTables.get(table)).toContain('ModifiedAt');
    expect(sqlServerSchema).toMatch(new RegExp(`CREATE TABLE dbo\\.${table} \\([^;]*ModifiedAt\\s+DATETIME2\\(7\\)`));
  });

  it.each([...sqlServerTables.keys()])('enables CDC on dbo.%s in enable-cdc.sql', (table) => {
    const enable = new RegExp(
      `EXEC sys\\.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'${table}',[^\\n]*@supports_net_changes = 1`,
    );
    expect(stripComments(sqlServerCdc)).toMatch(enable);
  });

  it('enables CDC only on tables the scripts create', () => {
    const enabled = [...stripComments(sqlServerCdc).matchAll(/@source_name = N'(\w+)'/g)].map((match) => match[1]);
    expect(enabled.sort()).toEqual([...sqlServerTables.keys()].sort());
  });

  it('notices a column that one flavour lacks', () => {
    const drifted = postgresSchema.replace(/^\s*psp_reference .*\n/m, '');
    expect(drifted).not.toBe(postgresSchema);
    expect(createdTables(drifted).get('payment_transaction')).not.toEqual(
      snakeCased(sqlServerTables).get('payment_transaction'),
    );
  });

  // Code keys, as code-keyed ERPs use them: every change carries the business
  // identifiers the transforms need, so a pure stage never has to join.
  it.each<[string, string[]]>([
    ['Item', ['ItemId']],
    ['Location', ['LocationId']],
    ['InventoryBalance', ['Sku', 'LocationCode']],
    ['SalesOrderHeader', ['OrderNumber']],
    ['SalesOrderLine', ['OrderNumber', 'LineNo']],
    ['PaymentTransaction', ['PaymentId']],
    ['Shipment', ['ShipmentId']],
    ['ShipmentLine', ['ShipmentId', 'LineNo']],
    ['ReturnAuthorization', ['RmaId']],
    ['Refund', ['RefundId']],
  ])('keys %s by %j in both flavours', (table, key) => {
    expect(primaryKeys(sqlServerSchema).get(table)).toEqual(key);
    expect(primaryKeys(postgresSchema).get(snakeCase(table))).toEqual(key.map(snakeCase));
  });

  it.each<[string, Record<string, string>]>([
    ['InventoryBalance', { Sku: 'Item.Sku', LocationCode: 'Location.Code' }],
    [
      'SalesOrderLine',
      { OrderNumber: 'SalesOrderHeader.OrderNumber', ItemId: 'Item.ItemId', LocationCode: 'Location.Code' },
    ],
    ['PaymentTransaction', { OrderNumber: 'SalesOrderHeader.OrderNumber' }],
    ['Shipment', { OrderNumber: 'SalesOrderHeader.OrderNumber', LocationCode: 'Location.Code' }],
    ['ShipmentLine', { ShipmentId: 'Shipment.ShipmentId', OrderNumber: 'SalesOrderHeader.OrderNumber' }],
    ['ReturnAuthorization', { OrderNumber: 'SalesOrderHeader.OrderNumber' }],
    ['Refund', { OrderNumber: 'SalesOrderHeader.OrderNumber', RmaNumber: 'ReturnAuthorization.RmaNumber' }],
  ])('references codes, not surrogate ids, from %s in both flavours', (table, references) => {
    expect(foreignKeys(sqlServerSchema).get(table)).toEqual(references);
    const snakeReferences = Object.fromEntries(
      Object.entries(references).map(([column, target]) => [
        snakeCase(column),
        target.split('.').map(snakeCase).join('.'),
      ]),
    );
    expect(foreignKeys(postgresSchema).get(snakeCase(table))).toEqual(snakeReferences);
  });

  it.each(['OrderId', 'LocationId', 'RmaId'])('keeps no %s in the order documents', (column) => {
    const documents = ['SalesOrderHeader', 'PaymentTransaction', 'Shipment', 'ShipmentLine', 'Refund'];
    for (const table of documents) expect(sqlServerTables.get(table)).not.toContain(column);
  });

  it.each([...postgresTables.keys()])('logs full before images for public.%s', (table) => {
    expect(postgresSchema).toMatch(new RegExp(`ALTER TABLE public\\.${table} REPLICA IDENTITY FULL;`));
  });
});
