import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../core/errors.js';
import { classifyKafkaError } from './classify-error.js';

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
