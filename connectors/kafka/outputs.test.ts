import { type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RecordTooLargeError } from '../../core/errors.js';
import { type OutputRecord } from '../../core/runner/ports.js';
import { commitInTransaction } from './outputs.js';
import { splitToFit } from './produce-limits.js';

/** A transactional producer that records what each transaction was asked to do. */
function recordingProducer() {
  const calls: string[] = [];
  const producer = {
    transaction: async () => {
      calls.push('begin');
      return {
        sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: { key: string }[] }[] }) => {
          calls.push(
            `send ${topicMessages.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join(',')}`).join(' ')}`,
          );
        },
        sendOffsets: async ({ topics }: { topics: { partitions: { offset: string }[] }[] }) => {
          calls.push(`offsets ${topics[0]!.partitions[0]!.offset}`);
        },
        commit: async () => void calls.push('commit'),
        abort: async () => void calls.push('abort'),
      };
    },
  } as unknown as Producer;
  return { producer, calls };
}

const limits = { split: async (records: readonly OutputRecord[]) => splitToFit(records, () => 400, 1_048_576) };
const offsets = { consumerGroupId: 'g', topic: 'source', partitions: [{ partition: 0, offset: '42' }] };

function event(key: string, valueBytes = 100): OutputRecord {
  return { topic: 'canonical', key, value: Buffer.alloc(valueBytes) };
}

describe('commitInTransaction', () => {
  it('sends outputs larger than one request takes as several requests of one transaction, then the offsets', async () => {
    const { producer, calls } = recordingProducer();
    const records = ['a', 'b', 'c', 'd', 'e'].map((key) => event(key));
    await commitInTransaction(producer, limits, records, offsets, { topic: 'source', partition: 0 });
    expect(calls).toEqual(['begin', 'send canonical:a,b,c', 'send canonical:d,e', 'offsets 42', 'commit']);
  });

  it('starts no transaction when a record can never be produced', async () => {
    const { producer, calls } = recordingProducer();
    await expect(
      commitInTransaction(producer, limits, [event('a'), event('huge', 400)], offsets, { topic: 'source' }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(calls).toEqual([]);
  });
});
