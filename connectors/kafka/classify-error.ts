import { KafkaJSError } from 'kafkajs';
import { SourceUnavailableError, type RecordLocation } from '../../core/errors.js';

/**
 * Maps kafkajs errors onto the error tree. Errors kafkajs marks retriable, and
 * connection-level failures (also when wrapped as "number of retries
 * exceeded"), become a retriable `SourceUnavailableError`; everything else,
 * such as a fenced transactional producer, is returned unchanged so that it
 * stops the worker instead of being retried.
 *
 * @see https://kafka.js.org/docs/retry-detailed
 */
export function classifyKafkaError(error: unknown, location: RecordLocation = {}): unknown {
  if (isTransient(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new SourceUnavailableError(`Kafka is unavailable: ${message}`, { ...location, cause: error });
  }
  return error;
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSNoBrokerAvailableError',
]);

function isTransient(error: unknown): boolean {
  if (!(error instanceof KafkaJSError)) return false;
  if (CONNECTION_ERRORS.has(error.name) || error.retriable) return true;
  // kafkajs wraps the last retriable failure once its own retries are spent.
  const original = (error as KafkaJSError & { originalError?: unknown }).originalError;
  return error.name === 'KafkaJSNumberOfRetriesExceeded' && original !== undefined && isTransient(original);
}
