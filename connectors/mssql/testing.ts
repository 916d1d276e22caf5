import { type QueryExecutor, type SqlParams, type SqlQuery } from './executor.js';

/** A canned answer: rows, or an error to throw (e.g. a classified `PermissionDeniedError`). */
export type CannedResult = readonly object[] | { readonly error: Error };

/**
 * A FAKE {@link QueryExecutor} for unit tests, because SQL Server cannot run where these tests run: an in-memory
 * table of canned result sets keyed by query id (`QUERIES.*.id`). A query without a canned result throws, so a test
 * never passes on a query it did not expect. Every call is recorded in `calls`, in order.
 */
export function createFakeExecutor(
  results: Readonly<Record<string, CannedResult>>,
  database = 'ErpDemo',
): QueryExecutor & { readonly calls: { id: string; text: string; params: SqlParams }[] } {
  const calls: { id: string; text: string; params: SqlParams }[] = [];
  return {
    database,
    calls,
    async query<Row extends object>(sql: SqlQuery, params: SqlParams = {}): Promise<Row[]> {
      calls.push({ id: sql.id, text: sql.text, params });
      const result = results[sql.id] ?? (sql.id.includes('[') ? [] : undefined);
      if (result === undefined) throw new Error(`Fake executor has no canned result for query ${sql.id}`);
      if ('error' in result) throw result.error;
      return [...result] as Row[];
    },
    async close(): Promise<void> {},
  };
}
