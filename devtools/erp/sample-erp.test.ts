import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSqlServerSchemas } from '../../connectors/debezium/sqlserver-schema.js';
import {
  SAMPLE_ERP_DATABASE,
  SAMPLE_ERP_TABLE_DEFINITIONS,
  sampleErpTables,
  type SqlServerTableDefinition,
} from './sample-erp.js';

// The DDL is the source of truth for the database; the definitions are the source of truth for
// Debezium's schemas. This test reads the DDL as text (no database runs in unit tests) and
// compares column names, types, nullability and primary keys, so the two cannot drift.
const ddlPath = new URL('../sql/sqlserver/erp-schema.sql', import.meta.url);
const ddl = readFileSync(ddlPath, 'utf8');

/** The tables a T-SQL script creates, parsed just far enough to compare with the definitions. */
function parseCreateTables(sql: string): SqlServerTableDefinition[] {
  const text = sql.replace(/--[^\n]*/g, '');
  const tables: SqlServerTableDefinition[] = [];
  for (const match of text.matchAll(/CREATE\s+TABLE\s+([\w.[\]]+)\s*\(/gi)) {
    const start = match.index + match[0].length;
    const body = text.slice(start, closingParen(text, start));
    const [schema, name] = match[1]!.split('.').map(bare);
    if (schema === undefined || name === undefined) throw new Error(`Expected schema.table, got ${match[1]}`);
    const columns: { name: string; type: string; nullable: boolean }[] = [];
    let primaryKey: string[] = [];
    for (const definition of splitTopLevel(body)) {
      const tableKey = /^(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY(?:\s+(?:CLUSTERED|NONCLUSTERED))?\s*\(([^)]*)\)/i.exec(
        definition,
      );
      if (tableKey !== null) {
        primaryKey = tableKey[1]!.split(',').map((column) => bare(column.trim().replace(/\s+(ASC|DESC)$/i, '')));
        continue;
      }
      if (/^(CONSTRAINT|FOREIGN|UNIQUE|CHECK|INDEX)\b/i.test(definition)) continue;
      const column = /^(\[[^\]]+\]|\w+)\s+(\w+(?:\s*\([^)]*\))?)([\s\S]*)$/.exec(definition);
      if (column === null) throw new Error(`Cannot read column definition ${JSON.stringify(definition)}`);
      const columnName = bare(column[1]!);
      // Drop parenthesised parts (CHECK lists, DEFAULT expressions) so their NULLs do not count.
      const rest = column[3]!.replace(/\((?:[^()]|\([^()]*\))*\)/g, '()');
      const inlineKey = /\bPRIMARY\s+KEY\b/i.test(rest);
      if (inlineKey) primaryKey = [columnName];
      const notNull = /\bNOT\s+NULL\b/i.test(rest);
      // SQL Server's default (ANSI_NULL_DFLT_ON) is NULL, except for primary-key columns.
      const nullable = !notNull && !inlineKey;
      columns.push({ name: columnName, type: column[2]!.replace(/\s+/g, '').toLowerCase(), nullable });
    }
    tables.push({ schema, table: name, columns, primaryKey });
  }
  return tables;
}

/** The index of the parenthesis closing the one opened just before `start`. */
function closingParen(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    if (text[i] === ')') depth -= 1;
    if (depth === 0) return i;
  }
  throw new Error(`Unbalanced parentheses after offset ${start}`);
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

/** `[LineNo]` -> `LineNo`. */
function bare(identifier: string): string {
  return identifier.replace(/^\[(.*)\]$/, '$1');
}

const ddlTables = parseCreateTables(ddl);
const qualified = (table: { schema: string; table: string }) => `${table.schema}.${table.table}`;

describe('the DDL reader of this test', () => {
  it.each([
    [
      'an inline primary key, NULL and NOT NULL, a bracketed name and a CHECK with NULL in it',
      `CREATE TABLE dbo.T (
         Id INT NOT NULL CONSTRAINT PK_T PRIMARY KEY,
         [LineNo] INT NULL,
         Code CHAR(2) NOT NULL CONSTRAINT CK_T CHECK (Code IN ('A', 'B') OR Code IS NULL),
         Amount DECIMAL(19, 4) NOT NULL CONSTRAINT DF_T DEFAULT 0
       );`,
      {
        schema: 'dbo',
        table: 'T',
        columns: [
          { name: 'Id', type: 'int', nullable: false },
          { name: 'LineNo', type: 'int', nullable: true },
          { name: 'Code', type: 'char(2)', nullable: false },
          { name: 'Amount', type: 'decimal(19,4)', nullable: false },
        ],
        primaryKey: ['Id'],
      },
    ],
    [
      'a table-level composite key and a column without a NULL clause',
      `CREATE TABLE dbo.U (
         A NVARCHAR(40) NOT NULL,  -- a comment, with a comma
         [B] NVARCHAR(MAX),
         CONSTRAINT PK_U PRIMARY KEY CLUSTERED (A, [B] DESC)
       );`,
      {
        schema: 'dbo',
        table: 'U',
        columns: [
          { name: 'A', type: 'nvarchar(40)', nullable: false },
          { name: 'B', type: 'nvarchar(max)', nullable: true },
        ],
        primaryKey: ['A', 'B'],
      },
    ],
  ])('reads %s', (_label, sql, expected) => {
    expect(parseCreateTables(sql)).toEqual([expected]);
  });

  it('notices a drifted type, nullability and key', () => {
    const drifted = ddl
      .replace(/(\bQtyOnHand\s+)DECIMAL\(18,3\)/, '$1DECIMAL(18,4)')
      .replace(/(\bCustomerEmail\s+NVARCHAR\(256\)\s+)NULL/, '$1NOT NULL');
    expect(drifted).not.toBe(ddl);
    expect(parseCreateTables(drifted)).not.toEqual(ddlTables);
  });
});

describe('the sample ERP definitions', () => {
  it('define the tables the DDL creates, in the same order', () => {
    expect(SAMPLE_ERP_TABLE_DEFINITIONS.map(qualified)).toEqual(ddlTables.map(qualified));
  });

  it.each(ddlTables.map((table) => [qualified(table), table] as const))(
    'match the DDL of %s: columns, types, nullability and primary key',
    (name, expected) => {
      const definition = SAMPLE_ERP_TABLE_DEFINITIONS.find((table) => qualified(table) === name);
      expect(definition).toEqual(expected);
    },
  );

  it.each(SAMPLE_ERP_TABLE_DEFINITIONS.map((table) => [qualified(table), table] as const))(
    'build the Debezium key and value schemas of %s',
    (_name, definition) => {
      const schemas = buildSqlServerSchemas({ server: 'erp', database: SAMPLE_ERP_DATABASE, ...definition });
      expect(schemas.topic).toBe(`erp.ErpDemo.dbo.${definition.table}`);
      expect(schemas.key).toMatchObject({ name: 'Key', namespace: schemas.topic });
      expect(schemas.value).toMatchObject({ name: 'Envelope', namespace: schemas.topic });
    },
  );

  it('are placed under a connector by sampleErpTables', () => {
    const tables = sampleErpTables('shop', 'ErpTest');
    expect(tables).toHaveLength(SAMPLE_ERP_TABLE_DEFINITIONS.length);
    expect(tables[0]).toEqual({ server: 'shop', database: 'ErpTest', ...SAMPLE_ERP_TABLE_DEFINITIONS[0] });
    expect(sampleErpTables('erp')[0]?.database).toBe('ErpDemo');
  });
});
