import {
  MongoBulkWriteError,
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  type WriteError,
} from 'mongodb';
import { SinkWriteError } from '../../core/errors.js';

/** The operation that failed, named in messages: e.g. `bulkWrite` on `order_view`. */
export type MongoOperation = {
  readonly operation: string;
  readonly collection: string;
};

/**
 * Server error codes after which the same write may succeed: elections,
 * shutdowns, unreachable members, time limits and lock contention. The
 * first group is the driver's retryable-write set.
 *
 * @see https://github.com/mongodb/specifications/blob/master/source/retryable-writes/retryable-writes.md#determining-retryable-errors
 * @see https://www.mongodb.com/docs/manual/reference/error-codes/
 */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  24, // LockTimeout
  46, // LockBusy
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed / WriteConcernTimeout
  112, // WriteConflict
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  10058, // LegacyNotPrimary
]);

/** Labels the server or driver attaches to errors that a retry may cure. */
const TRANSIENT_LABELS = [
  'RetryableWriteError',
  'TransientTransactionError',
  'ResetPool',
  'PoolRequestedRetry',
  'SystemOverloadedError',
  'RetryableError',
] as const;

/** Write concerns the deployment can never satisfy: a configuration problem, not a transient one. */
const UNSATISFIABLE_WRITE_CONCERN = new Set([79, 100]);

/** Duplicate key: E11000 and its legacy variants. */
const DUPLICATE_KEY_CODES = new Set([11000, 11001, 12582]);

/** BSONObjectTooLarge, and "Resulting document after update is larger than 16777216". */
const TOO_LARGE_CODES = new Set([10334, 17419, 17420]);
const TOO_LARGE_MESSAGE = /too large|larger than the maximum|exceeds maximum|BSONObjectTooLarge/i;

/**
 * The one place that maps MongoDB driver errors onto the error tree, so every
 * Mongo sink decides "back off" versus "dead-letter" the same way:
 *
 * - cannot reach a server (`MongoNetworkError` and its time-out and
 *   pool-cleared subclasses, `MongoServerSelectionError`, a closed or stale
 *   topology, a client-side operation time-out), an error labelled
 *   `RetryableWriteError` (or another transient label), a transient server
 *   code (elections, shutdown, lock time-outs, `maxTimeMS`), a write concern
 *   that timed out, or a failure that carries no server error code (a driver
 *   error the bulk API wrapped, such as a connection refused mid-write): a
 *   **retriable** {@link SinkWriteError};
 * - a duplicate key (11000), a document too large (server codes 10334/17419,
 *   or the driver refusing to serialise it), an unsatisfiable write concern
 *   (79, 100) and any other server refusal: a **non-retriable**
 *   {@link SinkWriteError}, because the same write will be refused again;
 * - anything else, including programming errors (`TypeError`) and driver API
 *   misuse: `undefined`, and the caller rethrows the original error untouched.
 *
 * A `MongoBulkWriteError` is retriable if its write concern error or any of
 * its write errors is; per-operation outcomes come from {@link classifyWriteErrors}.
 * The original error is always the `cause`.
 *
 * @see https://www.mongodb.com/docs/drivers/node/current/fundamentals/crud/write-operations/bulk/
 */
export function classifyMongoError(error: unknown, where: MongoOperation): SinkWriteError | undefined {
  const on = `${where.operation} on ${where.collection}`;
  const retriable = (message: string) => new SinkWriteError(message, { cause: error, retriable: true });
  const refused = (message: string) => new SinkWriteError(message, { cause: error, retriable: false });

  if (!(error instanceof MongoError)) return undefined;
  if (isUnreachable(error)) return retriable(`MongoDB unreachable during ${on}: ${error.message}`);

  if (error instanceof MongoInvalidArgumentError) {
    // The driver checks each document against maxBsonObjectSize before sending it.
    return TOO_LARGE_MESSAGE.test(error.message) ? refused(`Document too large in ${on}: ${error.message}`) : undefined;
  }
  if (!(error instanceof MongoServerError)) return undefined;

  const writeConcern = writeConcernFailure(error);
  if (writeConcern !== undefined) {
    const detail = `${writeConcern.message} (code ${String(writeConcern.code)})`;
    return UNSATISFIABLE_WRITE_CONCERN.has(Number(writeConcern.code))
      ? refused(`MongoDB cannot satisfy the write concern of ${on}: ${detail}`)
      : retriable(`MongoDB did not confirm the write concern of ${on}: ${detail}`);
  }

  const failures = serverFailures(error);
  // Only a server's answer can refuse a write. A failure without a server code is the driver's own, e.g. a network
  // error the bulk API wraps as a MongoBulkWriteError after the connection died mid-write: trying again may cure it.
  if (failures.every((failure) => failure.code === undefined || failure.code === null)) {
    return retriable(`MongoDB failed without a server error code during ${on}: ${failures[0]!.message}`);
  }
  const transient = failures.find((failure) => isTransient(failure.code, error));
  if (transient !== undefined) {
    return retriable(`MongoDB failed transiently during ${on}: ${transient.message} (code ${String(transient.code)})`);
  }
  const duplicate = failures.find((failure) => DUPLICATE_KEY_CODES.has(Number(failure.code)));
  if (duplicate !== undefined) return refused(`Duplicate key in ${on}: ${duplicate.message}`);
  const tooLarge = failures.find(
    (failure) => TOO_LARGE_CODES.has(Number(failure.code)) || TOO_LARGE_MESSAGE.test(failure.message),
  );
  if (tooLarge !== undefined) return refused(`Document too large in ${on}: ${tooLarge.message}`);
  const first = failures[0]!;
  return refused(`MongoDB refused ${on}: ${first.message} (code ${String(first.code)})`);
}

/**
 * Per-operation outcomes of a failed bulk write, by the operation's index in
 * the batch, each classified as by {@link classifyMongoError}. Empty for
 * anything but a `MongoBulkWriteError` with write errors.
 */
export function classifyWriteErrors(error: unknown, where: MongoOperation): ReadonlyMap<number, SinkWriteError> {
  const classified = new Map<number, SinkWriteError>();
  if (!(error instanceof MongoBulkWriteError)) return classified;
  for (const writeError of writeErrorList(error)) {
    const code = Number(writeError.code);
    const message = writeError.errmsg ?? `write error ${code}`;
    const on = `${where.operation} on ${where.collection}`;
    const retriable = isTransient(code, undefined);
    const text = retriable
      ? `MongoDB failed transiently during ${on}: ${message} (code ${code})`
      : DUPLICATE_KEY_CODES.has(code)
        ? `Duplicate key in ${on}: ${message}`
        : TOO_LARGE_CODES.has(code) || TOO_LARGE_MESSAGE.test(message)
          ? `Document too large in ${on}: ${message}`
          : `MongoDB refused ${on}: ${message} (code ${code})`;
    classified.set(writeError.index, new SinkWriteError(text, { cause: writeError, retriable }));
  }
  return classified;
}

/**
 * True when a write failed only because the key already exists: the error
 * itself, a `MongoBulkWriteError` whose write errors are all duplicates, a
 * single write error, or a {@link SinkWriteError} caused by one of these.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  if (error instanceof SinkWriteError) return isDuplicateKeyError(error.cause);
  if (error instanceof MongoBulkWriteError) {
    const list = writeErrorList(error);
    return list.length > 0 && list.every((writeError) => DUPLICATE_KEY_CODES.has(Number(writeError.code)));
  }
  if (error instanceof MongoServerError) return DUPLICATE_KEY_CODES.has(Number(error.code));
  if (typeof error === 'object' && error !== null && 'index' in error && 'code' in error) {
    return DUPLICATE_KEY_CODES.has(Number((error as { code: unknown }).code));
  }
  return false;
}

/**
 * True when a bulk write error also carries a write concern error: the driver
 * reports write errors first and the write concern only in `result`, and a
 * write that was not confirmed must not pass for one that merely met a
 * duplicate.
 */
export function hasWriteConcernError(error: unknown): boolean {
  return error instanceof MongoBulkWriteError && writeConcernFailure(error) !== undefined;
}

/** The write errors of a bulk error as an array; the driver gives one or many. */
export function writeErrorList(error: MongoBulkWriteError): readonly WriteError[] {
  const { writeErrors } = error;
  if (writeErrors === undefined || writeErrors === null) return [];
  return Array.isArray(writeErrors) ? writeErrors : [writeErrors as WriteError];
}

function isUnreachable(error: MongoError): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoStalePrimaryError
  );
}

function isTransient(code: unknown, error: MongoError | undefined): boolean {
  if (error !== undefined && TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label))) return true;
  return TRANSIENT_CODES.has(Number(code));
}

/** The server's complaints: the write errors of a bulk error, else the error itself. */
function serverFailures(error: MongoServerError): { readonly code: unknown; readonly message: string }[] {
  if (error instanceof MongoBulkWriteError) {
    const list = writeErrorList(error).map((writeError) => ({
      code: writeError.code,
      message: writeError.errmsg ?? error.message,
    }));
    if (list.length > 0) return list;
  }
  return [{ code: error.code, message: error.message }];
}

function writeConcernFailure(
  error: MongoServerError,
): { readonly code: unknown; readonly message: string } | undefined {
  if (error instanceof MongoWriteConcernError) return { code: error.code, message: error.message };
  if (error instanceof MongoBulkWriteError) {
    const concern = error.err ?? error.result?.getWriteConcernError?.();
    if (concern !== undefined && concern !== null)
      return { code: concern.code, message: concern.errmsg ?? error.message };
  }
  return undefined;
}
