import {
  type CaptureInstanceRow,
  type JobRow,
  type LatencyRow,
  type MaxLsnRow,
  QUERIES,
  readCaptureInstances,
  readDatabase,
  rowsOf,
} from './catalog.js';
import { type QueryExecutor } from '../../connectors/mssql/executor.js';
import { type TableName, tableLabel } from '../../connectors/mssql/tsql.js';

/** One capture instance of a table. `startLsn` is the hex form SQL Server prints, e.g. `0x0000002A000001F00003`. */
export type CaptureInstanceStatus = {
  readonly captureInstance: string;
  readonly startLsn: string | null;
  readonly createdAt: Date;
  readonly roleName: string | null;
};

/** CDC state of one database: per table its capture instances, plus the database-wide LSN, lag and retention. */
export type CdcStatus = {
  readonly database: string;
  readonly cdcEnabled: boolean;
  readonly maxLsn: string | null;
  readonly maxLsnTime: Date | null;
  /** Seconds the newest log scan session was behind the log; null before the capture job first ran. */
  readonly captureLatencySeconds: number | null;
  readonly lastScanAt: Date | null;
  readonly retentionMinutes: number | null;
  readonly tables: readonly { readonly table: string; readonly instances: readonly CaptureInstanceStatus[] }[];
};

/**
 * Reads the CDC state of `database` (the executor's database): the capture instances of `tables` (every captured
 * table when `tables` is empty), `sys.fn_cdc_get_max_lsn()`, the newest log scan session's latency and the cleanup
 * retention. A database without CDC yields `cdcEnabled: false` and no instances.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/system-functions/sys-fn-cdc-get-max-lsn-transact-sql
 */
export async function cdcStatus(
  executor: QueryExecutor,
  options: { readonly database: string; readonly tables: readonly TableName[] },
): Promise<CdcStatus> {
  const databaseRow = await readDatabase(executor, options.database);
  const cdcEnabled = databaseRow?.isCdcEnabled === true;
  const instances = await readCaptureInstances(executor, cdcEnabled);
  const tables =
    options.tables.length > 0
      ? options.tables
      : uniqueTables(instances.map((row) => ({ schema: row.schemaName, name: row.tableName })));
  const perTable = tables.map((table) => ({
    table: tableLabel(table),
    instances: rowsOf(instances, table).map(instanceStatus),
  }));
  if (!cdcEnabled) {
    return {
      database: options.database,
      cdcEnabled,
      maxLsn: null,
      maxLsnTime: null,
      captureLatencySeconds: null,
      lastScanAt: null,
      retentionMinutes: null,
      tables: perTable,
    };
  }
  const [maxLsn] = await executor.query<MaxLsnRow>(QUERIES.maxLsn);
  const [latency] = await executor.query<LatencyRow>(QUERIES.latency);
  const jobs = await executor.query<JobRow>(QUERIES.jobs);
  return {
    database: options.database,
    cdcEnabled,
    maxLsn: maxLsn?.maxLsn ?? null,
    maxLsnTime: maxLsn?.maxLsnTime ?? null,
    captureLatencySeconds: latency?.latency ?? null,
    lastScanAt: latency?.endTime ?? null,
    retentionMinutes: jobs.find((job) => job.jobType === 'cleanup')?.retention ?? null,
    tables: perTable,
  };
}

function instanceStatus(row: CaptureInstanceRow): CaptureInstanceStatus {
  return {
    captureInstance: row.captureInstance,
    startLsn: row.startLsn,
    createdAt: row.createDate,
    roleName: row.roleName,
  };
}

function uniqueTables(tables: readonly TableName[]): TableName[] {
  const seen = new Map<string, TableName>();
  for (const table of tables) seen.set(tableLabel(table).toLowerCase(), table);
  return [...seen.values()];
}
