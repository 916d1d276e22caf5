import { randomUUID } from 'node:crypto';
import mssql from 'mssql';
import pg from 'pg';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';

/** How to reach the ERP database that holds the signal table. */
export type SignalConnection = {
  readonly connector: 'sqlserver' | 'postgresql';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
};

/** The signal row written; `id` is a fresh UUID, so the same request twice is two signals. */
export type SnapshotSignal = {
  readonly id: string;
  readonly type: 'execute-snapshot';
  readonly data: string;
};

/**
 * Asks the running connector for an ad-hoc incremental snapshot of
 * `dataCollections` by inserting an `execute-snapshot` row into the signal
 * table (Debezium's "source" signalling channel) through the database
 * itself: `pg` for PostgreSQL, `mssql` for SQL Server. The connector picks
 * the row up from its own change stream, so the signal table must be
 * captured (SQL Server: CDC enabled on it, which `cdc-sync cdc enable` does;
 * PostgreSQL: in the publication, which devtools/sql/postgres/erp-schema.sql
 * arranges).
 *
 * `signalTable` and each data collection are as Debezium names them
 * (`<schema>.<table>` for PostgreSQL, `<db>.<schema>.<table>` for SQL
 * Server). Throws a `SourceUnavailableError` when the database cannot be
 * reached, a `ConfigError` when it rejects the insert (e.g. no such table).
 *
 * @see https://debezium.io/documentation/reference/stable/configuration/signalling.html#debezium-signaling-ad-hoc-incremental-snapshots
 */
export async function sendSnapshotSignal(
  connection: SignalConnection,
  signalTable: string,
  dataCollections: readonly string[],
): Promise<SnapshotSignal> {
  const signal: SnapshotSignal = {
    id: randomUUID(),
    type: 'execute-snapshot',
    data: JSON.stringify({ 'data-collections': dataCollections, type: 'incremental' }),
  };
  const where = `${connection.connector} database ${connection.database} at ${connection.host}:${connection.port}`;
  if (connection.connector === 'postgresql') {
    const client = new pg.Client({
      host: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password,
      database: connection.database,
      connectionTimeoutMillis: 5000,
    });
    try {
      await client.connect();
    } catch (error: unknown) {
      throw new SourceUnavailableError(`Cannot connect to ${where}: ${message(error)}`, { cause: error });
    }
    try {
      await client.query(
        `INSERT INTO ${quote(signalTable, (part) => `"${part.replace(/"/g, '""')}"`)} (id, type, data) VALUES ($1, $2, $3)`,
        [signal.id, signal.type, signal.data],
      );
    } catch (error: unknown) {
      throw new ConfigError(`Cannot insert a signal into ${signalTable} of ${where}: ${message(error)}`, {
        cause: error,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
    return signal;
  }

  let pool: mssql.ConnectionPool;
  try {
    pool = await new mssql.ConnectionPool({
      server: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password,
      database: connection.database,
      options: { encrypt: false, trustServerCertificate: true },
      connectionTimeout: 5000,
    }).connect();
  } catch (error: unknown) {
    throw new SourceUnavailableError(`Cannot connect to ${where}: ${message(error)}`, { cause: error });
  }
  try {
    await pool
      .request()
      .input('id', mssql.VarChar(42), signal.id)
      .input('type', mssql.VarChar(32), signal.type)
      .input('data', mssql.VarChar(2048), signal.data)
      .query(
        `INSERT INTO ${quote(signalTable, (part) => `[${part.replace(/]/g, ']]')}]`)} (id, type, data) VALUES (@id, @type, @data)`,
      );
  } catch (error: unknown) {
    throw new ConfigError(`Cannot insert a signal into ${signalTable} of ${where}: ${message(error)}`, {
      cause: error,
    });
  } finally {
    await pool.close().catch(() => undefined);
  }
  return signal;
}

/** A dotted name with each part quoted. */
function quote(name: string, quotePart: (part: string) => string): string {
  return name.split('.').map(quotePart).join('.');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
