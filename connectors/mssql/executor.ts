import mssql from 'mssql';
import { classifyMssqlError, type SqlServerTarget } from './classify-error.js';

/** A named statement: `id` identifies it in errors and in tests' canned results, `text` is the T-SQL sent. */
export type SqlQuery = { readonly id: string; readonly text: string };

/** Named parameters, bound as `@name` in the statement text; values are typed by the driver. */
export type SqlParams = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Runs T-SQL against one database. `query` resolves to the first result set's rows (an empty array for statements
 * that return none) and rejects with an error from core/errors.ts, classified by `classifyMssqlError`.
 */
export type QueryExecutor = {
  /** The database the statements run in. */
  readonly database: string;
  query<Row extends object = Record<string, unknown>>(sql: SqlQuery, params?: SqlParams): Promise<Row[]>;
  close(): Promise<void>;
};

/** How to reach SQL Server. The password is only handed to the driver; nothing here prints it. */
export type SqlServerConnection = {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly encrypt: boolean;
  readonly trustServerCertificate: boolean;
  readonly connectTimeoutMs?: number;
};

/**
 * Connects to SQL Server through `mssql` and returns a {@link QueryExecutor} on `connection.database`.
 * Throws `SourceUnavailableError` naming `host:port` when the server cannot be reached, `LoginFailedError` naming
 * the login and server when the login is refused, `PermissionDeniedError` naming the database when the login may not
 * open it.
 *
 * @see https://tediousjs.github.io/node-mssql/#connection-pools
 */
export async function createMssqlExecutor(connection: SqlServerConnection): Promise<QueryExecutor> {
  const target: SqlServerTarget = {
    server: `${connection.host}:${connection.port}`,
    user: connection.user,
    database: connection.database,
  };
  let pool: mssql.ConnectionPool;
  try {
    pool = await new mssql.ConnectionPool({
      server: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password,
      database: connection.database,
      options: { encrypt: connection.encrypt, trustServerCertificate: connection.trustServerCertificate },
      connectionTimeout: connection.connectTimeoutMs ?? 15_000,
      requestTimeout: 60_000,
      pool: { max: 1, min: 0 },
    }).connect();
  } catch (error: unknown) {
    throw classifyMssqlError(error, target, 'connecting');
  }
  return {
    database: connection.database,
    async query<Row extends object>(sql: SqlQuery, params: SqlParams = {}): Promise<Row[]> {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) request.input(name, value);
      try {
        const result = await request.query<Row>(sql.text);
        return result.recordset ?? [];
      } catch (error: unknown) {
        throw classifyMssqlError(error, target, `running query ${sql.id}`);
      }
    },
    async close(): Promise<void> {
      await pool.close().catch(() => undefined);
    },
  };
}
