import { connect, createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cleanup, type DemoPipeline, startDemoPipeline } from '../../demo/pipeline.js';
import { type PipelineConfig } from '../../ops/pipeline-config.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { resolveStackPaths, serviceFiles } from '../../stack/paths.js';
import { defaultServices } from '../../stack/stack.js';
import {
  ERP_FIXTURES,
  groupProgress,
  isolatedPipelineConfig,
  kafkaFor,
  produceFixtures,
  readTopic,
  waitCaughtUp,
} from './pipeline-harness.js';
import { services } from './services.js';

/** The last lines of every give-up message here: the shared stack's logs, as `stack status` lists them. */
const SERVICE_LOG_LINES = [
  'Service logs (npm run stack:status):',
  ...defaultServices().map(
    (service) => `  - ${service.name}: ${serviceFiles(resolveStackPaths(), service.name).logFile}`,
  ),
];
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

/** A stream standing in for stderr, collecting the pipeline's error lines. */
function captureLines() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { stream, lines };
}

/** A TCP proxy to `target`; `cut` closes it and every connection through it, so the target seems gone. */
async function tcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`No port from ${String(address)}`);
  return {
    port: address.port,
    connections: () => sockets.size,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** `text` as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How many records the fixtures put on `topic`. */
function recordsOn(results: Awaited<ReturnType<typeof produceFixtures>>, topic: string): number {
  return results.flatMap((result) => result.records).filter((record) => record.topic === topic).length;
}

/** Polls `condition` every 250 ms until it holds, for at most `timeoutMs`; throws naming `what` otherwise. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(250);
  }
}

describe('the demo giving up', () => {
  const cleanups: Cleanup[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup.run();
  });

  async function startDemo(config: PipelineConfig, errors: Writable): Promise<DemoPipeline> {
    return startDemoPipeline(config, cleanups, { services: defaultServices(), errors });
  }

  it('fails at once when a worker stops for good, saying which worker, which group lags, the warnings and the logs', async () => {
    const config = isolatedPipelineConfig();
    const kafka = kafkaFor(config);
    const balances = sourceTopic(config.source, 'dbo.InventoryBalance');
    const produced = recordsOn(await produceFixtures(config, [ERP_FIXTURES.inventoryBurst]), balances);
    const errors = captureLines();
    const demo = await startDemo(config, errors.stream);
    await waitCaughtUp(kafka, config.transform.groupId, [balances]);

    // A second producer with the transform's transactional id fences it: the broker refuses its next transaction for
    // good (INVALID_PRODUCER_EPOCH), a failure kafkajs does not restart the consumer from.
    const fencing = kafka.producer({ transactionalId: config.transform.transactionalId!, idempotent: true });
    await fencing.connect();
    try {
      await (await fencing.transaction()).abort();
    } finally {
      await fencing.disconnect();
    }
    await produceFixtures(config, [ERP_FIXTURES.inventoryBurst]);

    // Far longer than the test may take: the pause can only end because the worker stopped.
    const failure = await demo.pause(600_000).then(
      () => new Error('The pause ended without a failure'),
      (error: unknown) => error as Error,
    );

    const fenced =
      "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker";
    expect(produced).toBe(23);
    expect(failure.message.replace(ISO_TIME, '<time>').split('\n')).toEqual([
      `The consumer of group ${config.transform.groupId} stopped after an error it does not restart from: ${fenced}`,
      'Consumer groups behind the end of their topics:',
      `  - ${config.transform.groupId} on ${balances}[0]: committed 23, end 46 (23 behind)`,
      "The pipeline's last warnings and errors (most recent last):",
      `  - <time> WARN kafkajs: Response AddPartitionsToTxn(key: 24, version: 1): ${fenced}`,
      `  - <time> WARN kafkajs: ${fenced}`,
      `  - <time> WARN kafkajs: Crash: KafkaJSNonRetriableError: ${fenced}`,
      ...SERVICE_LOG_LINES,
    ]);
    // The terminal showed no error line: kafkajs' own are warnings to the pipeline, which is why the message has them.
    expect(errors.lines).toEqual([]);
    // Every later wait fails the same way.
    await expect(demo.pause(1)).rejects.toThrow(failure.message.split('\n')[0]);
  });

  it('says which group waits on which topic and what the pipeline warned about when the read models stall', async () => {
    const mongo = new URL(services().mongodbUri);
    const proxy = await tcpProxy({ host: mongo.hostname, port: Number(mongo.port || 27017) });
    cleanups.unshift({ what: 'MongoDB proxy', run: proxy.cut });
    const config = isolatedPipelineConfig({
      mongodb: { uri: `mongodb://127.0.0.1:${proxy.port}/` },
      // One readiness probe at start-up only, so that the warnings below are the sink's alone.
      ops: { probeIntervalMs: 3_600_000 },
    });
    const errors = captureLines();
    const demo = await startDemo(config, errors.stream);
    expect(proxy.connections()).toBeGreaterThan(0);
    // MongoDB is gone for the pipeline from now on, while Kafka and the registry stay up.
    await proxy.cut();
    const balances = sourceTopic(config.source, 'dbo.InventoryBalance');
    expect(recordsOn(await produceFixtures(config, [ERP_FIXTURES.inventoryBurst]), balances)).toBe(23);
    await waitCaughtUp(kafkaFor(config), config.transform.groupId, [balances]);
    await waitFor('A retry of the sink', () => demo.warnings().some((w) => w.component === 'sink-runner'));

    const message = (await demo.giveUp('The read models did not show the ERP traffic within 120 s')).message;

    // Read apart from the report: the canonical events the transform committed, and the end, which also counts the
    // transactions' commit markers.
    const kafka = kafkaFor(config);
    const events = await readTopic(kafka, config.topics.inventory);
    const end = (await groupProgress(kafka, config.sink.groupId, [config.topics.inventory])).ends[
      `${config.topics.inventory}[0]`
    ];
    expect(events.length).toBeGreaterThan(0);
    expect(BigInt(end!)).toBeGreaterThan(BigInt(events.length));
    expect(message.replace(ISO_TIME, '<time>').split('\n')).toEqual([
      'The read models did not show the ERP traffic within 120 s',
      'Consumer groups behind the end of their topics:',
      `  - ${config.sink.groupId} on ${config.topics.inventory}[0]: committed nothing, end ${end} (${end} behind)`,
      "The pipeline's last warnings and errors (most recent last):",
      // The batch is retried every few seconds, so the line may have come more than once by now.
      expect.stringMatching(
        new RegExp(
          `^${escape(`  - <time> WARN sink-runner ${config.topics.inventory}[0]@0..${events.at(-1)!.offset}: Transient failure; partition paused, retrying the batch after backoff: MongoDB failed without a server error code during bulkWrite on inventory_availability: connect ECONNREFUSED 127.0.0.1:${proxy.port}`)}( \\(\\d+ times since <time>\\))?$`,
        ),
      ),
      ...SERVICE_LOG_LINES,
    ]);
    expect(errors.lines).toEqual([]);
  });
});
