import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { changeOf } from '../transforms/testing.js';
import { OP } from '../core/envelope.js';
import { createStages, loadConfigWithStages } from './components.js';
import { loadStageCatalog } from './stage-packages.js';
import { transforms } from '../transforms/index.js';

/** The public stage API, as a package outside the repository imports it (`cdc-sync/stages`). */
const STAGE_API = fileURLToPath(new URL('../stages/index.ts', import.meta.url));

/** A stage package's entry module reading `Sales.SalesOrderHeader`, with one setting. */
const PACKAGE_SOURCE = `
import { defineStage, defineStagePackage, skip, z } from ${JSON.stringify(STAGE_API)};

export const headerSeen = defineStage({
  name: 'header_seen',
  summary: 'Skips every header, naming it',
  tables: ['Sales.SalesOrderHeader'],
  output: ['OrderAccepted'],
  config: z.strictObject({ prefix: z.string().default('SO').describe('Order number prefix') }),
  create: (config, { name }) => (change) => skip(\`\${name} saw \${config.prefix}\${String(change.key.SalesOrderID)}\`),
});

export const header = {
  schema: 'Sales',
  table: 'SalesOrderHeader',
  columns: [{ name: 'SalesOrderID', type: 'int', nullable: false }],
  primaryKey: ['SalesOrderID'],
};

export default defineStagePackage({ name: 'adventure-test', stages: [headerSeen], tables: [header] });
`;

let dir: string;

/** Writes `source` as `<name>/index.ts` under the test folder and returns its path relative to that folder. */
function stageModule(name: string, source: string): string {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'index.ts'), source);
  return `./${name}/index.ts`;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cdc-sync-stage-packages-'));
});

describe('loadStageCatalog', () => {
  it("adds a package's stages to cdc-sync's own, each with its origin", async () => {
    const module = stageModule('good', PACKAGE_SOURCE);
    const catalog = await loadStageCatalog([module], dir, 'p.yaml');
    expect(Object.keys(catalog.definitions)).toEqual([...Object.keys(transforms), 'header_seen']);
    expect(catalog.origins['header_seen']).toBe(`adventure-test (${module})`);
    expect(catalog.origins['stock_level']).toBe('cdc-sync');
    expect(catalog.tables).toEqual([
      {
        schema: 'Sales',
        table: 'SalesOrderHeader',
        columns: [{ name: 'SalesOrderID', type: 'int', nullable: false }],
        primaryKey: ['SalesOrderID'],
      },
    ]);
  });

  it.each([
    [
      'a module that does not exist',
      () => './missing/index.ts',
      /^Cannot load the stage module stages\.modules\[0\] \("\.\/missing\/index\.ts"\) in p\.yaml: /,
    ],
    [
      'a module without a stage package',
      () => stageModule('plain', 'export const x = 1;\n'),
      'The stage module stages.modules[0] ("./plain/index.ts") in p.yaml exports no stage package: its default export must be defineStagePackage({ name, stages }) from cdc-sync/stages',
    ],
    [
      'a package written for a newer stage API',
      () =>
        stageModule(
          'newer',
          "export default { kind: 'cdc-sync.stage-package', apiVersion: 2, name: 'future', stages: [] };\n",
        ),
      'The stage package future, loaded by stages.modules[0] ("./newer/index.ts") in p.yaml, needs stage API version 2; this cdc-sync provides version 1: upgrade cdc-sync',
    ],
    [
      'a stage not made with defineStage',
      () =>
        stageModule(
          'invalid',
          "export default { kind: 'cdc-sync.stage-package', apiVersion: 1, name: 'bad', stages: [{ name: 'Bad', input: { tables: ['Header'] }, output: ['OrderShipped'] }] };\n",
        ),
      'Invalid stage stages[0] of bad (./invalid/index.ts), loaded by stages.modules[0] ("./invalid/index.ts") in p.yaml: name "Bad" is not snake_case; table "Header" is not schema.table; output "OrderShipped" is not a canonical event type (StockLevelChanged, OrderAccepted, OrderStatusChanged, OrderCancelled, OrderDeleted, OrderLineChanged, PaymentCaptured, ShipmentDispatched, ReturnReceived, RefundCompleted, OrderHeaderChanged); it has no config schema; it has no create function (declare stages with defineStage)',
    ],
    [
      "a stage named like one of cdc-sync's",
      () =>
        stageModule(
          'clash',
          PACKAGE_SOURCE.replace("name: 'header_seen'", "name: 'stock_level'").replace(
            "name: 'adventure-test'",
            "name: 'clashing'",
          ),
        ),
      'Stage stock_level of clashing (./clash/index.ts) has the name of a stage of cdc-sync, loaded by stages.modules[0] ("./clash/index.ts") in p.yaml: rename one of them',
    ],
    [
      'a table without columns or with a key that is no column',
      () =>
        stageModule(
          'table',
          "export default { kind: 'cdc-sync.stage-package', apiVersion: 1, name: 't', stages: [], tables: [{ schema: 'Sales', table: 'X', columns: [{ name: 'A', type: 'int' }], primaryKey: ['B'] }] };\n",
        ),
      'Invalid table tables[0] of t (./table/index.ts), loaded by stages.modules[0] ("./table/index.ts") in p.yaml: column {"name":"A","type":"int"} is not { name, type, nullable }; primary key column "B" is not a column',
    ],
    [
      'a package name not installed',
      () => 'erp-stages-not-installed',
      /^Cannot find the stage package stages\.modules\[0\] \("erp-stages-not-installed"\) in p\.yaml from .*: Cannot find module 'erp-stages-not-installed'.* \(install it there, or give a path starting with \.\/\)$/,
    ],
  ])('refuses %s, naming the key path and the module', async (_case, module, message) => {
    const error = await loadStageCatalog([module()], dir, 'p.yaml').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });
});

describe('loadConfigWithStages', () => {
  it("runs a package's stage that the config lists, with its settings, routed by its schema-qualified table", async () => {
    const module = stageModule('routed', PACKAGE_SOURCE);
    const path = join(dir, 'routed.yaml');
    writeFileSync(path, `stages:\n  modules: [${module}]\ntransforms:\n  header_seen: { prefix: AW }\n`);
    const config = await loadConfigWithStages(path, {});
    const { byName, stagesFor } = createStages(config, pino({ enabled: false }), path);
    expect([...byName.keys()]).toEqual(['header_seen']);
    const change = changeOf('AdventureWorks.Sales.SalesOrderHeader', OP.create, {
      after: { SalesOrderID: 43659 },
      key: { SalesOrderID: 43659 },
    });
    expect(stagesFor(change.table).map((stage) => stage.apply(change))).toEqual([
      { kind: 'skip', reason: 'header_seen saw AW43659' },
    ]);
    expect(stagesFor(changeOf('SalesOrderHeader', OP.create, { after: { OrderNumber: 'SO-1' } }).table)).toEqual([]);
  });

  it('refuses two running stages that would emit one event type from one table, naming both', async () => {
    const module = stageModule(
      'clashing-tables',
      PACKAGE_SOURCE.replace("tables: ['Sales.SalesOrderHeader']", "tables: ['ErpDemo.dbo.SalesOrderHeader']"),
    );
    const path = join(dir, 'clashing.yaml');
    writeFileSync(path, `stages:\n  modules: [${module}]\ntransforms:\n  header_seen: {}\n  order_header: {}\n`);
    await expect(loadConfigWithStages(path, {})).rejects.toThrow(
      new ConfigError(
        `Stages of ${path} would give different events one id (an event id hashes table, key, position and event type): order_header (dbo.SalesOrderHeader) and header_seen (ErpDemo.dbo.SalesOrderHeader) both emit OrderAccepted. Run one of each pair, or scope their tables (database.schema.table)`,
      ),
    );
    writeFileSync(path, `stages:\n  modules: [${module}]\ntransforms:\n  header_seen: {}\n  stock_level: {}\n`);
    expect(Object.keys((await loadConfigWithStages(path, {})).transforms)).toEqual(['header_seen', 'stock_level']);
  });

  it("checks a package stage's settings with every other problem of the file, before anything starts", async () => {
    const module = stageModule('checked', PACKAGE_SOURCE);
    const path = join(dir, 'checked.yaml');
    writeFileSync(
      path,
      `stages:\n  modules: [${module}]\nkafka:\n  brokers: []\ntransforms:\n  header_seen: { prefix: 7 }\n  nope: {}\n`,
    );
    await expect(loadConfigWithStages(path, {})).rejects.toThrow(
      new ConfigError(
        [
          `Invalid config in ${path}, 3 problems:`,
          '  at kafka.brokers: Too small: expected array to have >=1 items (got [])',
          '  at transforms.header_seen.prefix: Invalid input: expected string, received number (got 7)',
          '  at transforms.nope: Unknown transform "nope"; known: stock_level, order_header, order_line, payment_captured, shipment_dispatched, return_received, refund_completed, header_seen',
        ].join('\n'),
      ),
    );
  });
});
