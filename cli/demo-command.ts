import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { pino } from 'pino';
import { parsePipelineConfig } from '../core/config.js';
import { readFixtureFile } from '../connectors/fixtures/fixture-file.js';
import { createFixtureProducer } from '../connectors/fixtures/producer.js';
import { connectMongo } from '../sinks/mongo/connect.js';
import { readModelSnapshot, type ReadModelSnapshot } from '../sinks/mongo/read-models.js';
import { createStack, defaultServices } from '../stack/stack.js';
import { startPipeline } from './pipeline.js';
import { formatTable } from './table.js';

/** Recorded ERP traffic the demo replays: one order's lifecycle and a burst of stock moves. */
const SAMPLE_TRAFFIC = ['order-lifecycle.json', 'inventory-burst.json'].map((name) =>
  fileURLToPath(new URL(`../test/fixtures/erp/${name}`, import.meta.url)),
);

/** How long the read models must stay unchanged before the demo calls them in sync. */
const SETTLED_AFTER_MS = 4000;

/**
 * `cdc-sync demo`: the quick start's main job. Brings up the local stack
 * (unless every endpoint is given by env), replays recorded ERP traffic as
 * Debezium records, runs the pipeline, and prints what the read models say as
 * they change. Ctrl-C stops the pipeline and whatever part of the stack the
 * demo started.
 */
export function createDemoCommand(): Command {
  return new Command('demo')
    .description('Run the pipeline on the local stack over recorded ERP traffic and show the read models as they fill')
    .option('--once', 'exit once the read models are in sync, instead of running until Ctrl-C')
    .action(async (options: { once?: boolean }) => {
      const say = (line: string): void => void process.stderr.write(`${line}\n`);
      const services = defaultServices();
      const endpoint = (name: string): string => {
        const service = services.find((s) => s.name === name)!;
        return process.env[service.endpointEnv] || service.endpoint;
      };
      const needStack = services.filter((service) => !process.env[service.endpointEnv]);
      say('1/4 Bringing up the local stack (first run downloads and builds; later runs take seconds)');
      const stack = createStack(needStack);
      const started = (await stack.up(say)).filter((r) => !r.alreadyRunning).map((r) => r.name);

      const run = `demo_${Date.now().toString(36)}`;
      const config = parsePipelineConfig(
        {
          logLevel: 'error',
          kafka: { brokers: endpoint('kafka').split(',') },
          schemaRegistry: { url: endpoint('schema-registry') },
          mongodb: { uri: endpoint('mongo-wire'), database: 'cdc_sync_demo' },
          source: { topicPrefix: run },
          transform: { groupId: `${run}-transform`, transactionalId: `${run}-tx` },
          sink: { groupId: `${run}-sink` },
        },
        'the demo',
      );

      say(`2/4 Replaying recorded ERP traffic as Debezium records on ${run}.ErpDemo.dbo.*`);
      const producer = createFixtureProducer({ brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url });
      try {
        for (const file of SAMPLE_TRAFFIC) await producer.produce(readFixtureFile(file, { server: run }));
      } finally {
        await producer.disconnect();
      }

      say('3/4 Starting the pipeline: transforms → canonical topics → sinks → MongoDB');
      const mongo = await connectMongo(config.mongodb.uri);
      const db = mongo.db(config.mongodb.database);
      // Each demo run replays onto topics of its own, so its read models start empty too.
      await db.dropDatabase();
      const pipeline = await startPipeline(config, 'all', pino({ level: 'error' }, pino.destination(2)), 'the demo');

      let stopping = false;
      const stop = new Promise<void>((resolve) => {
        const onSignal = (): void => {
          stopping = true;
          resolve();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });

      say('4/4 Read models as they change (Ctrl-C stops everything the demo started)');
      let shown = '';
      let changedAt = Date.now();
      let announced = false;
      while (!stopping) {
        const text = formatSnapshot(await readModelSnapshot(db));
        if (text !== shown) {
          shown = text;
          changedAt = Date.now();
          process.stdout.write(`\n${text}\n`);
        } else if (
          !announced &&
          Date.now() - changedAt > SETTLED_AFTER_MS &&
          pipeline.counters.get('batches.committed') > 0
        ) {
          announced = true;
          say(whereToLookNext(config.mongodb.uri, config.mongodb.database));
          if (options.once === true) break;
        }
        await Promise.race([sleep(1000), stop]);
      }

      await pipeline.stop();
      await mongo.close();
      if (started.length > 0) {
        say(`Stopping what the demo started: ${started.join(', ')}`);
        await createStack(needStack.filter((service) => started.includes(service.name))).down(say);
      }
    });
}

/** The read models as two short tables. */
export function formatSnapshot(snapshot: ReadModelSnapshot): string {
  const availability = formatTable([
    ['SKU', 'LOCATION', 'ON HAND', 'RESERVED', 'AVAILABLE', 'FLAGS'],
    ...snapshot.availability.map((row) => [
      row.sku,
      row.location,
      row.onHand,
      row.reserved,
      row.available,
      row.flags.join(','),
    ]),
  ]);
  const orders = formatTable([
    ['ORDER', 'STATUS', 'LINES', 'PAYMENTS', 'SHIPMENTS', 'TRACKING', 'MILESTONES'],
    ...snapshot.orders.map((row) => [
      row.orderNumber,
      row.status,
      String(row.lines),
      String(row.payments),
      String(row.shipments),
      row.trackingNumbers.join(','),
      row.milestones.join(','),
    ]),
  ]);
  return `inventory_availability\n${availability}\n\norder_view\n${orders}`;
}

function whereToLookNext(uri: string, database: string): string {
  return [
    '',
    'The read models are in sync. Where to look next:',
    `  - MongoDB ${uri}, database ${database}: inventory_availability, inventory_availability_by_sku, order_view`,
    '  - try your own ERP changes: cdc-sync produce-fixtures <file> (format: connectors/fixtures/README.md)',
    '  - run the pipeline on your config: cdc-sync run --config <file>',
    '  - the services: npm run stack:status',
  ].join('\n');
}
