import {
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type Filter,
  type MongoBulkWriteError,
} from 'mongodb';
import { SinkWriteError } from '../../core/errors.js';
import {
  classifyMongoError,
  classifyWriteErrors,
  hasWriteConcernError,
  isDuplicateKeyError,
} from './classify-error.js';

/** What a bulk of idempotent writes did, once acknowledged. */
export type BulkOutcome = {
  /** Operations whose filter matched an existing document. */
  readonly matched: number;
  /** Upserts that inserted a document. */
  readonly upserted: number;
  /** Operations the server refused for good, by index; their events are rejected. */
  readonly refused: ReadonlyMap<number, SinkWriteError>;
};

const NOTHING: BulkOutcome = { matched: 0, upserted: 0, refused: new Map() };

/**
 * Runs idempotent writes as one unordered `bulkWrite`, resolving once the
 * server acknowledged them with the collection's write concern.
 *
 * Every operation must be safe to run twice (guarded updates whose "no match"
 * means stale, `$setOnInsert` upserts), since the runner retries a whole batch
 * after a transient failure. An unordered bulk runs every operation and
 * reports each refused one by its index, so the refusals come back by index
 * and the rest counts as written.
 *
 * Throws a retriable `SinkWriteError` for transient failures (any transient
 * write error, a write concern that was not confirmed, an unreachable
 * server, an upsert that met a document another writer just created), a
 * non-retriable one when the server refused the bulk as a whole
 * (no per-operation errors: nothing says which events are at fault), and
 * rethrows programming errors untouched.
 *
 * @see https://www.mongodb.com/docs/manual/reference/method/db.collection.bulkWrite/
 */
export async function bulkWriteIdempotent<T extends Document>(
  collection: Collection<T>,
  operations: readonly AnyBulkWriteOperation<T>[],
): Promise<BulkOutcome> {
  if (operations.length === 0) return NOTHING;
  const where = { operation: 'bulkWrite', collection: collection.collectionName };
  try {
    const result = await collection.bulkWrite([...operations], { ordered: false });
    return { matched: result.matchedCount, upserted: result.upsertedCount, refused: new Map() };
  } catch (error: unknown) {
    const perOperation = classifyWriteErrors(error, where);
    if (perOperation.size === 0 || hasWriteConcernError(error)) throw classifyMongoError(error, where) ?? error;
    for (const failure of perOperation.values()) {
      if (failure.retriable) throw failure;
      // No sink index is unique but _id, and every upsert filters on _id alone: a duplicate key means another
      // writer created the document at the same moment, and the retried batch finds it there.
      if (isDuplicateKeyError(failure)) {
        throw new SinkWriteError(`${failure.message}; another writer created the document meanwhile`, {
          cause: failure,
          retriable: true,
        });
      }
    }
    const result = (error as MongoBulkWriteError).result;
    return { matched: result.matchedCount, upserted: result.upsertedCount, refused: perOperation };
  }
}

/** The documents with these ids, in no particular order; throws like {@link bulkWriteIdempotent}. */
export async function findByIds<T extends { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
): Promise<T[]> {
  if (ids.length === 0) return [];
  try {
    return (await collection.find({ _id: { $in: [...ids] } } as Filter<T>).toArray()) as T[];
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: 'find', collection: collection.collectionName }) ?? error;
  }
}
