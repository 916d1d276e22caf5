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

/** kafkajs errors that mean the cluster could not be reached, did not answer in time, or is still starting. */
const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
]);

/** The shape of kafkajs errors; matched by name because kafkajs' error classes are not ESM named exports. */
type KafkaJsError = Error & { readonly retriable?: boolean; readonly originalError?: unknown };

/** True for an error kafkajs raised (matched by name: its classes are not ESM named exports). */
export function isKafkaJsError(error: unknown): error is KafkaJsError {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/**
 * The errors kafkajs chained into `error`, outermost first: it links the error it gave up on as `originalError`,
 * others as `cause`.
 */
function errorChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (
    let current: unknown = error;
    current instanceof Error && chain.length < 10;
    current = (current as KafkaJsError).originalError ?? current.cause
  ) {
    chain.push(current);
  }
  return chain;
}

/**
 * What went wrong, for messages: the innermost error's message, or every message of an aggregated error (kafkajs
 * gathers one per broker it tried).
 */
export function kafkaErrorDetail(error: unknown): string {
  const aggregated = (error as { errors?: unknown }).errors;
  if (Array.isArray(aggregated)) {
    return aggregated.map((item: unknown) => (item instanceof Error ? item.message : String(item))).join('; ');
  }
  const chain = errorChain(error);
  return chain.length === 0 ? String(error) : chain[chain.length - 1]!.message;
}

/**
 * True when a kafkajs error, or one it wraps, means Kafka could not be reached or did not answer (also once kafkajs'
 * own retries are spent), or Kafka answered with an error it marks retriable, such as a broker that does not host a
 * new topic's partitions yet: trying again later may succeed.
 */
function isTransient(error: unknown): boolean {
  if (!isKafkaJsError(error)) return false;
  return errorChain(error).some(
    (item) =>
      CONNECTION_ERRORS.has(item.name) ||
      (item as KafkaJsError).retriable === true ||
      /ECONNREFUSED|ENOTFOUND/.test(item.message),
  );
}

/** Whether Kafka is unreachable or busy for the moment ({@link classifyKafkaError} makes these retriable). */
export const isKafkaUnavailable = isTransient;

/**
 * The group protocol errors that mean this consumer no longer owns its partitions: the coordinator evicted it (its
 * heartbeats stopped longer than the session timeout, e.g. during a slow batch) or a rebalance began.
 */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

/**
 * The protocol error inside `error` (kafkajs wraps it in its retry errors) when it says that the consumer lost its
 * group membership; undefined otherwise. An offset commit that fails so must not be retried and must not stop the
 * consumer: kafkajs' runner rejoins the group when such an error, by its `type`, leaves the batch handler, and the
 * uncommitted batch is consumed again by whichever member the group assigns the partition to.
 *
 * @see https://kafka.apache.org/protocol#protocol_error_codes
 */
export function groupMembershipLost(error: unknown): Error | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && MEMBERSHIP_LOST.has(type)) return current;
    const inner = current as { originalError?: unknown; cause?: unknown };
    current = inner.originalError ?? inner.cause;
  }
  return undefined;
}
