import { type DecimalString } from '../../core/canonical.js';
import { compareDecimals, isDecimalString } from '../../core/decimal.js';
import { compareCodePoints, keysetPages, mergeByKey } from '../../core/merge-by-key.js';

/**
 * Reconciliation of the ERP source tables with the read models, as pure
 * logic over two key-ordered streams: the source rows (read by
 * `ops/reconcile/postgres-source.ts` or
 * `ops/reconcile/mssql-source.ts`) and the read model documents (read
 * by `ops/reconcile/mongo-view.ts`). Both sides are sorted by code point
 * (`compareCodePoints`) and read in keyset pages, so memory is bounded by
 * the page size whatever the table size.
 */

/** An inventory balance's key: SKU and location, compared in this order. */
export type BalanceKey = { readonly sku: string; readonly location: string };

/** One `InventoryBalance` row: quantities as exact decimal strings. `reserved` is the ERP's allocated quantity. */
export type SourceBalance = BalanceKey & {
  readonly onHand: DecimalString;
  readonly reserved: DecimalString;
  readonly safetyStock: DecimalString;
};

/** One `inventory_availability` document's quantities; `removed` marks a tombstone of a deleted balance row. */
export type ViewBalance = BalanceKey & {
  readonly onHand: DecimalString;
  readonly reserved: DecimalString;
  readonly safetyStock: DecimalString;
  readonly removed: boolean;
};

/** One `SalesOrderHeader` row: the order number and its `StatusCode`, trailing blanks of CHAR(n) removed. */
export type SourceOrder = { readonly orderNumber: string; readonly statusCode: string };

/** One `order_view` document: its canonical status (null before a header event arrived) and deletion marker. */
export type ViewOrder = { readonly orderNumber: string; readonly status: string | null; readonly deleted: boolean };

/**
 * The ERP side of a reconciliation. Pages are in ascending key order by code
 * point (`COLLATE "C"` on PostgreSQL, `_BIN2` on SQL Server), hold up to
 * `limit` rows with keys greater than `after` (from the start when undefined),
 * and quantities come as exact decimal strings, never floats. Rejects with a
 * `SourceUnavailableError` when the database cannot be reached.
 */
export type ReconcileSource = {
  /** Where the rows come from, e.g. `PostgreSQL database erp_demo at 127.0.0.1:5432`; never holds the password. */
  readonly description: string;
  countBalances(): Promise<number>;
  balancePage(after: BalanceKey | undefined, limit: number): Promise<readonly SourceBalance[]>;
  countOrders(): Promise<number>;
  orderPage(after: string | undefined, limit: number): Promise<readonly SourceOrder[]>;
  close(): Promise<void>;
};

/** The read model side; pages as in {@link ReconcileSource}, in the same order. */
export type ReconcileView = {
  readonly description: string;
  balancePage(after: BalanceKey | undefined, limit: number): Promise<readonly ViewBalance[]>;
  orderPage(after: string | undefined, limit: number): Promise<readonly ViewOrder[]>;
};

/** How a key drifted: the source has it and the view does not, the other way round, or both differ. */
export const DRIFT_KIND = {
  missingInView: 'missing-in-view',
  missingInSource: 'missing-in-source',
  different: 'different',
} as const;

export type DriftKind = (typeof DRIFT_KIND)[keyof typeof DRIFT_KIND];

/** One field that differs; null where that side has no value. */
export type FieldDrift = { readonly field: string; readonly source: string | null; readonly view: string | null };

/** One drifted key, as a sample for people to look at. */
export type DriftSample = {
  readonly kind: DriftKind;
  /** `sku@location` or the order number. */
  readonly key: string;
  readonly fields: readonly FieldDrift[];
  /** What else explains the drift, e.g. the ERP status code behind a mapped status. */
  readonly note?: string;
};

/** What one comparison found. `samples` holds up to the requested number per kind, in key order. */
export type DriftReport = {
  readonly subject: string;
  readonly sourceRows: number;
  readonly viewDocuments: number;
  /** Keys where source and view agree (including a deleted row the view keeps as a tombstone). */
  readonly inSync: number;
  readonly missingInView: number;
  readonly missingInSource: number;
  readonly different: number;
  readonly samples: readonly DriftSample[];
};

/** Settings of a comparison. */
export type CompareOptions = {
  /** Most samples kept per drift kind. */
  readonly samples: number;
  /** Called once per source row consumed, for progress. */
  readonly onSourceRow?: () => void;
};

/** Keys that drifted in a report, whatever the kind. */
export function driftCount(report: Pick<DriftReport, 'missingInView' | 'missingInSource' | 'different'>): number {
  return report.missingInView + report.missingInSource + report.different;
}

/** Orders balance keys by SKU, then location, by code point. */
export function compareBalanceKeys(a: BalanceKey, b: BalanceKey): number {
  return compareCodePoints(a.sku, b.sku) || compareCodePoints(a.location, b.location);
}

/** The key as the read model writes it, `sku@location`. */
export function balanceKeyText(key: BalanceKey): string {
  return `${key.sku}@${key.location}`;
}

/** Source rows of balances, read in keyset pages. */
export function sourceBalances(source: Pick<ReconcileSource, 'balancePage'>, pageSize: number) {
  return keysetPages(
    (after: BalanceKey | undefined, limit) => source.balancePage(after, limit),
    balanceKeyOf,
    pageSize,
  );
}

/** Read model balances, read in keyset pages. */
export function viewBalances(view: Pick<ReconcileView, 'balancePage'>, pageSize: number) {
  return keysetPages((after: BalanceKey | undefined, limit) => view.balancePage(after, limit), balanceKeyOf, pageSize);
}

/** Source orders, read in keyset pages. */
export function sourceOrders(source: Pick<ReconcileSource, 'orderPage'>, pageSize: number) {
  return keysetPages(
    (after: string | undefined, limit) => source.orderPage(after, limit),
    (order) => order.orderNumber,
    pageSize,
  );
}

/** Read model orders, read in keyset pages. */
export function viewOrders(view: Pick<ReconcileView, 'orderPage'>, pageSize: number) {
  return keysetPages(
    (after: string | undefined, limit) => view.orderPage(after, limit),
    (order) => order.orderNumber,
    pageSize,
  );
}

const BALANCE_FIELDS = ['onHand', 'reserved', 'safetyStock'] as const;

/**
 * Compares inventory balances with `inventory_availability`, key by key:
 *
 * - a source row without a document, or whose document is a tombstone
 *   (`removed`), is missing in the view;
 * - a live document without a source row is missing in the source; a
 *   tombstone without one is in sync (the row was deleted);
 * - otherwise on hand, reserved (the ERP's allocated quantity) and safety
 *   stock must be numerically equal (`"5"` equals `"5.000"`).
 *
 * Throws when a side is out of key order (see `mergeByKey`) or holds a
 * quantity that is no decimal string.
 */
export async function compareBalances(
  source: AsyncIterable<SourceBalance>,
  view: AsyncIterable<ViewBalance>,
  options: CompareOptions,
): Promise<DriftReport> {
  const tally = createTally('inventory balances', options);
  for await (const { key, left, right } of mergeByKey(source, view, {
    left: { name: 'The source balances', keyOf: balanceKeyOf },
    right: { name: 'The inventory_availability documents', keyOf: balanceKeyOf },
    compare: compareBalanceKeys,
    show: balanceKeyText,
  })) {
    if (left !== undefined) tally.sourceRow();
    if (right !== undefined) tally.viewDocument();
    if (left === undefined) {
      if (right!.removed) tally.inSync();
      else tally.drift({ kind: DRIFT_KIND.missingInSource, key, fields: quantityFields(undefined, right) });
    } else if (right === undefined || right.removed) {
      tally.drift({
        kind: DRIFT_KIND.missingInView,
        key,
        fields: quantityFields(left, undefined),
        ...(right?.removed === true ? { note: 'The view holds it as removed' } : {}),
      });
    } else {
      const fields = BALANCE_FIELDS.filter((field) => !sameQuantity(left[field], right[field], field, key)).map(
        (field) => ({ field, source: left[field], view: right[field] }),
      );
      if (fields.length === 0) tally.inSync();
      else tally.drift({ kind: DRIFT_KIND.different, key, fields });
    }
  }
  return tally.report();
}

/**
 * Compares order statuses with `order_view`, key by key. `statusOf` maps an
 * ERP `StatusCode` to the canonical status (the `order_header` transform's
 * `statusMap`), or undefined for a code it does not map.
 *
 * - a source order without a document, or whose document is marked
 *   `deleted`, is missing in the view;
 * - a document not marked deleted without a source order is missing in the
 *   source; a deleted one without it is in sync;
 * - otherwise the document's status must be the mapped status; an unmapped
 *   code is drift too (the transform dead-letters such changes).
 */
export async function compareOrderStatuses(
  source: AsyncIterable<SourceOrder>,
  view: AsyncIterable<ViewOrder>,
  statusOf: (code: string) => string | undefined,
  options: CompareOptions,
): Promise<DriftReport> {
  const tally = createTally('order statuses', options);
  for await (const { key, left, right } of mergeByKey(source, view, {
    left: { name: 'The source orders', keyOf: (order: SourceOrder) => order.orderNumber },
    right: { name: 'The order_view documents', keyOf: (order: ViewOrder) => order.orderNumber },
    compare: compareCodePoints,
    show: (orderNumber) => orderNumber,
  })) {
    if (left !== undefined) tally.sourceRow();
    if (right !== undefined) tally.viewDocument();
    if (left === undefined) {
      if (right!.deleted) tally.inSync();
      else {
        tally.drift({
          kind: DRIFT_KIND.missingInSource,
          key,
          fields: [{ field: 'status', source: null, view: right!.status }],
        });
      }
      continue;
    }
    const expected = statusOf(left.statusCode);
    if (right === undefined || right.deleted) {
      tally.drift({
        kind: DRIFT_KIND.missingInView,
        key,
        fields: [{ field: 'status', source: expected ?? null, view: null }],
        note: `ERP StatusCode ${left.statusCode}${right?.deleted === true ? '; the view holds it as deleted' : ''}`,
      });
    } else if (expected === undefined) {
      tally.drift({
        kind: DRIFT_KIND.different,
        key,
        fields: [{ field: 'status', source: null, view: right.status }],
        note: `ERP StatusCode ${left.statusCode} is not in transforms.order_header.statusMap`,
      });
    } else if (expected !== right.status) {
      tally.drift({
        kind: DRIFT_KIND.different,
        key,
        fields: [{ field: 'status', source: expected, view: right.status }],
        note: `ERP StatusCode ${left.statusCode}`,
      });
    } else tally.inSync();
  }
  return tally.report();
}

function balanceKeyOf(balance: BalanceKey): BalanceKey {
  return { sku: balance.sku, location: balance.location };
}

function quantityFields(source: SourceBalance | undefined, view: ViewBalance | undefined): FieldDrift[] {
  return BALANCE_FIELDS.map((field) => ({ field, source: source?.[field] ?? null, view: view?.[field] ?? null }));
}

function sameQuantity(source: string, view: string, field: string, key: string): boolean {
  for (const [side, value] of [
    ['source', source],
    ['view', view],
  ] as const) {
    if (!isDecimalString(value)) {
      throw new RangeError(`Invalid decimal ${JSON.stringify(value)} in ${field} of ${key} on the ${side} side`);
    }
  }
  return compareDecimals(source, view) === 0;
}

/** Counts and samples of one comparison. */
function createTally(subject: string, options: CompareOptions) {
  const counts = { sourceRows: 0, viewDocuments: 0, inSync: 0, missingInView: 0, missingInSource: 0, different: 0 };
  const samples: DriftSample[] = [];
  const sampled = new Map<DriftKind, number>();
  const field = {
    [DRIFT_KIND.missingInView]: 'missingInView',
    [DRIFT_KIND.missingInSource]: 'missingInSource',
    [DRIFT_KIND.different]: 'different',
  } as const;
  return {
    sourceRow() {
      counts.sourceRows++;
      options.onSourceRow?.();
    },
    viewDocument() {
      counts.viewDocuments++;
    },
    inSync() {
      counts.inSync++;
    },
    drift(sample: DriftSample) {
      counts[field[sample.kind]]++;
      const taken = sampled.get(sample.kind) ?? 0;
      if (taken < options.samples) {
        samples.push(sample);
        sampled.set(sample.kind, taken + 1);
      }
    },
    report(): DriftReport {
      return { subject, ...counts, samples };
    },
  };
}
