import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineConfig } from '../../ops/pipeline-config.js';
import { DEAD_LETTER_HEADERS } from '../../core/runner/dead-letter.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { soloBatchBytes } from '../../connectors/kafka/produce-limits.js';
import {
  ERP_FIXTURES,
  groupProgress,
  isolatedPipelineConfig,
  kafkaFor,
  pipelineTopics,
  produceFixtures,
  readTopic,
  waitCaughtUp,
} from './pipeline-harness.js';

/** Room for two or three stock events per record batch: the burst's 22 events need several produce requests. */
const INVENTORY_MAX_MESSAGE_BYTES = 1024;
/** Less than any order event takes on its own: every one of them can never be produced to this topic. */
const ORDER_MAX_MESSAGE_BYTES = 64;

// The limited run's canonical topics take only small record batches; the reference run reads the same source topics
// into canonical topics with the broker's default limit, and shows what the limited run should have produced.
const limited = isolatedPipelineConfig();
const reference = isolatedPipelineConfig({ source: { topicPrefix: limited.source.topicPrefix } });
const kafka = kafkaFor(limited);
const pipelines: RunningPipeline[] = [];

/** Starts a transform worker and waits until it committed every source record, failing at once if it halts. */
async function transformCaughtUp(config: PipelineConfig): Promise<Record<string, string>> {
  const pipeline = await startPipeline(config, 'transform', pino({ level: 'silent' }), 'the test');
  pipelines.push(pipeline);
  return Promise.race([
    waitCaughtUp(kafka, config.transform.groupId, pipelineTopics(config).source),
    pipeline.halted.then((error) => Promise.reject(error)),
  ]);
}

async function decodedEvents(config: PipelineConfig, topic: string) {
  const codec = createCanonicalRegistryCodec({
    registryUrl: config.schemaRegistry.url,
    topics: { inventory: config.topics.inventory, order: config.topics.order },
  });
  const events = [];
  for (const record of await readTopic(kafka, topic)) events.push(await codec.decode({ ...record, topic }));
  return events;
}

describe('a transform worker whose canonical events exceed what the broker takes in one record batch', () => {
  let committed: Record<string, string> = {};

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: limited.topics.inventory,
            configEntries: [{ name: 'max.message.bytes', value: String(INVENTORY_MAX_MESSAGE_BYTES) }],
          },
          {
            topic: limited.topics.order,
            configEntries: [{ name: 'max.message.bytes', value: String(ORDER_MAX_MESSAGE_BYTES) }],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    await produceFixtures(limited, [ERP_FIXTURES.orderLifecycle, ERP_FIXTURES.inventoryBurst]);
    committed = await transformCaughtUp(limited);
    await transformCaughtUp(reference);
  });

  afterAll(async () => {
    for (const pipeline of pipelines) await pipeline.stop();
  });

  it('commits every source record', async () => {
    const { ends } = await groupProgress(kafka, limited.transform.groupId, pipelineTopics(limited).source);
    expect(committed).toEqual(ends);
    expect(ends[`${limited.source.topicPrefix}.ErpDemo.dbo.InventoryBalance[0]`]).toBe('23');
  });

  it('publishes every stock event, split into record batches the topic takes', async () => {
    const published = await decodedEvents(limited, limited.topics.inventory);
    expect(published).toHaveLength(22);
    expect(published).toEqual(await decodedEvents(reference, reference.topics.inventory));
  });

  it('dead-letters each change whose event can never fit, naming topic, key and size', async () => {
    const deadLetters = await readTopic(kafka, limited.topics.deadLetter);
    const source = (table: string) => `${limited.source.topicPrefix}.ErpDemo.dbo.${table}`;
    expect(
      deadLetters
        .map((deadLetter) => [
          deadLetter.headers[DEAD_LETTER_HEADERS.topic],
          deadLetter.headers[DEAD_LETTER_HEADERS.offset],
          deadLetter.headers[DEAD_LETTER_HEADERS.stage],
          deadLetter.headers[DEAD_LETTER_HEADERS.errorClass],
        ])
        .sort(),
    ).toEqual(
      [
        [source('PaymentTransaction'), '2', 'payment_captured'],
        [source('Refund'), '1', 'refund_completed'],
        [source('ReturnAuthorization'), '1', 'return_received'],
        [source('SalesOrderHeader'), '0', 'order_header'],
        [source('SalesOrderHeader'), '1', 'order_header'],
        [source('SalesOrderHeader'), '2', 'order_header'],
        [source('SalesOrderHeader'), '3', 'order_header'],
        [source('SalesOrderHeader'), '4', 'order_header'],
        [source('SalesOrderLine'), '0', 'order_line'],
        [source('SalesOrderLine'), '1', 'order_line'],
        [source('SalesOrderLine'), '2', 'order_line'],
        [source('Shipment'), '1', 'shipment_dispatched'],
      ].map((entry) => [...entry, 'RecordTooLargeError']),
    );
    // One order event per change, each named with what it takes as a record batch of its own: the same events as
    // the reference run published.
    const referenceEvents = await readTopic(kafka, reference.topics.order);
    expect(deadLetters.map((deadLetter) => deadLetter.headers[DEAD_LETTER_HEADERS.errorMessage]).sort()).toEqual(
      referenceEvents
        .map(
          ({ key, value, headers }) =>
            `Record for topic ${limited.topics.order} with key ${key} takes ${soloBatchBytes({ topic: limited.topics.order, key, value, headers })} bytes as a record batch of its own; the topic takes at most ${ORDER_MAX_MESSAGE_BYTES} (max.message.bytes)`,
        )
        .sort(),
    );
    expect(await readTopic(kafka, limited.topics.order)).toEqual([]);
  });
});
