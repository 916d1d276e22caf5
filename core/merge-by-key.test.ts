import { describe, expect, it } from 'vitest';
import { compareCodePoints, keysetPages, mergeByKey } from './merge-by-key.js';

async function* items<T>(values: readonly T[]): AsyncGenerator<T> {
  yield* values;
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

const byString = {
  left: { name: 'Left', keyOf: (item: { id: string }) => item.id },
  right: { name: 'Right', keyOf: (item: { id: string }) => item.id },
  compare: compareCodePoints,
  show: (key: string) => key,
};

describe('mergeByKey', () => {
  it('pairs equal keys and keeps one-sided keys, in ascending order', async () => {
    const left = [{ id: 'a' }, { id: 'c' }, { id: 'd' }];
    const right = [{ id: 'b' }, { id: 'c' }, { id: 'e' }];
    expect(await collect(mergeByKey(items(left), items(right), byString))).toEqual([
      { key: 'a', left: { id: 'a' }, right: undefined },
      { key: 'b', left: undefined, right: { id: 'b' } },
      { key: 'c', left: { id: 'c' }, right: { id: 'c' } },
      { key: 'd', left: { id: 'd' }, right: undefined },
      { key: 'e', left: undefined, right: { id: 'e' } },
    ]);
  });

  it.each([
    ['both empty', [], [], 0],
    ['left empty', [], ['a', 'b'], 2],
    ['right empty', ['a', 'b'], [], 2],
  ])('handles %s', async (_name, left: string[], right: string[], pairs: number) => {
    const merged = await collect(
      mergeByKey(items(left.map((id) => ({ id }))), items(right.map((id) => ({ id }))), byString),
    );
    expect(merged).toHaveLength(pairs);
  });

  it('stops with the side and both keys when a side is out of order', async () => {
    const merged = collect(mergeByKey(items([{ id: 'b' }, { id: 'a' }]), items([{ id: 'a' }]), byString));
    await expect(merged).rejects.toThrow('Left is not in ascending key order: "a" came after "b"');
  });

  it('stops when a side repeats a key', async () => {
    const merged = collect(mergeByKey(items([]), items([{ id: 'x' }, { id: 'x' }]), byString));
    await expect(merged).rejects.toThrow('Right is not in ascending key order: "x" came after "x"');
  });

  it('closes both sources when the consumer stops early', async () => {
    const closed: string[] = [];
    async function* tracked(name: string, values: string[]) {
      try {
        for (const id of values) yield { id };
      } finally {
        closed.push(name);
      }
    }
    for await (const pair of mergeByKey(tracked('left', ['a', 'b']), tracked('right', ['a', 'b']), byString)) {
      if (pair.key === 'a') break;
    }
    expect(closed.sort()).toEqual(['left', 'right']);
  });
});

describe('keysetPages', () => {
  it('asks for the next page after the last key until a short page', async () => {
    const rows = ['a', 'b', 'c', 'd', 'e'];
    const asked: (string | undefined)[] = [];
    const pages = keysetPages(
      async (after: string | undefined, limit) => {
        asked.push(after);
        return rows.filter((row) => after === undefined || row > after).slice(0, limit);
      },
      (row) => row,
      2,
    );
    expect(await collect(pages)).toEqual(rows);
    expect(asked).toEqual([undefined, 'b', 'd']);
  });

  it('asks once more after an exactly full last page', async () => {
    const asked: (string | undefined)[] = [];
    const pages = keysetPages(
      async (after: string | undefined) => {
        asked.push(after);
        return after === undefined ? ['a', 'b'] : [];
      },
      (row) => row,
      2,
    );
    expect(await collect(pages)).toEqual(['a', 'b']);
    expect(asked).toEqual([undefined, 'b']);
  });

  it('refuses a page size below 1', async () => {
    await expect(
      collect(
        keysetPages(
          async () => [],
          (row) => row,
          0,
        ),
      ),
    ).rejects.toThrow('Page size must be a positive integer, got 0');
  });
});

describe('compareCodePoints', () => {
  it.each([
    ['A', 'a', -1],
    ['A-B', 'A@', -1],
    ['abc', 'ab', 1],
    ['same', 'same', 0],
    // U+FF5E sorts before U+1F600 by code point, after its surrogate pair by UTF-16 unit.
    ['\uff5e', '\u{1f600}', -1],
  ])('orders %j against %j as %i', (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
    expect(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))).toBe(sign);
  });
});
