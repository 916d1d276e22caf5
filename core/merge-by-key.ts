/**
 * Streaming merge of two key-ordered sequences, the core of `rebuild`'s diff
 * and `reconcile`: each side is read page by page in ascending key order, and
 * the merge holds one item per side at a time, so memory stays bounded
 * whatever the size of the collections or tables.
 */

/** One key of a merge and the item each side holds under it; at least one side is present. */
export type MergedPair<L, R> = {
  readonly key: string;
  readonly left: L | undefined;
  readonly right: R | undefined;
};

/** How to read keys off each side and order them; `name`s appear in errors. */
export type MergeSides<L, R, K> = {
  readonly left: { readonly name: string; readonly keyOf: (item: L) => K };
  readonly right: { readonly name: string; readonly keyOf: (item: R) => K };
  /** Negative, zero or positive; must be the order both sides are sorted in. */
  readonly compare: (a: K, b: K) => number;
  /** The key as people read it, for pairs and errors. */
  readonly show: (key: K) => string;
};

/**
 * Merges two sequences, each strictly ascending by `sides.compare`, into one
 * ascending sequence of pairs: both items when the key is on both sides, one
 * otherwise. Throws an `Error` naming the side and both keys when a side is
 * out of order or repeats a key: the merge would then report phantom
 * differences, so it stops instead (a server sorting by another collation
 * than `compare` is the usual cause).
 */
export async function* mergeByKey<L, R, K>(
  left: AsyncIterable<L>,
  right: AsyncIterable<R>,
  sides: MergeSides<L, R, K>,
): AsyncGenerator<MergedPair<L, R>> {
  const lefts = orderedCursor(left, sides.left.keyOf, sides.left.name, sides);
  const rights = orderedCursor(right, sides.right.keyOf, sides.right.name, sides);
  try {
    let l = await lefts.next();
    let r = await rights.next();
    while (l !== undefined || r !== undefined) {
      const order = l === undefined ? 1 : r === undefined ? -1 : sides.compare(l.key, r.key);
      if (order < 0) {
        yield { key: sides.show(l!.key), left: l!.item, right: undefined };
        l = await lefts.next();
      } else if (order > 0) {
        yield { key: sides.show(r!.key), left: undefined, right: r!.item };
        r = await rights.next();
      } else {
        yield { key: sides.show(l!.key), left: l!.item, right: r!.item };
        l = await lefts.next();
        r = await rights.next();
      }
    }
  } finally {
    // Also when the consumer stops early or a side throws: cursors and connections behind the sources close.
    await Promise.allSettled([lefts.close(), rights.close()]);
  }
}

/**
 * Items of a key-ordered source fetched in pages: `fetchPage(after, limit)`
 * answers up to `limit` items with keys greater than `after` (all from the
 * start when `after` is undefined), in key order. Keyset pagination, so each
 * page is an index range scan and nothing is skipped or repeated while the
 * source changes underneath. Stops after a page shorter than `pageSize`.
 */
export async function* keysetPages<T, K>(
  fetchPage: (after: K | undefined, limit: number) => Promise<readonly T[]>,
  keyOf: (item: T) => K,
  pageSize: number,
): AsyncGenerator<T> {
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`Page size must be a positive integer, got ${pageSize}`);
  }
  let after: K | undefined;
  for (;;) {
    const page = await fetchPage(after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = keyOf(page.at(-1)!);
  }
}

/**
 * Compares strings by Unicode code point, the order of MongoDB's binary
 * string comparison (UTF-8 bytes), PostgreSQL's `COLLATE "C"` on UTF-8 and
 * SQL Server's `_BIN2` collations. JavaScript's `<` compares UTF-16 code
 * units instead, which differs for characters beyond U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only a surrogate against a unit at U+E000 or above orders differently from code points.
    if (isSurrogate(x) || isSurrogate(y)) return a.codePointAt(i)! - b.codePointAt(i)!;
    return x - y;
  }
  return a.length - b.length;
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

type Keyed<T, K> = { readonly item: T; readonly key: K };

/** An iterator that checks its source is strictly ascending. */
function orderedCursor<T, K>(
  source: AsyncIterable<T>,
  keyOf: (item: T) => K,
  name: string,
  sides: Pick<MergeSides<unknown, unknown, K>, 'compare' | 'show'>,
): { next(): Promise<Keyed<T, K> | undefined>; close(): Promise<void> } {
  const iterator = source[Symbol.asyncIterator]();
  let previous: K | undefined;
  let seen = false;
  return {
    async next() {
      const step = await iterator.next();
      if (step.done === true) return undefined;
      const key = keyOf(step.value);
      if (seen && sides.compare(previous as K, key) >= 0) {
        throw new Error(
          `${name} is not in ascending key order: ${JSON.stringify(sides.show(key))} came after ` +
            `${JSON.stringify(sides.show(previous as K))}`,
        );
      }
      previous = key;
      seen = true;
      return { item: step.value, key };
    },
    async close() {
      await iterator.return?.();
    },
  };
}
