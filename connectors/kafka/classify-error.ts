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

/**
 * Kafka's answers to a transactional producer that a newer instance with the
 * same transactional id has replaced (or that may not use the id): the Java
 * client treats them as fatal, the producer must not go on.
 *
 * @see https://kafka.apache.org/documentation/#producerconfigs_transactional.id
 */
const FENCING_TYPES = new Set([
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_EPOCH',
  'TRANSACTION_COORDINATOR_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
/** PRODUCER_FENCED, which kafkajs 2 does not name. */
const PRODUCER_FENCED_CODE = 90;

/**
 * True when `error`, or an error kafkajs wrapped in it, says the
 * transactional producer was fenced by a newer instance of its id (or is not
 * allowed to use the id). Such a producer must stop, not start over under
 * the same id: that would fence the newer instance in turn.
 */
export function isProducerFenced(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth++) {
    const { type, code } = current as Error & { readonly type?: unknown; readonly code?: unknown };
    if ((typeof type === 'string' && FENCING_TYPES.has(type)) || code === PRODUCER_FENCED_CODE) return true;
    current = (current as KafkaJsError).originalError ?? current.cause;
  }
  return false;
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
