import pg from 'pg';
import { SourceUnavailableError } from '../../core/errors.js';

// A session on a PostgreSQL ERP database through `pg`: what reconcile reads the source with, and what the sample ERP
// (devtools/erp/postgres-database.ts) and the demo's traffic run their statements on.

/** How to reach one database of a PostgreSQL server; the login needs CREATEDB and REPLICATION (or superuser). */
export type ErpDatabaseConnection = {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
};

/** An open session on one ERP database, for scripted ERP traffic. */
export type ErpSession = {
  /** Runs one or more `;`-separated statements (simple query protocol) or, with `params`, one statement. */
  query(sql: string, params?: readonly unknown[]): Promise<readonly Record<string, unknown>[]>;
  close(): Promise<void>;
};

const CONNECT_TIMEOUT_MS = 5000;

/**
 * Opens a session on the database of `connection` through `pg`. Throws a
 * `SourceUnavailableError` when the server cannot be reached or refuses the
 * login. Statements that fail reject with the server's error.
 *
 * @see https://node-postgres.com/apis/client
 */
export async function openErpSession(connection: ErpDatabaseConnection): Promise<ErpSession> {
  const client = new pg.Client({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'cdc-sync',
  });
  try {
    await client.connect();
  } catch (error: unknown) {
    await client.end().catch(() => undefined);
    throw new SourceUnavailableError(`Cannot connect to PostgreSQL database ${where(connection)}: ${message(error)}`, {
      cause: error,
    });
  }
  return {
    async query(sql, params) {
      const result = await (params === undefined ? client.query(sql) : client.query(sql, [...params]));
      // A multi-statement query resolves with one result per statement; the last one is the answer.
      const last = Array.isArray(result) ? result.at(-1) : result;
      return (last?.rows ?? []) as Record<string, unknown>[];
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}

function where(connection: ErpDatabaseConnection): string {
  return `${connection.database} at ${connection.host}:${connection.port}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
