import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { applyDrift, detectDrift, driftProcedure, nextCaptureInstance } from './drift.js';
import { cdcStatus } from './status.js';
import { type CannedResult, createFakeExecutor } from '../../connectors/mssql/testing.js';

const created = new Date('2025-03-01T10:00:00Z');
const instance = (tableName: string, captureInstance: string, startLsn: string) => ({
  schemaName: 'dbo',
  tableName,
  captureInstance,
  roleName: 'cdc_reader',
  supportsNetChanges: true,
  startLsn,
  createDate: created,
});
const column = (tableName: string, columnName: string) => ({ schemaName: 'dbo', tableName, columnName });

const ENABLED: Record<string, CannedResult> = {
  database: [{ name: 'ErpDemo', isCdcEnabled: true }],
  'capture-instances': [instance('Item', 'dbo_Item', '0x01'), instance('Location', 'dbo_Location', '0x02')],
  'max-lsn': [{ maxLsn: '0x0000002A000001F00003', maxLsnTime: created }],
  latency: [{ sessionId: 9, endTime: created, latency: 4, errorCount: 0 }],
  jobs: [
    { jobType: 'capture', retention: null },
    { jobType: 'cleanup', retention: 4320 },
  ],
  'source-columns': [
    column('Item', 'ItemId'),
    column('Item', 'Sku'),
    column('Item', 'Weight'),
    column('Location', 'Code'),
  ],
  'captured-columns': [
    { captureInstance: 'dbo_Item', columnName: 'ItemId' },
    { captureInstance: 'dbo_Item', columnName: 'Sku' },
    { captureInstance: 'dbo_Location', columnName: 'Code' },
    { captureInstance: 'dbo_Location', columnName: 'Name' },
  ],
};

describe('status with a FAKE query executor (SQL Server cannot run here)', () => {
  it('reports instances per table, max LSN, lag and retention', async () => {
    const status = await cdcStatus(createFakeExecutor(ENABLED), {
      database: 'ErpDemo',
      tables: [
        { schema: 'dbo', name: 'Item' },
        { schema: 'dbo', name: 'Refund' },
      ],
    });
    expect(status).toEqual({
      database: 'ErpDemo',
      cdcEnabled: true,
      maxLsn: '0x0000002A000001F00003',
      maxLsnTime: created,
      captureLatencySeconds: 4,
      lastScanAt: created,
      retentionMinutes: 4320,
      tables: [
        {
          table: 'dbo.Item',
          instances: [{ captureInstance: 'dbo_Item', startLsn: '0x01', createdAt: created, roleName: 'cdc_reader' }],
        },
        { table: 'dbo.Refund', instances: [] },
      ],
    });
  });

  it('lists every captured table when no tables are given', async () => {
    const status = await cdcStatus(createFakeExecutor(ENABLED), { database: 'ErpDemo', tables: [] });
    expect(status.tables.map((table) => table.table)).toEqual(['dbo.Item', 'dbo.Location']);
  });

  it('reports a database without CDC without querying the cdc schema', async () => {
    const executor = createFakeExecutor({ database: [{ name: 'ErpDemo', isCdcEnabled: false }] });
    const status = await cdcStatus(executor, { database: 'ErpDemo', tables: [{ schema: 'dbo', name: 'Item' }] });
    expect(status).toMatchObject({ cdcEnabled: false, maxLsn: null, tables: [{ table: 'dbo.Item', instances: [] }] });
    expect(executor.calls.map((call) => call.id)).toEqual(['database']);
  });
});

describe('drift with a FAKE query executor (SQL Server cannot run here)', () => {
  it('finds added and removed columns against the newest capture instance', async () => {
    const report = await detectDrift(createFakeExecutor(ENABLED), { database: 'ErpDemo', tables: [] });
    expect(report.inSync).toEqual([]);
    expect(
      report.drifted.map(({ table, added, removed, newCaptureInstance }) => ({
        table,
        added,
        removed,
        newCaptureInstance,
      })),
    ).toEqual([
      { table: { schema: 'dbo', name: 'Item' }, added: ['Weight'], removed: [], newCaptureInstance: 'dbo_Item_v2' },
      {
        table: { schema: 'dbo', name: 'Location' },
        added: [],
        removed: ['Name'],
        newCaptureInstance: 'dbo_Location_v2',
      },
    ]);
  });

  it('prints the two-capture-instance procedure as exact T-SQL', async () => {
    const report = await detectDrift(createFakeExecutor(ENABLED), {
      database: 'ErpDemo',
      tables: [{ schema: 'dbo', name: 'Item' }],
    });
    expect(driftProcedure(report.drifted[0]!)).toBe(
      [
        '-- dbo.Item: capture instance dbo_Item differs from the table; not captured: Weight',
        "-- Step 1 of 3: create capture instance dbo_Item_v2 with the table's current columns (cdc-sync cdc drift --apply runs this step only)",
        'USE [ErpDemo];',
        "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @capture_instance = N'dbo_Item_v2', @supports_net_changes = 1;",
        "-- Step 2 of 3: let consumers move to dbo_Item_v2; Debezium switches to the newer instance by itself once it has read past that instance's start LSN",
        '-- Step 3 of 3: once no consumer reads dbo_Item, drop it',
        "EXEC sys.sp_cdc_disable_table @source_schema = N'dbo', @source_name = N'Item', @capture_instance = N'dbo_Item';",
      ].join('\n'),
    );
  });

  it('--apply runs step 1 only: USE and sp_cdc_enable_table, never sp_cdc_disable_table', async () => {
    const executor = createFakeExecutor(ENABLED);
    const report = await detectDrift(executor, { database: 'ErpDemo', tables: [{ schema: 'dbo', name: 'Item' }] });
    const before = executor.calls.length;
    expect(await applyDrift(executor, report)).toEqual(['dbo_Item_v2']);
    const ran = executor.calls.slice(before).map((call) => call.text);
    expect(ran).toEqual(report.drifted[0]!.createStatements);
    expect(ran.join('\n')).not.toContain('sp_cdc_disable_table');
  });

  it('compares with the newest instance and refuses a third one', async () => {
    const executor = createFakeExecutor({
      ...ENABLED,
      'capture-instances': [instance('Item', 'dbo_Item', '0x01'), instance('Item', 'dbo_Item_v2', '0x05')],
      'captured-columns': [
        { captureInstance: 'dbo_Item', columnName: 'ItemId' },
        { captureInstance: 'dbo_Item_v2', columnName: 'ItemId' },
        { captureInstance: 'dbo_Item_v2', columnName: 'Sku' },
      ],
    });
    const report = await detectDrift(executor, { database: 'ErpDemo', tables: [{ schema: 'dbo', name: 'Item' }] });
    expect(report.drifted[0]).toMatchObject({
      captureInstance: 'dbo_Item_v2',
      added: ['Weight'],
      newCaptureInstance: 'dbo_Item_v3',
    });
    expect(report.drifted[0]!.blocked).toBe(
      'Table dbo.Item already has 2 capture instances (dbo_Item, dbo_Item_v2), the most SQL Server allows; drop the older one first',
    );
    const before = executor.calls.length;
    await expect(applyDrift(executor, report)).rejects.toThrow(ConfigError);
    expect(executor.calls.length).toBe(before);
  });

  it('reports tables in sync', async () => {
    const report = await detectDrift(
      createFakeExecutor({ ...ENABLED, 'source-columns': [column('Item', 'ItemId'), column('Item', 'Sku')] }),
      { database: 'ErpDemo', tables: [{ schema: 'dbo', name: 'Item' }] },
    );
    expect(report).toEqual({ database: 'ErpDemo', cdcEnabled: true, drifted: [], inSync: ['dbo.Item'] });
  });

  it.each([
    ['dbo_Item', [], 'dbo_Item_v2'],
    ['dbo_Item_v2', [], 'dbo_Item_v3'],
    ['dbo_Item', ['dbo_item_v2'], 'dbo_Item_v3'],
    ['x'.repeat(100), [], `${'x'.repeat(97)}_v2`],
  ])('names the instance after %s', (current, taken, next) => {
    expect(nextCaptureInstance(current, new Set(taken))).toBe(next);
  });
});
