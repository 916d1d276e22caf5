import { describe, expect, it } from 'vitest';
import {
  compareBalances,
  compareOrderStatuses,
  driftCount,
  type SourceBalance,
  sourceBalances,
  type SourceOrder,
  type ViewBalance,
  type ViewOrder,
  viewBalances,
} from './reconcile.js';

async function* items<T>(values: readonly T[]): AsyncGenerator<T> {
  yield* values;
}

const STATUS_MAP: Record<string, string> = { NW: 'PENDING', AC: 'ACCEPTED', SH: 'SHIPPED', CX: 'CANCELLED' };
const statusOf = (code: string) => STATUS_MAP[code];

function balance(sku: string, location: string, onHand: string, reserved = '0.000', safetyStock = '0.000') {
  return { sku, location, onHand, reserved, safetyStock } satisfies SourceBalance;
}

function view(source: SourceBalance, removed = false): ViewBalance {
  return { ...source, removed };
}

describe('compareBalances: given source rows and availability documents, expect this drift', () => {
  it('finds nothing when every row matches numerically, and a tombstone without a row is in sync', async () => {
    const source = [balance('MUG', 'WH-EAST', '5'), balance('TSHIRT', 'ST-AIRPORT', '9.000', '1.5', '6')];
    const documents = [
      view(balance('CABLE', 'ST-DOWNTOWN', '3.000'), true),
      view(balance('MUG', 'WH-EAST', '5.000')),
      view(balance('TSHIRT', 'ST-AIRPORT', '9.000', '1.500', '6.000')),
    ];
    const report = await compareBalances(items(source), items(documents), { samples: 5 });
    expect(report).toEqual({
      subject: 'inventory balances',
      sourceRows: 2,
      viewDocuments: 3,
      inSync: 3,
      missingInView: 0,
      missingInSource: 0,
      different: 0,
      samples: [],
    });
    expect(driftCount(report)).toBe(0);
  });

  it('counts each kind and samples the differing fields with both values', async () => {
    const source = [
      balance('A', 'L1', '1.000'),
      balance('B', 'L1', '2.000', '1.000'),
      balance('C', 'L1', '3.000'),
      balance('E', 'L1', '5.000'),
    ];
    const documents = [
      view(balance('A', 'L1', '1.000')),
      view(balance('B', 'L1', '2.000', '0.000')),
      view(balance('C', 'L1', '3.000'), true),
      view(balance('D', 'L1', '4.000')),
    ];
    const report = await compareBalances(items(source), items(documents), { samples: 5 });
    expect(report).toEqual({
      subject: 'inventory balances',
      sourceRows: 4,
      viewDocuments: 4,
      inSync: 1,
      missingInView: 2,
      missingInSource: 1,
      different: 1,
      samples: [
        { kind: 'different', key: 'B@L1', fields: [{ field: 'reserved', source: '1.000', view: '0.000' }] },
        {
          kind: 'missing-in-view',
          key: 'C@L1',
          fields: [
            { field: 'onHand', source: '3.000', view: null },
            { field: 'reserved', source: '0.000', view: null },
            { field: 'safetyStock', source: '0.000', view: null },
          ],
          note: 'The view holds it as removed',
        },
        {
          kind: 'missing-in-source',
          key: 'D@L1',
          fields: [
            { field: 'onHand', source: null, view: '4.000' },
            { field: 'reserved', source: null, view: '0.000' },
            { field: 'safetyStock', source: null, view: '0.000' },
          ],
        },
        {
          kind: 'missing-in-view',
          key: 'E@L1',
          fields: [
            { field: 'onHand', source: '5.000', view: null },
            { field: 'reserved', source: '0.000', view: null },
            { field: 'safetyStock', source: '0.000', view: null },
          ],
        },
      ],
    });
    expect(driftCount(report)).toBe(4);
  });

  it('keeps at most the requested samples per kind but counts every drifted key', async () => {
    const source = ['1', '2', '3', '4'].map((n) => balance(`SKU-${n}`, 'L', n));
    const report = await compareBalances(items(source), items([]), { samples: 2 });
    expect(report.missingInView).toBe(4);
    expect(report.samples.map((sample) => sample.key)).toEqual(['SKU-1@L', 'SKU-2@L']);
  });

  it('orders by SKU, then location, not by the joined key: A-B sorts after A whatever the location', async () => {
    const rows = [balance('A', 'Z', '1'), balance('A-B', 'A', '2')];
    const report = await compareBalances(items(rows), items(rows.map((row) => view(row))), { samples: 5 });
    expect(report.inSync).toBe(2);
  });

  it('reports each source row to the progress callback', async () => {
    let rows = 0;
    await compareBalances(items([balance('A', 'L', '1')]), items([]), { samples: 0, onSourceRow: () => rows++ });
    expect(rows).toBe(1);
  });

  it('fails naming the key and side for a quantity that is no decimal', async () => {
    const report = compareBalances(items([balance('A', 'L', '1')]), items([view(balance('A', 'L', '1.0e3'))]), {
      samples: 5,
    });
    await expect(report).rejects.toThrow('Invalid decimal "1.0e3" in onHand of A@L on the view side');
  });

  it('merges keyset pages of both sides', async () => {
    const rows = ['a', 'b', 'c', 'd', 'e'].map((sku) => balance(sku, 'L', '1'));
    const page = (list: readonly SourceBalance[]) => ({
      balancePage: async (after: { sku: string } | undefined, limit: number) =>
        list.filter((row) => after === undefined || row.sku > after.sku).slice(0, limit),
    });
    const documents = rows.map((row) => view(row));
    const report = await compareBalances(
      sourceBalances(page(rows), 2),
      viewBalances(
        { balancePage: async (after, limit) => (await page(documents).balancePage(after, limit)) as ViewBalance[] },
        3,
      ),
      { samples: 5 },
    );
    expect(report).toMatchObject({ sourceRows: 5, viewDocuments: 5, inSync: 5 });
  });
});

describe('compareOrderStatuses: given header rows and order views, expect this drift', () => {
  const order = (orderNumber: string, statusCode: string): SourceOrder => ({ orderNumber, statusCode });
  const doc = (orderNumber: string, status: string | null, deleted = false): ViewOrder => ({
    orderNumber,
    status,
    deleted,
  });

  it('finds nothing when every mapped status matches and deleted orders are gone from the source', async () => {
    const report = await compareOrderStatuses(
      items([order('SO-1', 'AC'), order('SO-2', 'SH')]),
      items([doc('SO-0', 'PENDING', true), doc('SO-1', 'ACCEPTED'), doc('SO-2', 'SHIPPED')]),
      statusOf,
      { samples: 5 },
    );
    expect(report).toEqual({
      subject: 'order statuses',
      sourceRows: 2,
      viewDocuments: 3,
      inSync: 3,
      missingInView: 0,
      missingInSource: 0,
      different: 0,
      samples: [],
    });
  });

  it('reports a different status, an unmapped code, missing orders on either side and a deleted view', async () => {
    const report = await compareOrderStatuses(
      items([order('SO-1', 'SH'), order('SO-2', 'ZZ'), order('SO-3', 'NW'), order('SO-5', 'CX')]),
      items([doc('SO-1', 'ACCEPTED'), doc('SO-2', 'PENDING'), doc('SO-4', null), doc('SO-5', 'CANCELLED', true)]),
      statusOf,
      { samples: 5 },
    );
    expect(report).toEqual({
      subject: 'order statuses',
      sourceRows: 4,
      viewDocuments: 4,
      inSync: 0,
      missingInView: 2,
      missingInSource: 1,
      different: 2,
      samples: [
        {
          kind: 'different',
          key: 'SO-1',
          fields: [{ field: 'status', source: 'SHIPPED', view: 'ACCEPTED' }],
          note: 'ERP StatusCode SH',
        },
        {
          kind: 'different',
          key: 'SO-2',
          fields: [{ field: 'status', source: null, view: 'PENDING' }],
          note: 'ERP StatusCode ZZ is not in transforms.order_header.statusMap',
        },
        {
          kind: 'missing-in-view',
          key: 'SO-3',
          fields: [{ field: 'status', source: 'PENDING', view: null }],
          note: 'ERP StatusCode NW',
        },
        { kind: 'missing-in-source', key: 'SO-4', fields: [{ field: 'status', source: null, view: null }] },
        {
          kind: 'missing-in-view',
          key: 'SO-5',
          fields: [{ field: 'status', source: 'CANCELLED', view: null }],
          note: 'ERP StatusCode CX; the view holds it as deleted',
        },
      ],
    });
  });
});
