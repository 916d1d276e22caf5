import { BSON, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { diffDocumentStreams, differingPaths, isIdentical } from './collection-diff.js';

async function* items(values: readonly Document[]): AsyncGenerator<Document> {
  yield* values;
}

const meta = (appliedAt: string, pipelineVersion = '0.1.0') => ({
  version: '00000025:00000400:0001/0',
  appliedAt: new Date(appliedAt),
  pipelineVersion,
});

describe('differingPaths', () => {
  it('ignores when and by which build a document was written, and field order', () => {
    const a = { _id: 'A', onHand: '1.000', _meta: meta('2025-01-01T00:00:00Z', '0.1.0') };
    const b = { _meta: meta('2025-06-01T00:00:00Z', '0.2.0'), onHand: '1.000', _id: 'A' };
    expect(differingPaths(a, b)).toEqual([]);
  });

  it('compares Decimal128 exactly, and a decimal stored as a string as different from one stored as Decimal128', () => {
    const d = (text: string) => BSON.Decimal128.fromString(text);
    // As doubles, both sides of each of these pairs are the same number.
    expect(differingPaths({ v: d('9007199254740993.000') }, { v: d('9007199254740992.000') })).toEqual(['v']);
    expect(differingPaths({ v: d('0.1000000000000000055511151231257827') }, { v: d('0.1') })).toEqual(['v']);
    expect(differingPaths({ v: d('12.500') }, { v: d('12.5') })).toEqual([]);
    expect(differingPaths({ onHand: '12.500' }, { onHand: d('12.500') })).toEqual(['onHand']);
  });

  it('names every differing leaf by its dotted path, in key order', () => {
    const a = {
      _id: 'SO-1',
      status: 'SHIPPED',
      lines: { '1': { qty: '2.000', source: { committedAt: new Date(1000) } } },
      trackingNumbers: ['A', 'B'],
      _meta: meta('2025-01-01T00:00:00Z'),
    };
    const b = {
      _id: 'SO-1',
      status: 'PICKING',
      lines: { '1': { qty: '3.000', source: { committedAt: new Date(2000) } } },
      trackingNumbers: ['A', 'C'],
      deleted: false,
      _meta: { ...meta('2025-02-01T00:00:00Z'), version: '00000026:00000400:0001/0' },
    };
    expect(differingPaths(a, b)).toEqual([
      '_meta.version',
      'deleted',
      'lines.1.qty',
      'lines.1.source.committedAt',
      'status',
      'trackingNumbers.1',
    ]);
  });

  it.each([
    ['arrays of another length', { a: [1, 2] }, { a: [1] }, ['a']],
    ['null against a value', { a: null }, { a: 'x' }, ['a']],
    ['a document against a string', { a: { b: 1 } }, { a: 'x' }, ['a']],
    ['equal dates', { a: new Date(5) }, { a: new Date(5) }, []],
    ['a Long against an equal number', { a: BSON.Long.fromNumber(7) }, { a: 7 }, []],
    ['different ObjectIds', { a: new BSON.ObjectId('0'.repeat(24)) }, { a: new BSON.ObjectId('1'.repeat(24)) }, ['a']],
  ])('compares %s', (_name, a: Document, b: Document, paths: string[]) => {
    expect(differingPaths(a, b)).toEqual(paths);
  });

  it('stops listing at the limit', () => {
    expect(differingPaths({ a: 1, b: 1, c: 1 }, { a: 2, b: 2, c: 2 }, new Set(), 2)).toEqual(['a', 'b']);
  });
});

describe('diffDocumentStreams: given the rebuilt and the live documents, expect this diff', () => {
  it('finds nothing between equal collections whose writes differ only in time and build', async () => {
    const rebuilt = [
      { _id: 'A@L', onHand: '1.000', _meta: meta('2025-06-01T00:00:00Z', '0.2.0') },
      { _id: 'B@L', onHand: '2.000', _meta: meta('2025-06-01T00:00:00Z', '0.2.0') },
    ];
    const live = [
      { _id: 'A@L', onHand: '1.000', _meta: meta('2025-01-01T00:00:00Z') },
      { _id: 'B@L', onHand: '2.000', _meta: meta('2025-01-02T00:00:00Z') },
    ];
    const diff = await diffDocumentStreams(items(rebuilt), items(live));
    expect(diff).toEqual({
      expected: { collection: 'expected', documents: 2 },
      actual: { collection: 'actual', documents: 2 },
      identical: 2,
      missing: 0,
      extra: 0,
      different: 0,
      samples: [],
    });
    expect(isIdentical(diff)).toBe(true);
  });

  it('counts missing, extra and different documents with samples of ids and paths', async () => {
    const rebuilt = [
      { _id: 'A', onHand: '1.000' },
      { _id: 'B', onHand: '2.000', lowStock: false },
      { _id: 'C', onHand: '3.000' },
      { _id: 'E', onHand: '5.000' },
    ];
    const live = [
      { _id: 'A', onHand: '1.000' },
      { _id: 'B', onHand: '9.000', lowStock: true },
      { _id: 'D', onHand: '4.000' },
      { _id: 'E', onHand: '5.000' },
      { _id: 'F', onHand: '6.000' },
    ];
    const progress: number[] = [];
    const diff = await diffDocumentStreams(items(rebuilt), items(live), {
      samples: 1,
      onProgress: (documents) => progress.push(documents),
    });
    expect(diff).toEqual({
      expected: { collection: 'expected', documents: 4 },
      actual: { collection: 'actual', documents: 5 },
      identical: 2,
      missing: 1,
      extra: 2,
      different: 1,
      samples: [
        { kind: 'different', id: 'B', paths: ['lowStock', 'onHand'] },
        { kind: 'missing', id: 'C', paths: [] },
        { kind: 'extra', id: 'D', paths: [] },
      ],
    });
    expect(progress.at(-1)).toBe(9);
  });

  it('shows non-string ids as extended JSON', async () => {
    const id = new BSON.ObjectId('65a1f0c2e4b0a1b2c3d4e5f6');
    const diff = await diffDocumentStreams(items([{ _id: id }]), items([]));
    expect(diff.samples).toEqual([{ kind: 'missing', id: '{"$oid":"65a1f0c2e4b0a1b2c3d4e5f6"}', paths: [] }]);
  });

  it('stops when a stream is not in _id order instead of reporting phantom differences', async () => {
    const diff = diffDocumentStreams(items([{ _id: 'B' }, { _id: 'A' }]), items([]), {
      names: { expected: 'The collection x__rebuild', actual: 'The collection x' },
    });
    await expect(diff).rejects.toThrow('The collection x__rebuild is not in ascending key order: "A" came after "B"');
  });
});
