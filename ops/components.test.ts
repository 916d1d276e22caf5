import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { configuredStageNames, createStages, runsSink } from './components.js';
import { parsePipelineConfig } from './pipeline-config.js';
import { capturedTableRef } from '../connectors/debezium/envelope.js';

const silent = pino({ level: 'silent' });

/** The created stages' names by the tables they read. */
function stagesByTable(transforms: Record<string, unknown>): Record<string, string[]> {
  const config = parsePipelineConfig({ transforms }, 'the test', {});
  const { byName } = createStages(config, silent, 'the test');
  const byTable: Record<string, string[]> = {};
  for (const [name, { tables }] of byName) for (const table of tables) (byTable[table] ??= []).push(name);
  return byTable;
}

describe('which stages a pipeline runs', () => {
  it('runs none that its config does not list', () => {
    expect(stagesByTable({})).toEqual({});
    expect(configuredStageNames(parsePipelineConfig({}, 'the test', {}))).toEqual([]);
  });

  it('runs exactly the listed ones, and none set to false', () => {
    expect(stagesByTable({ stock_level: {}, order_line: {}, order_header: false })).toEqual({
      'dbo.InventoryBalance': ['stock_level'],
      'dbo.SalesOrderLine': ['order_line'],
    });
  });

  it("runs every stage of the sample ERP's profile", () => {
    expect(stagesByTable(SAMPLE_ERP_STAGES)).toEqual({
      'dbo.InventoryBalance': ['stock_level'],
      'dbo.SalesOrderHeader': ['order_header'],
      'dbo.SalesOrderLine': ['order_line'],
      'dbo.PaymentTransaction': ['payment_captured'],
      'dbo.Shipment': ['shipment_dispatched'],
      'dbo.ReturnAuthorization': ['return_received'],
      'dbo.Refund': ['refund_completed'],
    });
  });

  it.each([
    ['SQL Server', { tables: ['dbo.InventoryBalance', 'dbo.SalesOrderHeader', 'dbo.Shipment', 'dbo.ShipmentLine'] }],
    [
      'PostgreSQL, its public schema mapped onto dbo',
      {
        connector: 'postgresql',
        tables: ['public.inventory_balance', 'public.sales_order_header', 'public.shipment', 'public.shipment_line'],
        schemas: { public: 'dbo' },
      },
    ],
  ])("routes the sample ERP's captured tables on %s to its stages", (_source, source) => {
    const config = parsePipelineConfig({ source, transforms: SAMPLE_ERP_STAGES }, 'the test', {});
    const { stagesFor } = createStages(config, silent, 'the test');
    expect(
      config.source.tables.map((table) => stagesFor(capturedTableRef(config.source, table)).map(({ name }) => name)),
    ).toEqual([['stock_level'], ['order_header'], ['shipment_dispatched'], []]);
  });

  it("routes no change of another schema to the sample ERP's stages", () => {
    const config = parsePipelineConfig(
      { source: { connector: 'postgresql', tables: ['public.inventory_balance'] }, transforms: SAMPLE_ERP_STAGES },
      'the test',
      {},
    );
    const { stagesFor } = createStages(config, silent, 'the test');
    expect(stagesFor(capturedTableRef(config.source, 'public.inventory_balance'))).toEqual([]);
  });

  it('runs every sink unless it is set to false', () => {
    const defaults = parsePipelineConfig({}, 'the test', {});
    const orderViewOff = parsePipelineConfig({ sinks: { order_view: false } }, 'the test', {});
    expect([runsSink(defaults, 'order_view'), runsSink(orderViewOff, 'order_view')]).toEqual([true, false]);
    expect(runsSink(orderViewOff, 'inventory_availability')).toBe(true);
  });
});
