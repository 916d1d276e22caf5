import { parseWithSchema } from '../../core/config.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { ConfigError } from '../../core/errors.js';
import {
  compareBalances,
  compareOrderStatuses,
  type DriftReport,
  driftCount,
  type ReconcileSource,
  sourceBalances,
  sourceOrders,
  viewBalances,
  viewOrders,
} from './reconcile.js';
import { connectorPassword } from '../../connectors/kafka-connect/connector-config.js';
import { createMssqlExecutor } from '../../connectors/mssql/executor.js';
import { createMssqlReconcileSource } from './mssql-source.js';
import { openPostgresReconcileSource } from './postgres-source.js';
import { inventoryAvailability } from '../../sinks/mongo/inventory-availability.js';
import { orderView } from '../../sinks/mongo/order-view.js';
import { createReconcileView } from './mongo-view.js';
import { orderHeader } from '../../transforms/orders/order-header.js';
import { type ProgressFactory } from '../progress.js';
import { buildRuntime, quietLogger } from '../runtime.js';

// `cdc-sync reconcile`: which source tables to compare with which read models, from the config, and the comparison.

/** Settings of one reconciliation. */
export type ReconcileOptions = {
  /** Rows and documents per keyset page, on each side. */
  readonly pageSize: number;
  /** Most samples per drift kind and comparison. */
  readonly samples: number;
  /** SQL Server only: accept the server's certificate without validating it (self-signed test servers). */
  readonly trustServerCertificate?: boolean;
};

/** What `reconcile` reads besides the databases; tests replace these. */
export type ReconcileIo = {
  /** Holds the password under the name `connector.passwordEnv` gives. */
  readonly env: NodeJS.ProcessEnv;
  readonly progress: ProgressFactory;
};

/** A comparison that did not run, and why. */
export type SkippedComparison = { readonly subject: string; readonly reason: string };

/** The outcome of a reconciliation; `drift` counts drifted keys over every comparison. */
export type ReconcileReport = {
  readonly source: string;
  readonly view: string;
  readonly drift: number;
  readonly comparisons: readonly DriftReport[];
  readonly skipped: readonly SkippedComparison[];
};

/**
 * Compares the source tables named in `source.tables` with the read models,
 * reading the source through its driver (`pg` for `source.connector:
 * postgresql`, `mssql` for `sqlserver`) at `connector.host`/`port` as
 * `connector.user`, the password from the variable `connector.passwordEnv`
 * names. Both sides are read in keyset pages of `pageSize` and merged by
 * key, so memory stays bounded.
 *
 * A comparison is skipped, with the reason in the report, when its table is
 * not captured or its transform or sink is disabled. Throws a `ConfigError`
 * for a MySQL source or an unset password variable, and the classified
 * errors of the drivers when a database cannot be reached.
 */
export async function reconcileReadModels(
  config: PipelineConfig,
  options: ReconcileOptions,
  io: ReconcileIo,
  origin = 'the pipeline config',
): Promise<ReconcileReport> {
  const plan = reconcilePlan(config, origin);
  const source = await openSource(config, plan.tables, options, io.env);
  try {
    const mongo = await buildRuntime(config, origin, quietLogger()).mongo('cdc-sync-reconcile');
    try {
      const view = createReconcileView(mongo.db(config.mongodb.database), {
        availability: plan.tables.balances === null ? null : plan.availabilityCollection,
        orders: plan.tables.orders === null ? null : plan.orderCollection,
      });
      const total = (await source.countBalances()) + (await source.countOrders());
      const progress = io.progress({ label: 'Reconciling', total, unit: 'source rows' });
      const compareOptions = { samples: options.samples, onSourceRow: () => progress.increment() };
      const comparisons: DriftReport[] = [];
      try {
        if (plan.tables.balances !== null) {
          comparisons.push(
            await compareBalances(
              sourceBalances(source, options.pageSize),
              viewBalances(view, options.pageSize),
              compareOptions,
            ),
          );
        }
        if (plan.tables.orders !== null) {
          comparisons.push(
            await compareOrderStatuses(
              sourceOrders(source, options.pageSize),
              viewOrders(view, options.pageSize),
              plan.statusOf,
              compareOptions,
            ),
          );
        }
      } finally {
        progress.stop();
      }
      return {
        source: source.description,
        view: view.description,
        drift: comparisons.reduce((sum, report) => sum + driftCount(report), 0),
        comparisons,
        skipped: plan.skipped,
      };
    } finally {
      await mongo.close();
    }
  } finally {
    await source.close();
  }
}

/** A table as `schema.table`, unquoted. */
type TableRef = { readonly schema: string; readonly name: string };

/** What to compare, from the config. */
type ReconcilePlan = {
  readonly tables: { readonly balances: TableRef | null; readonly orders: TableRef | null };
  readonly availabilityCollection: string;
  readonly orderCollection: string;
  readonly statusOf: (code: string) => string | undefined;
  readonly skipped: readonly SkippedComparison[];
};

function reconcilePlan(config: PipelineConfig, origin: string): ReconcilePlan {
  const skipped: SkippedComparison[] = [];
  const pick = (subject: string, table: string, transform: string, sink: string): TableRef | null => {
    const captured = config.source.tables.find((entry) => normalised(entry.split('.')[1]!) === normalised(table));
    const reason =
      captured === undefined
        ? `no ${table} table in source.tables of ${origin}`
        : config.transforms[transform] === false
          ? `transform ${transform} is disabled at transforms.${transform} in ${origin}`
          : config.sinks[sink] === false
            ? `sink ${sink} is disabled at sinks.${sink} in ${origin}`
            : undefined;
    if (reason !== undefined || captured === undefined) {
      skipped.push({ subject, reason: reason! });
      return null;
    }
    const [schema, name] = captured.split('.') as [string, string];
    return { schema, name };
  };
  const balances = pick('inventory balances', 'InventoryBalance', 'stock_level', inventoryAvailability.name);
  const orders = pick('order statuses', 'SalesOrderHeader', orderHeader.name, orderView.name);
  const sinkSettings = <S extends Parameters<typeof parseWithSchema>[0]>(schema: S, name: string) =>
    parseWithSchema(schema, config.sinks[name] || {}, ['sinks', name], origin);
  const statusMap =
    orders === null
      ? {}
      : parseWithSchema(
          orderHeader.configSchema,
          config.transforms[orderHeader.name] || {},
          ['transforms', orderHeader.name],
          origin,
        ).statusMap;
  return {
    tables: { balances, orders },
    availabilityCollection: sinkSettings(inventoryAvailability.configSchema, inventoryAvailability.name).collection,
    orderCollection: sinkSettings(orderView.configSchema, orderView.name).collection,
    statusOf: (code) => (Object.hasOwn(statusMap, code) ? statusMap[code] : undefined),
    skipped,
  };
}

async function openSource(
  config: PipelineConfig,
  tables: ReconcilePlan['tables'],
  options: ReconcileOptions,
  env: NodeJS.ProcessEnv,
): Promise<ReconcileSource> {
  const { connector, source } = config;
  switch (source.connector) {
    case 'postgresql':
      return openPostgresReconcileSource(
        {
          host: connector.host,
          port: connector.port ?? 5432,
          user: connector.user,
          password: connectorPassword(config, env),
          database: source.database,
        },
        { ...tables, names: source.names ?? 'snake-to-pascal' },
      );
    case 'sqlserver': {
      const port = connector.port ?? 1433;
      const executor = await createMssqlExecutor({
        host: connector.host,
        port,
        user: connector.user,
        password: connectorPassword(config, env),
        database: source.database,
        encrypt: connector.encrypt,
        trustServerCertificate: options.trustServerCertificate === true,
      });
      return createMssqlReconcileSource(executor, tables, `${connector.host}:${port}`);
    }
    case 'mysql':
      throw new ConfigError(
        'Reconcile reads SQL Server and PostgreSQL sources, not mysql (source.connector); compare MySQL by hand',
      );
  }
}

/** `InventoryBalance`, `inventory_balance` and `[InventoryBalance]` all become `inventorybalance`. */
function normalised(name: string): string {
  return name.replace(/[[\]_"]/g, '').toLowerCase();
}
