import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { configuredStageNames, createStages, runsSink } from './components.js';
import { parsePipelineConfig } from './pipeline-config.js';

const silent = pino({ level: 'silent' });

/** The created stages' names by input table. */
function stagesByTable(transforms: Record<string, unknown>): Record<string, string[]> {
  const config = parsePipelineConfig({ transforms }, 'the test', {});
  const byTable = createStages(config, silent, 'the test');
  return Object.fromEntries([...byTable].map(([table, stages]) => [table, stages.map((stage) => stage.name)]));
}

describe('which stages a pipeline runs', () => {
  it('runs none that its config does not list', () => {
    expect(stagesByTable({})).toEqual({});
    expect(configuredStageNames(parsePipelineConfig({}, 'the test', {}))).toEqual([]);
  });

  it('runs exactly the listed ones, and none set to false', () => {
    expect(stagesByTable({ stock_level: {}, order_line: {}, order_header: false })).toEqual({
      InventoryBalance: ['stock_level'],
      SalesOrderLine: ['order_line'],
    });
  });

  it("runs every stage of the sample ERP's profile", () => {
    expect(stagesByTable(SAMPLE_ERP_STAGES)).toEqual({
      InventoryBalance: ['stock_level'],
      SalesOrderHeader: ['order_header'],
      SalesOrderLine: ['order_line'],
      PaymentTransaction: ['payment_captured'],
      Shipment: ['shipment_dispatched'],
      ReturnAuthorization: ['return_received'],
      Refund: ['refund_completed'],
    });
  });

  it('runs every sink unless it is set to false', () => {
    const defaults = parsePipelineConfig({}, 'the test', {});
    const orderViewOff = parsePipelineConfig({ sinks: { order_view: false } }, 'the test', {});
    expect([runsSink(defaults, 'order_view'), runsSink(orderViewOff, 'order_view')]).toEqual([true, false]);
    expect(runsSink(orderViewOff, 'inventory_availability')).toBe(true);
  });
});
