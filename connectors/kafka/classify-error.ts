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

/** The shape of kafkajs errors; matched by name because kafkajs' error classes are not ESM named exports. */
type KafkaJsError = Error & { readonly retriable?: boolean; readonly originalError?: unknown };

function isKafkaJsError(error: unknown): error is KafkaJsError {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

function isTransient(error: unknown): boolean {
  if (!isKafkaJsError(error)) return false;
  if (CONNECTION_ERRORS.has(error.name) || error.retriable === true) return true;
  // kafkajs wraps the last retriable failure once its own retries are spent; kafkajs 2 links it as `cause`.
  return error.name === 'KafkaJSNumberOfRetriesExceeded' && isTransient(error.originalError ?? error.cause);
}
