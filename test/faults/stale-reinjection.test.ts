import { type Document, MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { groupProgress } from '../integration/pipeline-harness.js';
import { endCheck, expectClean, readRaw, READ_MODELS, waitPipelineDone } from './harness/end-check.js';
import { fixtureScenario } from './harness/scenario.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';

// Scenario 13: stale re-injection. After a complete run, the older half of each canonical topic is produced onto the
// topic again (byte for byte, same keys, so same partitions), as a misdirected replay tool or a mirror would, while
// the sink runs. The sink must consume all of it and write nothing: every re-injected event is older than what the
// read models hold, so not one document may change, not even its _meta.appliedAt.

describe('scenario 13: stale re-injection of an old range of the canonical topics', () => {
  const s = fixtureScenario();

  afterAll(() => s.dispose());

  it('consumes the old range and changes no document', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(13000, 6, 2), ...s.erp.stockMoves(600)]);
    const workers = [s.worker('transform', 'transform'), s.worker('sink', 'sink')];
    await Promise.all(workers.map((worker) => worker.ready()));
    await waitPipelineDone(s.kafka, s.config);

    const mongo = new MongoClient(s.config.mongodb.uri);
    const snapshot = async () => {
      const db = mongo.db(s.config.mongodb.database);
      const models: Record<string, Document[]> = {};
      for (const name of READ_MODELS) models[name] = await db.collection(name).find().sort({ _id: 1 }).toArray();
      return models;
    };
    const codec = createCanonicalRegistryCodec({
      registryUrl: s.config.schemaRegistry.url,
      topics: { inventory: s.config.topics.inventory, order: s.config.topics.order },
    });
    const reinjected = new Set<string>();
    try {
      const before = await snapshot();
      const producer = s.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      let copies = 0;
      try {
        for (const topic of [s.config.topics.inventory, s.config.topics.order]) {
          const records = await readRaw(s.kafka, topic);
          const old = records.slice(0, Math.floor(records.length / 2));
          for (const record of old) reinjected.add((await codec.decode({ ...record, topic })).meta.eventId);
          await producer.send({
            topic,
            acks: -1,
            messages: old.map((record) => ({ key: record.key, value: record.value, partition: record.partition })),
          });
          copies += old.length;
        }
      } finally {
        await producer.disconnect();
      }
      const injectedAt = new Date();
      await waitPipelineDone(s.kafka, s.config);
      const { committed } = await groupProgress(s.kafka, s.config.sink.groupId, [
        s.config.topics.inventory,
        s.config.topics.order,
      ]);
      // Not one write: every document exactly as before, _meta.appliedAt included.
      expect(await snapshot()).toEqual(before);

      const result = await endCheck({
        report: {
          name: '13 stale re-injection',
          fault: 'the older half of both canonical topics produced again while the sink runs',
          landed:
            `${injectedAt.toISOString()}: ${copies} old events re-injected; the sink consumed them ` +
            `(committed ${Object.entries(committed)
              .map(([key, offset]) => `${key.split('.').slice(-3).join('.')}@${offset}`)
              .join(', ')}) ` +
            'and changed no document',
        },
        config: s.config,
        erp: s.erp,
        running: workers,
        expectedCount: (eventId, uninterrupted) => (reinjected.has(eventId) ? uninterrupted + 1 : uninterrupted),
      });
      expectClean(result);
    } finally {
      await mongo.close();
    }
  });
});
