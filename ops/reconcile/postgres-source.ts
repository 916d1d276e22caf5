import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { type BalanceKey, type ReconcileSource, type SourceBalance, type SourceOrder } from './reconcile.js';
import { type ErpDatabaseConnection, openErpSession } from '../../connectors/postgres/session.js';

/** A PostgreSQL table, unquoted. */
export type PostgresTable = { readonly schema: string; readonly name: string };

/** Which tables to read, and how their columns are spelled. */
export type PostgresReconcileTables = {
  /** The inventory balance table, e.g. `public.inventory_balance`; null skips balances. */
  readonly balances: PostgresTable | null;
  /** The sales order header table, e.g. `public.sales_order_header`; null skips orders. */
  readonly orders: PostgresTable | null;
  /**
   * `snake-to-pascal` (the sample ERP on PostgreSQL): columns are
   * `location_code`, `qty_on_hand` …; `as-is`: they are spelled as on SQL
   * Server, `LocationCode`, `QtyOnHand` … (see `source.names`).
   */
  readonly names: 'as-is' | 'snake-to-pascal';
};

const COLUMNS = {
  'snake-to-pascal': {
    sku: 'sku',
    location: 'location_code',
    onHand: 'qty_on_hand',
    allocated: 'qty_allocated',
    safetyStock: 'safety_stock',
    orderNumber: 'order_number',
    statusCode: 'status_code',
  },
  'as-is': {
    sku: 'Sku',
    location: 'LocationCode',
    onHand: 'QtyOnHand',
    allocated: 'QtyAllocated',
    safetyStock: 'SafetyStock',
    orderNumber: 'OrderNumber',
    statusCode: 'StatusCode',
  },
} as const;

/**
 * Opens the ERP side of a reconciliation on a PostgreSQL database through
 * `pg` (see `ops/reconcile/reconcile.ts` for the contract). Keys are ordered
 * `COLLATE "C"` (code point order on UTF-8), whatever the database's
 * collation, so they merge with MongoDB's order; quantities are read as
 * `numeric::text`, exact. Pages sort unless an index with `COLLATE "C"`
 * exists on the key columns.
 *
 * Throws a `SourceUnavailableError` naming the database when it cannot be
 * reached or refuses the login (the password is never part of a message);
 * queries reject with a `ConfigError` naming the table for a missing table
 * or column and a `SourceUnavailableError` for a lost connection.
 *
 * @see https://www.postgresql.org/docs/current/collation.html
 */
export async function openPostgresReconcileSource(
  connection: ErpDatabaseConnection,
  tables: PostgresReconcileTables,
): Promise<ReconcileSource> {
  const description = `PostgreSQL database ${connection.database} at ${connection.host}:${connection.port}`;
  const session = await openErpSession(connection);
  const column = COLUMNS[tables.names];
  const c = (name: keyof typeof column) => quoteIdentifier(column[name]);

  async function query(
    id: string,
    table: PostgresTable,
    sql: string,
    params: readonly unknown[],
  ): Promise<readonly Record<string, unknown>[]> {
    try {
      return await session.query(sql, params);
    } catch (error: unknown) {
      throw classifyQueryError(error, id, `${table.schema}.${table.name}`, description);
    }
  }

  return {
    description,
    async countBalances() {
      if (tables.balances === null) return 0;
      const rows = await query(
        'count balances',
        tables.balances,
        `SELECT count(*) AS n FROM ${quoteTable(tables.balances)}`,
        [],
      );
      return Number(rows[0]?.['n'] ?? 0);
    },
    async balancePage(after: BalanceKey | undefined, limit: number): Promise<SourceBalance[]> {
      if (tables.balances === null) return [];
      const select =
        `SELECT ${c('sku')} AS sku, ${c('location')} AS location, ${c('onHand')}::text AS on_hand, ` +
        `${c('allocated')}::text AS allocated, ${c('safetyStock')}::text AS safety_stock ` +
        `FROM ${quoteTable(tables.balances)} `;
      const order = `ORDER BY ${c('sku')} COLLATE "C", ${c('location')} COLLATE "C" `;
      const rows =
        after === undefined
          ? await query('balance page', tables.balances, `${select}${order}LIMIT $1`, [limit])
          : await query(
              'balance page',
              tables.balances,
              // A row comparison, which an index on (sku COLLATE "C", location COLLATE "C") serves as one range.
              `${select}WHERE (${c('sku')} COLLATE "C", ${c('location')} COLLATE "C") > ($1, $2) ${order}LIMIT $3`,
              [after.sku, after.location, limit],
            );
      return rows.map((row) => ({
        sku: text(row, 'sku', tables.balances!),
        location: text(row, 'location', tables.balances!),
        onHand: text(row, 'on_hand', tables.balances!),
        reserved: text(row, 'allocated', tables.balances!),
        safetyStock: text(row, 'safety_stock', tables.balances!),
      }));
    },
    async countOrders() {
      if (tables.orders === null) return 0;
      const rows = await query(
        'count orders',
        tables.orders,
        `SELECT count(*) AS n FROM ${quoteTable(tables.orders)}`,
        [],
      );
      return Number(rows[0]?.['n'] ?? 0);
    },
    async orderPage(after: string | undefined, limit: number): Promise<SourceOrder[]> {
      if (tables.orders === null) return [];
      const select =
        `SELECT ${c('orderNumber')} AS order_number, rtrim(${c('statusCode')}) AS status_code ` +
        `FROM ${quoteTable(tables.orders)} `;
      const order = `ORDER BY ${c('orderNumber')} COLLATE "C" `;
      const rows =
        after === undefined
          ? await query('order page', tables.orders, `${select}${order}LIMIT $1`, [limit])
          : await query(
              'order page',
              tables.orders,
              `${select}WHERE ${c('orderNumber')} COLLATE "C" > $1 ${order}LIMIT $2`,
              [after, limit],
            );
      return rows.map((row) => ({
        orderNumber: text(row, 'order_number', tables.orders!),
        statusCode: text(row, 'status_code', tables.orders!),
      }));
    },
    async close() {
      await session.close();
    },
  };
}

/** `"name"` with `"` doubled: any name stays one identifier. */
export function quoteIdentifier(name: string): string {
  if (name === '') throw new ConfigError('An empty PostgreSQL identifier cannot be quoted');
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteTable(table: PostgresTable): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

function text(row: Record<string, unknown>, column: string, table: PostgresTable): string {
  const value = row[column];
  if (typeof value !== 'string') {
    throw new TypeError(`Column ${column} of ${table.schema}.${table.name} is ${JSON.stringify(value)}, expected text`);
  }
  return value;
}

/** SQLSTATE classes: 08 connection exception, 57P admin shutdown and friends; 42P01/42703 an unknown table or column. */
function classifyQueryError(error: unknown, id: string, table: string, description: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === '42P01' || code === '42703' || code === '3F000') {
    return new ConfigError(`Reconcile query ${id} on ${table} in ${description} failed: ${message}`, { cause: error });
  }
  if (
    (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(String(code)) ||
    /Connection terminated/i.test(message)
  ) {
    return new SourceUnavailableError(`Lost ${description} during reconcile query ${id} on ${table}: ${message}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(message);
}
