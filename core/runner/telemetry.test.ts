import { describe, expect, it } from 'vitest';
import { createTelemetryTally, NO_TELEMETRY } from './telemetry.js';
import { recordingTelemetry } from './telemetry-testing.js';

describe('a telemetry tally', () => {
  it('holds every call back until it is committed, then replays them once, in order', () => {
    const { telemetry, calls } = recordingTelemetry();
    const tally = createTelemetryTally();
    const at = new Date('2026-11-27T08:00:00.000Z');
    tally.stageRecords('stock_level', 'in', 1);
    tally.deadLetter('erp.ErpDemo.dbo.InventoryBalance', 'decode', 'DecodeError');
    tally.canonicalEvents('canonical.inventory.v1', 'StockLevelChanged', 1);
    tally.sinkWrite('order_view', 0.5);
    tally.sinkApplied('order_view', [{ sourcePosition: 'p1', sourceCommittedAt: 1 }], at);
    tally.sourceRecords('transform', 'erp.ErpDemo.dbo.InventoryBalance', 2);
    expect(calls).toEqual([]);
    tally.commitTo(telemetry);
    expect(calls).toEqual([
      ['stageRecords', 'stock_level', 'in', 1],
      ['deadLetter', 'erp.ErpDemo.dbo.InventoryBalance', 'decode', 'DecodeError'],
      ['canonicalEvents', 'canonical.inventory.v1', 'StockLevelChanged', 1],
      ['sinkWrite', 'order_view', 0.5],
      ['sinkApplied', 'order_view', [{ sourcePosition: 'p1', sourceCommittedAt: 1 }], at],
      ['sourceRecords', 'transform', 'erp.ErpDemo.dbo.InventoryBalance', 2],
    ]);
    tally.commitTo(telemetry);
    expect(calls).toHaveLength(6);
  });

  it('NO_TELEMETRY accepts every call', () => {
    expect(() => createTelemetryTally().commitTo(NO_TELEMETRY)).not.toThrow();
    expect(NO_TELEMETRY.deadLetter('t', 'decode', 'DecodeError')).toBeUndefined();
  });
});
