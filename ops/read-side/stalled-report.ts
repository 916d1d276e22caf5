import { parseWithSchema } from '../../core/config.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { ConfigError } from '../../core/errors.js';
import { orderView } from '../../sinks/mongo/order-view.js';
import { findStalledOrders, type StalledOrder, type StalledThresholds } from './stalled-orders.js';
import { buildRuntime, quietLogger } from '../runtime.js';

// `cdc-sync stalled`: the stalled orders of the configured order view, as a report the CLI prints.

/** What `cdc-sync stalled --json` prints. */
export type StalledReport = {
  /** The time ages are measured at, ISO-8601 UTC. */
  readonly now: string;
  readonly thresholdsMs: StalledThresholds;
  readonly collection: string;
  readonly stalled: readonly StalledOrder[];
};

/**
 * Reads the stalled orders from the configured order view collection. Throws
 * a `ConfigError` when the `order_view` sink is disabled, since there is then
 * no view to read.
 */
export async function stalledReport(
  config: PipelineConfig,
  origin: string,
  options: { readonly now: Date; readonly limit?: number },
): Promise<StalledReport> {
  const collection = orderViewCollection(config, origin);
  const client = await buildRuntime(config, origin, quietLogger()).mongo('cdc-sync-stalled');
  try {
    const stalled = await findStalledOrders(client.db(config.mongodb.database), {
      collection,
      thresholds: config.stalled,
      now: options.now,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    return { now: options.now.toISOString(), thresholdsMs: config.stalled, collection, stalled };
  } finally {
    await client.close();
  }
}

function orderViewCollection(config: PipelineConfig, origin: string): string {
  const settings = config.sinks[orderView.name];
  if (settings === false) {
    throw new ConfigError(
      `The ${orderView.name} sink is disabled at sinks.${orderView.name} in ${origin}; stalled orders are read from its collection`,
    );
  }
  return parseWithSchema(orderView.configSchema, settings ?? {}, ['sinks', orderView.name], origin).collection;
}
