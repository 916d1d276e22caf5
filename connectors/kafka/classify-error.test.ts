import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../core/errors.js';
import { classifyKafkaError, groupMembershipLost, isProducerFenced, kafkaErrorDetail } from './classify-error.js';

/** A kafkajs-shaped error: kafkajs' classes are not importable by name, so tests build the shape they match on. */
function kafkaJsError(name: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, ...fields });
}

describe('classifyKafkaError', () => {
  it.each([
    ['a connection error', kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED')],
    [
      'an error kafkajs marks retriable',
      kafkaJsError('KafkaJSProtocolError', 'Leader not available', { retriable: true }),
    ],
    [
      'spent retries over a connection error, linked as cause (kafkajs 2)',
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'Connection error: connect ECONNREFUSED', {
        cause: kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED'),
      }),
    ],
    [
      'spent retries over a connection error, linked as originalError',
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'Connection error', {
        originalError: kafkaJsError('KafkaJSConnectionError', 'Connection error'),
      }),
    ],
    ['a time-out of kafkajs itself', kafkaJsError('KafkaJSTimeout', 'Timeout')],
    ["a topic's metadata not loaded yet", kafkaJsError('KafkaJSTopicMetadataNotLoaded', 'Topic metadata not loaded')],
    [
      'a refused connection deep in the chain',
      kafkaJsError('KafkaJSError', 'Failed to connect', {
        cause: new Error('connect ECONNREFUSED 127.0.0.1:9092'),
      }),
    ],
  ])('makes %s a retriable SourceUnavailableError', (_case, error) => {
    const classified = classifyKafkaError(error, { topic: 'erp.ErpDemo.dbo.Refund' });
    expect(classified).toBeInstanceOf(SourceUnavailableError);
    expect(classified).toMatchObject({ retriable: true, message: `Kafka is unavailable: ${error.message}` });
  });

  it.each([
    ['a fenced producer', kafkaJsError('KafkaJSProtocolError', 'Producer fenced', { retriable: false })],
    [
      'spent retries over a non-retriable error',
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'Producer fenced', {
        cause: kafkaJsError('KafkaJSProtocolError', 'Producer fenced', { retriable: false }),
      }),
    ],
    ['a programming error', new TypeError('x is not a function')],
  ])('returns %s unchanged', (_case, error) => {
    expect(classifyKafkaError(error)).toBe(error);
  });

  it('classifies what kafkajs throws when no broker answers', { timeout: 30_000 }, async () => {
    // Port 1 on the loopback refuses connections at once.
    const admin = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
    const error = await admin.connect().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(classifyKafkaError(error)).toBeInstanceOf(SourceUnavailableError);
  });
});

describe('isProducerFenced', () => {
  it.each([
    [
      'an invalid producer epoch',
      kafkaJsError('KafkaJSProtocolError', 'Producer epoch', { type: 'INVALID_PRODUCER_EPOCH' }),
    ],
    [
      'PRODUCER_FENCED by its code',
      kafkaJsError('KafkaJSProtocolError', 'Unknown error', { type: 'UNKNOWN', code: 90 }),
    ],
    [
      'a fenced transaction coordinator',
      kafkaJsError('KafkaJSProtocolError', 'Coordinator fenced', { type: 'TRANSACTION_COORDINATOR_FENCED' }),
    ],
    [
      'a transactional id it may not use',
      kafkaJsError('KafkaJSProtocolError', 'Not authorized', { type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' }),
    ],
    [
      'a fencing wrapped by kafkajs as originalError',
      kafkaJsError('KafkaJSNonRetriableError', 'Producer epoch', {
        originalError: kafkaJsError('KafkaJSProtocolError', 'Producer epoch', { type: 'INVALID_PRODUCER_EPOCH' }),
      }),
    ],
    [
      'a fencing wrapped as cause',
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'Producer epoch', {
        cause: kafkaJsError('KafkaJSProtocolError', 'Producer epoch', { type: 'INVALID_PRODUCER_EPOCH' }),
      }),
    ],
  ])('is true for %s', (_case, error) => {
    expect(isProducerFenced(error)).toBe(true);
  });

  it.each([
    ['a message too large', kafkaJsError('KafkaJSProtocolError', 'Too large', { type: 'MESSAGE_TOO_LARGE', code: 10 })],
    ['a connection error', kafkaJsError('KafkaJSConnectionError', 'Connection error')],
    ['a programming error', new TypeError('x is not a function')],
    ['something that is not an error', { type: 'INVALID_PRODUCER_EPOCH' }],
  ])('is false for %s', (_case, error) => {
    expect(isProducerFenced(error)).toBe(false);
  });
});

describe('kafkaErrorDetail', () => {
  it('names the innermost error, or every error kafkajs aggregated', () => {
    const inner = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1');
    expect(kafkaErrorDetail(kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'Retries spent', { cause: inner }))).toBe(
      'Connection error: connect ECONNREFUSED 127.0.0.1:1',
    );
    const aggregated = Object.assign(kafkaJsError('KafkaJSAggregateError', 'Several'), {
      errors: [new Error('broker 1 down'), new Error('broker 2 down')],
    });
    expect(kafkaErrorDetail(aggregated)).toBe('broker 1 down; broker 2 down');
  });
});

describe('groupMembershipLost', () => {
  const evicted = kafkaJsError('KafkaJSProtocolError', 'The coordinator is not aware of this member', {
    type: 'UNKNOWN_MEMBER_ID',
    retriable: false,
  });

  it.each([
    ['an eviction', evicted],
    [
      "an eviction wrapped by kafkajs' retrier",
      kafkaJsError('KafkaJSNonRetriableError', evicted.message, { cause: evicted }),
    ],
    [
      'a rebalance behind spent retries',
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'x', {
        originalError: kafkaJsError('KafkaJSProtocolError', 'x', { type: 'REBALANCE_IN_PROGRESS' }),
      }),
    ],
    ['a stale generation', kafkaJsError('KafkaJSProtocolError', 'x', { type: 'ILLEGAL_GENERATION' })],
  ])('finds the protocol error in %s', (_case, error) => {
    const found = groupMembershipLost(error);
    expect(found).toBeDefined();
    expect(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION']).toContain(
      (found as { type?: string }).type,
    );
  });

  it.each([
    ['a connection error', kafkaJsError('KafkaJSConnectionError', 'Connection error')],
    ['a fenced producer', kafkaJsError('KafkaJSProtocolError', 'fenced', { type: 'PRODUCER_FENCED' })],
    ['no error at all', 'a string'],
  ])('finds nothing in %s', (_case, error) => {
    expect(groupMembershipLost(error)).toBeUndefined();
  });
});
