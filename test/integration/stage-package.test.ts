import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runScopedSettings } from '../../demo/config.js';
import { freePort, services, uniqueName } from './services.js';

/**
 * A stage package in a folder outside the repository, depending on nothing of cdc-sync but its public entry: the
 * AdventureWorks example, copied out beside a cdc-sync installed from `npm pack`. Its fixture records go to the real
 * broker and registry with the installed `cdc-sync produce-fixtures`, and the installed `cdc-sync run` loads the
 * package by config and projects them into the real MongoDB-wire server.
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));
const example = join(repo, 'examples', 'adventureworks');
const exec = promisify(execFile);

let folder: string;
let worker: ChildProcess | undefined;
let workerLog = '';

beforeAll(async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'cdc-sync-stage-package-'));
  // What `npm pack` ships is dist/: build it from this checkout first.
  await exec('npm', ['run', 'build'], { cwd: repo });
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch], { cwd: repo });
  const tarball = join(scratch, packed.stdout.trim().split('\n').at(-1)!);
  folder = join(scratch, 'erp-stages');
  for (const file of ['index.ts', 'inventory.ts', 'orders.ts', 'tables.ts', 'fixtures']) {
    cpSync(join(example, file), join(folder, file), { recursive: true });
  }
  const manifest = JSON.parse(readFileSync(join(example, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({ ...manifest, dependencies: { 'cdc-sync': `file:${tarball}` } }, null, 2),
  );
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: folder });
}, 300_000);

afterAll(async () => {
  if (worker !== undefined && worker.exitCode === null) {
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker!.once('exit', resolve));
  }
});

/** The example's pipeline config, its endpoints the test's services and its topics, groups and database its own. */
async function isolatedConfig(run: string): Promise<string> {
  const { kafkaBrokers, schemaRegistryUrl, mongodbUri } = services();
  const config = parseYaml(readFileSync(join(example, 'pipeline.yaml'), 'utf8')) as Record<string, unknown>;
  const file = join(folder, 'pipeline.yaml');
  writeFileSync(
    file,
    stringifyYaml({
      ...config,
      logLevel: 'warn',
      kafka: { brokers: [...kafkaBrokers], clientId: run },
      schemaRegistry: { url: schemaRegistryUrl },
      mongodb: { uri: mongodbUri, database: run },
      source: { ...(config['source'] as object), topicPrefix: run },
      ...runScopedSettings(run),
      backoff: { initialMs: 200, maxMs: 2000 },
      ops: { port: await freePort() },
    }),
  );
  return file;
}

/** The installed `cdc-sync` binary of the package folder. */
const cdcSync = () => join(folder, 'node_modules', '.bin', 'cdc-sync');

/** Polls `read` until `done` holds for what it read, failing after `timeoutMs` with the last read and the worker's log. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      const last = JSON.stringify(value, null, 2);
      throw new Error(
        `The read models did not reach the expected state in time; last read:\n${last}\nThe worker wrote:\n${workerLog}`,
      );
    }
    await sleep(250);
  }
}

describe('a stage package outside the repository', () => {
  it('is loaded by cdc-sync run from its config and projects AdventureWorks records into the read models', async () => {
    const run = uniqueName('aw').replace(/-/g, '_');
    const config = await isolatedConfig(run);
    const { kafkaBrokers, schemaRegistryUrl, mongodbUri } = services();

    const produced = await exec(
      cdcSync(),
      [
        'produce-fixtures',
        'fixtures/trading-day.yaml',
        '--config',
        'pipeline.yaml',
        '--server',
        run,
        '--brokers',
        kafkaBrokers.join(','),
        '--registry',
        schemaRegistryUrl,
      ],
      { cwd: folder },
    );
    expect(
      produced.stdout
        .split('\n')
        .filter((line) => line.startsWith(run))
        .map((line) => line.split(/\s+/)[0]),
    ).toEqual([
      `${run}.AdventureWorks.Production.ProductInventory`,
      `${run}.AdventureWorks.Sales.SalesOrderHeader`,
      `${run}.AdventureWorks.Sales.SalesOrderDetail`,
    ]);

    worker = spawn(cdcSync(), ['run', '--config', config], { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
    worker.stderr!.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));

    const mongo = await MongoClient.connect(mongodbUri);
    try {
      const db = mongo.db(run);
      // A document is written part by part (header, status, lines, milestones): wait for the last change of each.
      const orders = await eventually(
        () =>
          db
            .collection('order_view')
            .find({}, { sort: { _id: 1 } })
            .toArray(),
        ([shipped, cancelled, ...more]) =>
          more.length === 0 &&
          shipped !== undefined &&
          cancelled !== undefined &&
          shipped['header'] !== null &&
          cancelled['header'] !== null &&
          shipped['status'] === 'SHIPPED' &&
          cancelled['status'] === 'CANCELLED' &&
          Object.keys(shipped['lines'] as object).length === 2 &&
          (shipped['milestones'] as Record<string, unknown>)['shipped'] !== undefined,
      );
      expect(
        orders.map(({ _id, status, customerId, header }) => ({
          _id,
          status,
          customerId,
          channel: header.channel,
          currency: header.currency,
          orderTotal: String(header.orderTotal),
          placedAt: header.placedAt,
        })),
      ).toEqual([
        {
          _id: 'SO43659',
          status: 'SHIPPED',
          customerId: '29825',
          channel: 'SALES_REP',
          currency: 'USD',
          orderTotal: '23153.2339',
          placedAt: '2011-05-31T00:00:00.000-07:00',
        },
        {
          _id: 'SO43660',
          status: 'CANCELLED',
          customerId: '29672',
          channel: 'SALES_REP',
          currency: 'USD',
          orderTotal: '1457.3288',
          placedAt: '2011-05-31T00:00:00.000-07:00',
        },
      ]);
      // Status 5 set the shipped milestone at the local ShipDate; no order waits for a payment in this profile.
      expect(orders.map((order) => Object.keys(order['milestones'] as object).sort())).toEqual([
        ['accepted', 'shipped'],
        ['accepted'],
      ]);
      expect((orders[0]!['milestones'] as Record<string, Document>)['shipped']!['at']).toBe(
        '2011-06-07T00:00:00.000-07:00',
      );
      expect(
        Object.values(orders[0]!['lines'] as Record<string, Document>).map(({ lineNo, sku, quantity, unitPrice }) => [
          lineNo,
          sku,
          String(quantity),
          String(unitPrice),
        ]),
      ).toEqual([
        [1, '776', '1.000', '2024.9940'],
        [2, '777', '3.000', '2024.9940'],
      ]);

      const stock = await eventually(
        () =>
          db
            .collection('inventory_availability')
            .find({}, { sort: { _id: 1 } })
            .toArray(),
        (found) => found.length === 2 && String(found[0]!['onHand']) === '404.000' && found[1]!['removed'] === true,
      );
      expect(stock.map(({ _id, sku, location, removed }) => ({ _id, sku, location, removed }))).toEqual([
        { _id: '1@1', sku: '1', location: '1', removed: false },
        { _id: '1@6', sku: '1', location: '6', removed: true },
      ]);
      expect(stock.map((doc) => [String(doc['onHand']), String(doc['available'])])).toEqual([
        ['404.000', '404.000'],
        ['324.000', '324.000'],
      ]);
    } finally {
      await mongo.close();
    }

    // The profile's waits: a month later, the shipped order does not wait for a payment it never has.
    const stalled = await exec(cdcSync(), ['stalled', '--config', 'pipeline.yaml', '--now', '2011-07-01T00:00:00Z'], {
      cwd: folder,
    });
    expect(stalled.stdout.trim()).toBe(
      'No stalled orders in order_view as of 2011-07-01T00:00:00.000Z (thresholds: awaitingPayment off, awaitingShipment 7d, awaitingRefund off)',
    );

    worker.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    expect(code, workerLog).toBe(0);
  }, 240_000);
});
