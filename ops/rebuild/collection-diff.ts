import { type Collection, type Document } from 'mongodb';
import { mergeByKey } from '../../core/merge-by-key.js';
import { compareBsonValues, sameBsonValue, showValue } from '../../sinks/mongo/bson-values.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';

/**
 * What differs between two collections of one read model, document by
 * document: the expected one (a rebuild's shadow) against the actual one
 * (the live collection). Both are read with cursors sorted by `_id` and
 * merged as they stream (`core/merge-by-key.ts`), so memory is bounded by the
 * cursors' batch size and the samples kept.
 */

/**
 * Fields that differ between two runs of the same events by wall-clock time
 * or build, not by content: when a document was written and by which
 * pipeline version. Never counted as differences.
 */
export const RUN_DEPENDENT_PATHS = ['_meta.appliedAt', '_meta.pipelineVersion'] as const;

/** `missing`: only in the expected collection; `extra`: only in the actual one; `different`: in both, not equal. */
export type DocumentDiffKind = 'missing' | 'extra' | 'different';

/** One differing document: its `_id` as extended JSON, and for `different` the dotted paths that differ. */
export type DocumentDiffSample = {
  readonly kind: DocumentDiffKind;
  readonly id: string;
  readonly paths: readonly string[];
};

/** The outcome of one diff. `samples` holds up to the requested number per kind, in `_id` order. */
export type CollectionDiff = {
  readonly expected: { readonly collection: string; readonly documents: number };
  readonly actual: { readonly collection: string; readonly documents: number };
  readonly identical: number;
  readonly missing: number;
  readonly extra: number;
  readonly different: number;
  readonly samples: readonly DocumentDiffSample[];
};

/** Settings of a diff; every one has a default. */
export type DiffOptions = {
  /** Dotted paths never compared; default {@link RUN_DEPENDENT_PATHS}. */
  readonly ignore?: readonly string[];
  /** Most samples per kind; default 5. */
  readonly samples?: number;
  /** Most differing paths listed per sample; default 20. */
  readonly pathsPerSample?: number;
  /** Cursor batch size; default 500. */
  readonly batchSize?: number;
  /** Called with the number of documents read from both sides so far. */
  readonly onProgress?: (documents: number) => void;
};

/** Whether a diff found nothing. */
export function isIdentical(diff: Pick<CollectionDiff, 'missing' | 'extra' | 'different'>): boolean {
  return diff.missing + diff.extra + diff.different === 0;
}

/**
 * Diffs two collections of the same database by `_id`. Throws a classified
 * `SinkWriteError` (retriable for network failures) when a read fails, and
 * an `Error` when a cursor does not come back in the `_id` order
 * {@link compareBsonValues} expects.
 *
 * @see https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
 */
export async function diffCollections(
  expected: Collection<Document>,
  actual: Collection<Document>,
  options: DiffOptions = {},
): Promise<CollectionDiff> {
  const batchSize = options.batchSize ?? 500;
  const read = (collection: Collection<Document>) =>
    readSorted(collection, batchSize, `The collection ${collection.collectionName}`);
  const diff = await diffDocumentStreams(read(expected), read(actual), {
    ...options,
    names: { expected: `The collection ${expected.collectionName}`, actual: `The collection ${actual.collectionName}` },
  });
  return {
    ...diff,
    expected: { collection: expected.collectionName, documents: diff.expected.documents },
    actual: { collection: actual.collectionName, documents: diff.actual.documents },
  };
}

/**
 * Diffs two streams of documents, each in ascending `_id` order by
 * {@link compareBsonValues}. The pure part of {@link diffCollections}.
 */
export async function diffDocumentStreams(
  expected: AsyncIterable<Document>,
  actual: AsyncIterable<Document>,
  options: DiffOptions & { readonly names?: { readonly expected: string; readonly actual: string } } = {},
): Promise<CollectionDiff> {
  const ignore = new Set(options.ignore ?? RUN_DEPENDENT_PATHS);
  const maxSamples = options.samples ?? 5;
  const pathsPerSample = options.pathsPerSample ?? 20;
  const counts = { identical: 0, missing: 0, extra: 0, different: 0 };
  const documents = { expected: 0, actual: 0 };
  const samples: DocumentDiffSample[] = [];
  const taken = new Map<DocumentDiffKind, number>();
  const record = (kind: DocumentDiffKind, id: string, paths: readonly string[]) => {
    counts[kind]++;
    const count = taken.get(kind) ?? 0;
    if (count < maxSamples) {
      samples.push({ kind, id, paths });
      taken.set(kind, count + 1);
    }
  };

  for await (const { key, left, right } of mergeByKey(expected, actual, {
    left: { name: options.names?.expected ?? 'The expected documents', keyOf: idOf },
    right: { name: options.names?.actual ?? 'The actual documents', keyOf: idOf },
    compare: compareBsonValues,
    show: showValue,
  })) {
    if (left !== undefined) documents.expected++;
    if (right !== undefined) documents.actual++;
    options.onProgress?.(documents.expected + documents.actual);
    if (right === undefined) record('missing', key, []);
    else if (left === undefined) record('extra', key, []);
    else {
      const paths = differingPaths(left, right, ignore, pathsPerSample);
      if (paths.length === 0) counts.identical++;
      else record('different', key, paths);
    }
  }
  return {
    expected: { collection: options.names?.expected ?? 'expected', documents: documents.expected },
    actual: { collection: options.names?.actual ?? 'actual', documents: documents.actual },
    ...counts,
    samples,
  };
}

/**
 * The dotted paths at which two documents differ, in key order, up to
 * `limit`; empty when they are equal. Field order is ignored (servers
 * order new fields differently); a field missing on one side
 * differs, an array of another length differs as a whole, and paths in
 * `ignore` (and everything below them) are skipped.
 */
export function differingPaths(
  a: Document,
  b: Document,
  ignore: ReadonlySet<string> = new Set(RUN_DEPENDENT_PATHS),
  limit = 20,
): string[] {
  const paths: string[] = [];
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (paths.length >= limit || ignore.has(path)) return;
    if (isPlainDocument(x) && isPlainDocument(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const key of keys) {
        const inner = path === '' ? key : `${path}.${key}`;
        if (!(key in x) || !(key in y)) {
          if (!ignore.has(inner) && paths.length < limit) paths.push(inner);
        } else walk(x[key], y[key], inner);
      }
      return;
    }
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      x.forEach((item, i) => walk(item, y[i], path === '' ? String(i) : `${path}.${i}`));
      return;
    }
    if (!sameBsonValue(x, y)) paths.push(path === '' ? '(document)' : path);
  };
  walk(a, b, '');
  return paths;
}

function idOf(document: Document): unknown {
  return document['_id'];
}

async function* readSorted(collection: Collection<Document>, batchSize: number, name: string) {
  const cursor = collection.find({}, { sort: { _id: 1 }, batchSize });
  try {
    for await (const document of cursor) yield document;
  } catch (error: unknown) {
    throw (
      classifyMongoError(error, { operation: `diff read of ${name}`, collection: collection.collectionName }) ?? error
    );
  } finally {
    await cursor.close();
  }
}

function isPlainDocument(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !ArrayBuffer.isView(value) &&
    !('_bsontype' in value)
  );
}
