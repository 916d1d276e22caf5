import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ChangeEvent, type TableRef } from './envelope.js';
import {
  defineStage,
  type Stage,
  skip,
  stageRegistry,
  stageRouter,
  tableMatches,
  tablePatternsOverlap,
} from './stage.js';

const ctx = { logger: pino({ enabled: false }) };

const echo = defineStage({
  name: 'echo_status',
  summary: 'Skips every change, naming the configured status',
  tables: ['dbo.Shipment'],
  output: ['ShipmentDispatched'],
  config: z.strictObject({ status: z.string().default('SH').describe('A status') }),
  create:
    (config, { name }) =>
    () =>
      skip(`${name} saw ${config.status}`),
});

describe('defineStage', () => {
  it('gives the definition the registry and the runner use, from one declaration', () => {
    expect(echo).toMatchObject({
      name: 'echo_status',
      summary: 'Skips every change, naming the configured status',
      input: { tables: ['dbo.Shipment'] },
      output: ['ShipmentDispatched'],
    });
    expect(echo.configSchema.parse({})).toEqual({ status: 'SH' });
  });

  it('creates a stage named after it whose apply gets the parsed config and its name', () => {
    const stage = echo.create(echo.configSchema.parse({ status: 'DL' }), ctx);
    expect(stage.name).toBe('echo_status');
    expect(stage.apply({} as ChangeEvent)).toEqual({ kind: 'skip', reason: 'echo_status saw DL' });
  });
});

describe('defineStage refuses', () => {
  const spec = {
    summary: 's',
    output: ['ShipmentDispatched'] as const,
    config: z.object({}),
    create: () => () => skip(''),
  };

  it.each([
    [
      'Shipment',
      'Stage s reads "Shipment", which is not schema.table, database.schema.table or prefix.database.schema.table (e.g. dbo.SalesOrderHeader)',
    ],
    [
      'a.b.c.d.e',
      'Stage s reads "a.b.c.d.e", which is not schema.table, database.schema.table or prefix.database.schema.table (e.g. dbo.SalesOrderHeader)',
    ],
    [
      'dbo..Shipment',
      'Stage s reads "dbo..Shipment", which is not schema.table, database.schema.table or prefix.database.schema.table (e.g. dbo.SalesOrderHeader)',
    ],
  ])('the table %j', (table, message) => {
    expect(() => defineStage({ ...spec, name: 's', tables: [table] })).toThrow(new TypeError(message));
  });

  it('no table at all, and a name that is not snake_case', () => {
    expect(() => defineStage({ ...spec, name: 's', tables: [] })).toThrow(
      new TypeError("Stage s reads no table: give tables: ['schema.table']"),
    );
    expect(() => defineStage({ ...spec, name: 'OrderHeader', tables: ['dbo.T'] })).toThrow(
      new TypeError('Stage name "OrderHeader" is not snake_case (e.g. order_header)'),
    );
  });
});

describe('source-qualified routing', () => {
  const header = (overrides: Partial<TableRef> = {}): TableRef => ({
    server: 'erp',
    database: 'AdventureWorks',
    schema: 'Sales',
    table: 'SalesOrderHeader',
    ...overrides,
  });

  it.each([
    ['Sales.SalesOrderHeader', header(), true],
    ['AdventureWorks.Sales.SalesOrderHeader', header(), true],
    ['erp.AdventureWorks.Sales.SalesOrderHeader', header(), true],
    ['dbo.SalesOrderHeader', header(), false],
    ['ErpDemo.Sales.SalesOrderHeader', header(), false],
    ['shop.AdventureWorks.Sales.SalesOrderHeader', header(), false],
    ['Sales.SalesOrderHeader', header({ table: 'salesorderheader' }), false],
    ['Sales.SalesOrderHeader', header({ schema: 'sales' }), false],
  ])('%s names %j: %s', (pattern, table, matches) => {
    expect(tableMatches(pattern, table)).toBe(matches);
  });

  it.each([
    ['Sales.SalesOrderHeader', 'AdventureWorks.Sales.SalesOrderHeader', true],
    ['erp.AdventureWorks.Sales.SalesOrderHeader', 'Sales.SalesOrderHeader', true],
    ['Sales.SalesOrderHeader', 'Sales.SalesOrderHeader', true],
    ['dbo.SalesOrderHeader', 'Sales.SalesOrderHeader', false],
    ['ErpDemo.dbo.SalesOrderHeader', 'AdventureWorks.dbo.SalesOrderHeader', false],
    ['Sales.SalesOrderHeader', 'Sales.SalesOrderDetail', false],
  ])('%s and %s could name one table: %s', (a, b, overlap) => {
    expect([tablePatternsOverlap(a, b), tablePatternsOverlap(b, a)]).toEqual([overlap, overlap]);
  });

  it('routes a change to the stages that read its table, in order, and one table of another schema to none', () => {
    const stage = (name: string): Stage => ({ name, apply: () => skip('') });
    const [awHeader, erpHeader, scoped, both] = [stage('aw'), stage('erp'), stage('scoped'), stage('both')];
    const stagesFor = stageRouter([
      { stage: awHeader, tables: ['Sales.SalesOrderHeader'] },
      { stage: erpHeader, tables: ['dbo.SalesOrderHeader'] },
      { stage: scoped, tables: ['AdventureWorks.Sales.SalesOrderHeader'] },
      { stage: both, tables: ['dbo.SalesOrderHeader', 'Sales.SalesOrderHeader'] },
    ]);
    const names = (table: TableRef) => stagesFor(table).map(({ name }) => name);
    expect(names(header())).toEqual(['aw', 'scoped', 'both']);
    expect(names(header({ database: 'ErpDemo', schema: 'dbo' }))).toEqual(['erp', 'both']);
    expect(names(header({ database: 'Other' }))).toEqual(['aw', 'both']);
    expect(names(header({ schema: 'Purchasing' }))).toEqual([]);
    expect(stagesFor(header())).toBe(stagesFor(header()));
  });
});

describe('stageRegistry', () => {
  it('keys each definition by its name', () => {
    expect(Object.keys(stageRegistry(echo))).toEqual(['echo_status']);
    expect(stageRegistry(echo).echo_status).toBe(echo);
  });

  it('refuses a name given twice', () => {
    expect(() => stageRegistry(echo, { ...echo })).toThrow(new Error('Two stages are named echo_status'));
  });
});
