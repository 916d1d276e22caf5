import { type Kafka, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RecordTooLargeError, SourceUnavailableError } from '../../core/errors.js';
import { type OutputRecord } from '../../core/runner/ports.js';
import {
  commitInTransaction,
  createTransactionalProducer,
  type TransactionOffsets,
  whileCoordinatorBusy,
} from './outputs.js';
import { splitToFit } from './produce-limits.js';

/** A kafkajs-shaped error: kafkajs' classes are not importable by name, so tests build the shape they match on. */
function kafkaJsError(name: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...fields });
}

type Step = 'transaction' | 'sendBatch' | 'sendOffsets' | 'commit' | 'abort' | 'connect' | 'disconnect';

/**
 * A transactional producer that records each call in order, with its argument, and fails the steps in `failures`
 * with their error; each call is also logged to `log` as `<name> <step>`.
 */
function scriptedProducer(failures: Partial<Record<Step, Error | Error[]>> = {}, log: string[] = [], name = '1') {
  const calls: [Step, unknown?][] = [];
  const step = async (step: Step, argument?: unknown) => {
    calls.push(argument === undefined ? [step] : [step, argument]);
    log.push(`${name} ${step}`);
    // One error: every call fails; a list: the first calls fail with it in turn, the later ones succeed.
    const failure = failures[step];
    const error = Array.isArray(failure) ? failure.shift() : failure;
    if (error !== undefined) throw error;
  };
  const transaction = {
    sendBatch: (batch: unknown) => step('sendBatch', batch),
    sendOffsets: (offsets: unknown) => step('sendOffsets', offsets),
    commit: () => step('commit'),
    abort: () => step('abort'),
  };
  const producer = {
    transaction: async () => {
      await step('transaction');
      return transaction;
    },
    connect: () => step('connect'),
    disconnect: () => step('disconnect'),
  } as unknown as Producer;
  return { producer, calls };
}

/**
 * A Kafka client whose n-th producer (from 1) fails the steps in `failures[n - 1]`; `calls` logs every producer's
 * calls as `<n> <step>`, and `settings` holds what each was created with.
 */
function scriptedKafka(...failures: Partial<Record<Step, Error>>[]) {
  const calls: string[] = [];
  const settings: unknown[] = [];
  const kafka = {
    producer: (config: unknown) => {
      const n = settings.push(config);
      return scriptedProducer(failures[n - 1] ?? {}, calls, String(n)).producer;
    },
  } as unknown as Kafka;
  return { kafka, calls, settings };
}

/** Limits that put every record in one request, as long as there is one. */
const oneRequest = {
  split: async (batch: readonly OutputRecord[]) => (batch.length === 0 ? [] : [[...batch]]),
};

const LOCATION = { topic: 'erp.ErpDemo.dbo.InventoryBalance', partition: 0, offset: '12' };

const records: OutputRecord[] = [
  { topic: 'canonical.inventory.v1', key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: '1' } },
  { topic: 'canonical.order.v1', key: Buffer.from('k2'), value: Buffer.from('v2'), headers: {} },
  { topic: 'canonical.inventory.v1', key: Buffer.from('k3'), value: null, headers: {} },
];

const offsets: TransactionOffsets = {
  consumerGroupId: 'transform',
  topics: [{ topic: LOCATION.topic, partitions: [{ partition: 0, offset: '13' }] }],
};

const sentBatch = {
  topicMessages: [
    {
      topic: 'canonical.inventory.v1',
      messages: [
        { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: '1' } },
        { key: Buffer.from('k3'), value: null, headers: {} },
      ],
    },
    { topic: 'canonical.order.v1', messages: [{ key: Buffer.from('k2'), value: Buffer.from('v2'), headers: {} }] },
  ],
  compression: 0,
};
const sentOffsets = {
  consumerGroupId: 'transform',
  topics: [{ topic: LOCATION.topic, partitions: [{ partition: 0, offset: '13' }] }],
};

describe('commitInTransaction', () => {
  it('sends the records grouped by topic, then the offsets, then commits, in one transaction', async () => {
    const { producer, calls } = scriptedProducer();

    await commitInTransaction(producer, oneRequest, records, offsets, LOCATION);

    expect(calls).toEqual([['transaction'], ['sendBatch', sentBatch], ['sendOffsets', sentOffsets], ['commit']]);
  });

  it('sends only the offsets when a batch has no outputs, and only the records without offsets', async () => {
    const noRecords = scriptedProducer();
    await commitInTransaction(noRecords.producer, oneRequest, [], offsets, LOCATION);
    const noOffsets = scriptedProducer();
    await commitInTransaction(noOffsets.producer, oneRequest, records, { ...offsets, topics: [] }, LOCATION);

    expect(noRecords.calls).toEqual([['transaction'], ['sendOffsets', sentOffsets], ['commit']]);
    expect(noOffsets.calls).toEqual([['transaction'], ['sendBatch', sentBatch], ['commit']]);
  });

  it('sends the offsets again while the coordinator is still finishing the previous transaction', async () => {
    const busy = kafkaJsError('KafkaJSProtocolError', 'another concurrent operation', {
      type: 'CONCURRENT_TRANSACTIONS',
    });
    const { producer, calls } = scriptedProducer({ sendOffsets: [busy, busy] });

    await commitInTransaction(producer, oneRequest, [], offsets, LOCATION);

    const send = ['sendOffsets', sentOffsets];
    expect(calls).toEqual([['transaction'], send, send, send, ['commit']]);
  });

  it.each([
    ['sending the records', 'sendBatch', [['transaction'], ['sendBatch', sentBatch], ['abort']]],
    [
      'sending the offsets',
      'sendOffsets',
      [['transaction'], ['sendBatch', sentBatch], ['sendOffsets', sentOffsets], ['abort']],
    ],
    [
      'committing',
      'commit',
      [['transaction'], ['sendBatch', sentBatch], ['sendOffsets', sentOffsets], ['commit'], ['abort']],
    ],
  ] as const)(
    'aborts when %s fails, and throws the failure unchanged when it is not transient',
    async (_case, at, steps) => {
      const refused = kafkaJsError('KafkaJSProtocolError', 'The producer has been fenced', { retriable: false });
      const { producer, calls } = scriptedProducer({ [at]: refused });

      await expect(commitInTransaction(producer, oneRequest, records, offsets, LOCATION)).rejects.toBe(refused);

      expect(calls).toEqual(steps);
    },
  );

  it('aborts and throws a retriable SourceUnavailableError, naming the batch, when Kafka is unreachable', async () => {
    const down = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    const { producer, calls } = scriptedProducer({ sendOffsets: down });

    const failure = await commitInTransaction(producer, oneRequest, records, offsets, LOCATION).catch(
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(SourceUnavailableError);
    const unavailable = failure as SourceUnavailableError;
    expect([unavailable.retriable, unavailable.message, unavailable.location, unavailable.cause]).toEqual([
      true,
      'Kafka is unavailable: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      LOCATION,
      down,
    ]);
    expect(calls.map(([name]) => name)).toEqual(['transaction', 'sendBatch', 'sendOffsets', 'abort']);
  });

  it('throws the failure, not the abort’s, when the abort fails too: the broker aborts on its own later', async () => {
    const refused = kafkaJsError('KafkaJSProtocolError', 'The request included a message larger than the max');
    const { producer, calls } = scriptedProducer({
      sendBatch: refused,
      abort: kafkaJsError('KafkaJSNonRetriableError', 'Transaction state machine is in an invalid state'),
    });

    await expect(commitInTransaction(producer, oneRequest, records, offsets, LOCATION)).rejects.toBe(refused);

    expect(calls.map(([name]) => name)).toEqual(['transaction', 'sendBatch', 'abort']);
  });

  it('aborts nothing when no transaction could begin', async () => {
    const down = kafkaJsError('KafkaJSConnectionError', 'Connection error');
    const { producer, calls } = scriptedProducer({ transaction: down });

    await expect(commitInTransaction(producer, oneRequest, records, offsets, LOCATION)).rejects.toBeInstanceOf(
      SourceUnavailableError,
    );

    expect(calls).toEqual([['transaction']]);
  });
});

describe('whileCoordinatorBusy', () => {
  const busy = kafkaJsError('KafkaJSProtocolError', 'another concurrent operation', {
    type: 'CONCURRENT_TRANSACTIONS',
  });

  it('asks again while the coordinator is still finishing the previous transaction', async () => {
    const answers = [busy, busy, 'done'];
    let asked = 0;

    const answer = await whileCoordinatorBusy(async () => {
      const next = answers[asked++]!;
      if (next instanceof Error) throw next;
      return next;
    });

    expect({ answer, asked }).toEqual({ answer: 'done', asked: 3 });
  });

  it('gives up with the last answer after its attempts, and never retries another error', async () => {
    let asked = 0;
    await expect(
      whileCoordinatorBusy(async () => {
        asked++;
        throw busy;
      }, 3),
    ).rejects.toBe(busy);
    expect(asked).toBe(3);

    const fenced = kafkaJsError('KafkaJSProtocolError', 'Producer epoch', { type: 'INVALID_PRODUCER_EPOCH' });
    let askedFenced = 0;
    await expect(
      whileCoordinatorBusy(async () => {
        askedFenced++;
        throw fenced;
      }),
    ).rejects.toBe(fenced);
    expect(askedFenced).toBe(1);
  });
});

describe('createTransactionalProducer', () => {
  const fenced = kafkaJsError('KafkaJSProtocolError', 'Producer epoch', { type: 'INVALID_PRODUCER_EPOCH' });

  it('is an idempotent producer with the transactional id, one request in flight, and quick first retries', async () => {
    const { kafka, settings } = scriptedKafka();
    createTransactionalProducer(kafka, 'erp-tx');

    expect(settings).toEqual([
      expect.objectContaining({
        transactionalId: 'erp-tx',
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { initialRetryTime: 10, retries: Number.MAX_SAFE_INTEGER },
      }),
    ]);
  });

  it('commits every transaction through the one producer while they succeed', async () => {
    const { kafka, calls } = scriptedKafka();
    const producer = createTransactionalProducer(kafka, 'erp-tx');

    await producer.connect();
    await producer.commit(oneRequest, records, offsets, LOCATION);
    await producer.commit(oneRequest, records, offsets, LOCATION);
    await producer.disconnect();

    const transaction = ['1 transaction', '1 sendBatch', '1 sendOffsets', '1 commit'];
    expect(calls).toEqual(['1 connect', ...transaction, ...transaction, '1 disconnect']);
  });

  it.each([
    ['retriable', kafkaJsError('KafkaJSConnectionError', 'Connection error'), 'sendBatch'],
    ['refused', kafkaJsError('KafkaJSProtocolError', 'Too large', { type: 'MESSAGE_TOO_LARGE' }), 'sendBatch'],
    ['failing at commit', kafkaJsError('KafkaJSRequestTimeoutError', 'Request timed out'), 'commit'],
  ] as const)(
    'goes on with a new producer, a new epoch with fresh sequence numbers, after a failed transaction (%s)',
    async (_case, failure, at) => {
      const { kafka, calls } = scriptedKafka({ [at]: failure });
      const producer = createTransactionalProducer(kafka, 'erp-tx');
      await producer.connect();

      await expect(producer.commit(oneRequest, records, offsets, LOCATION)).rejects.toBeDefined();
      const failed = calls.splice(0);
      await producer.commit(oneRequest, records, offsets, LOCATION);
      await producer.disconnect();

      expect(failed.at(-1)).toBe('1 abort');
      expect(calls).toEqual([
        '1 disconnect',
        '2 connect',
        '2 transaction',
        '2 sendBatch',
        '2 sendOffsets',
        '2 commit',
        '2 disconnect',
      ]);
    },
  );

  it('keeps a fenced producer: starting over under its id would fence the newer instance', async () => {
    const { kafka, calls } = scriptedKafka({ sendOffsets: fenced });
    const producer = createTransactionalProducer(kafka, 'erp-tx');
    await producer.connect();

    await expect(producer.commit(oneRequest, records, offsets, LOCATION)).rejects.toBe(fenced);
    await expect(producer.commit(oneRequest, records, offsets, LOCATION)).rejects.toBe(fenced);

    expect(calls.filter((call) => !call.startsWith('1 '))).toEqual([]);
    expect(calls.filter((call) => call === '1 abort')).toHaveLength(2);
  });

  it('connects the new producer at the next commit again when Kafka is unreachable, without making a third', async () => {
    const down = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED');
    const { kafka, calls } = scriptedKafka({ sendBatch: down }, { connect: down });
    const producer = createTransactionalProducer(kafka, 'erp-tx');
    await producer.connect();
    await expect(producer.commit(oneRequest, records, offsets, LOCATION)).rejects.toBeInstanceOf(
      SourceUnavailableError,
    );
    calls.splice(0);

    const unavailable = await producer.commit(oneRequest, records, offsets, LOCATION).catch((error: unknown) => error);

    expect(unavailable).toBeInstanceOf(SourceUnavailableError);
    expect((unavailable as SourceUnavailableError).location).toEqual(LOCATION);
    expect(calls).toEqual(['1 disconnect', '2 connect']);
  });
});

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
const splitOffsets = {
  consumerGroupId: 'g',
  topics: [{ topic: 'source', partitions: [{ partition: 0, offset: '42' }] }],
};

function event(key: string, valueBytes = 100): OutputRecord {
  return { topic: 'canonical', key, value: Buffer.alloc(valueBytes) };
}

describe('commitInTransaction with produce limits', () => {
  it('sends outputs larger than one request takes as several requests of one transaction, then the offsets', async () => {
    const { producer, calls } = recordingProducer();
    const records = ['a', 'b', 'c', 'd', 'e'].map((key) => event(key));
    await commitInTransaction(producer, limits, records, splitOffsets, { topic: 'source', partition: 0 });
    expect(calls).toEqual(['begin', 'send canonical:a,b,c', 'send canonical:d,e', 'offsets 42', 'commit']);
  });

  it('starts no transaction when a record can never be produced', async () => {
    const { producer, calls } = recordingProducer();
    await expect(
      commitInTransaction(producer, limits, [event('a'), event('huge', 400)], splitOffsets, { topic: 'source' }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(calls).toEqual([]);
  });
});
