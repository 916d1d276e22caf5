import {
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type Filter,
  type OptionalUnlessRequiredId,
} from 'mongodb';
import { type SinkWriteError } from '../../core/errors.js';
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
  /**
   * Upserts that inserted a document. A count only: FerretDB v1 numbers
   * `upsertedIds` by position among the upserts, not among the operations.
   */
  readonly upserted: number;
  /** Operations the server refused for good, by index; their events are rejected. */
  readonly refused: ReadonlyMap<number, SinkWriteError>;
};

const NOTHING: BulkOutcome = { matched: 0, upserted: 0, refused: new Map() };

/**
 * Runs idempotent writes as one unordered `bulkWrite`, resolving once the
 * server acknowledged them with the collection's write concern.
 *
 * Every operation must be safe to run twice: guarded updates whose "no match"
 * means stale, `$setOnInsert` upserts, compare-and-set updates. That is what
 * makes the fallback safe. When the bulk fails for a reason other than a
 * transient one, the operations are re-run one at a time and each refusal is
 * reported by its own index: FerretDB v1 stops a bulk of updates at the first
 * failing operation and reports the wrong index, and MongoDB may have applied
 * the others already, which the guards turn into no-ops.
 *
 * Throws a retriable `SinkWriteError` for transient failures (the runner
 * retries the whole batch) and rethrows programming errors untouched.
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
    const classified = classifyMongoError(error, where);
    if (classified === undefined) throw error;
    if (classified.retriable) throw classified;
  }
  let matched = 0;
  let upserted = 0;
  const refused = new Map<number, SinkWriteError>();
  for (const [index, operation] of operations.entries()) {
    try {
      const result = await collection.bulkWrite([operation], { ordered: true });
      matched += result.matchedCount;
      upserted += result.upsertedCount;
    } catch (error: unknown) {
      const classified = classifyMongoError(error, where);
      if (classified === undefined) throw error;
      if (classified.retriable) throw classified;
      refused.set(index, classified);
    }
  }
  return { matched, upserted, refused };
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

/**
 * Inserts the documents that do not exist yet, as one unordered insert: a
 * duplicate key means the document is already there (maybe just created by
 * another writer) and is not an error. Returns the documents refused for
 * another reason, by index. Per-document errors of an unordered insert are
 * reliable on MongoDB and FerretDB alike; should the server fail the insert
 * as a whole, the documents are inserted one at a time.
 *
 * An insert rather than a `$setOnInsert` upsert, because FerretDB v1 drops
 * `null` values and empty arrays from the document an upsert inserts.
 *
 * Throws a retriable `SinkWriteError` for transient failures.
 */
export async function insertMissing<T extends Document>(
  collection: Collection<T>,
  documents: readonly OptionalUnlessRequiredId<T>[],
): Promise<ReadonlyMap<number, SinkWriteError>> {
  const refused = new Map<number, SinkWriteError>();
  if (documents.length === 0) return refused;
  const where = { operation: 'insertMany', collection: collection.collectionName };
  try {
    await collection.insertMany([...documents], { ordered: false });
    return refused;
  } catch (error: unknown) {
    const perDocument = classifyWriteErrors(error, where);
    if (perDocument.size > 0 && !hasWriteConcernError(error)) {
      for (const [index, failure] of perDocument) {
        if (failure.retriable) throw failure;
        if (!isDuplicateKeyError(failure)) refused.set(index, failure);
      }
      return refused;
    }
    const whole = classifyMongoError(error, where);
    if (whole === undefined) throw error;
    if (whole.retriable) throw whole;
  }
  for (const [index, document] of documents.entries()) {
    try {
      await collection.insertOne(document);
    } catch (error: unknown) {
      if (isDuplicateKeyError(error)) continue;
      const classified = classifyMongoError(error, where);
      if (classified === undefined) throw error;
      if (classified.retriable) throw classified;
      refused.set(index, classified);
    }
  }
  return refused;
}
