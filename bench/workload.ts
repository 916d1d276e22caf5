import { z } from 'zod';
import { SAMPLE_ERP_DATABASE } from '../devtools/erp/sample-erp.js';
import { type Fixture, validateFixture } from '../devtools/fixtures/fixture-file.js';

/**
 * The benchmark's workload: a deterministic stream of ERP row changes of the
 * sample ERP, as Debezium's SQL Server connector captures them, written in the
 * fixture format (`devtools/fixtures/README.md`) so that the project's own
 * validator checks every value and assigns positions, transactions and times,
 * and the fixture producer writes exactly the records Debezium would
 * (Confluent-framed Avro, `decimal.handling.mode=precise`, the envelope with
 * `ts_ns`).
 *
 * The stream starts with a snapshot of every inventory balance, then
 * interleaves two kinds of transactions the way a retailer's ERP commits them:
 *
 * - inventory moves over many SKU × location keys: goods receipts, transfers
 *   between locations, stock counts that correct the quantity, and recounts
 *   that touch only `LastCountedAt` (which the stock_level stage skips);
 * - order lifecycles, several orders in flight at once: placement (header and
 *   1 to 4 lines), acceptance (an authorisation, lines allocated to a
 *   location, stock allocated), capture, packing (a shipment), dispatch
 *   (carrier and tracking, stock leaves), closing; some orders are cancelled
 *   before acceptance, some come back (return authorisation received, stock
 *   back on hand, refund completed).
 *
 * The same seed and size always give the same changes. No change deletes a
 * row, so the stream has no tombstones.
 */
export const workloadOptionsSchema = z.object({
  events: z.number().int().positive().describe('Row changes in the workload, exactly'),
  seed: z.number().int().default(20_251_127).describe('Seed of the pseudo-random choices'),
  inventoryKeys: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('SKU × location keys of InventoryBalance; default a tenth of the events, at least 20'),
  concurrentOrders: z.number().int().positive().default(40).describe('Orders in flight at once'),
});

export type WorkloadOptions = z.input<typeof workloadOptionsSchema>;

/** One row change in the fixture format, as `validateFixture` reads it. */
export type WorkloadChange = {
  readonly table: string;
  readonly op: 'c' | 'u' | 'r';
  readonly before?: Record<string, unknown>;
  readonly after: Record<string, unknown>;
  readonly transactionId?: string;
  readonly snapshot?: 'first' | 'last';
};

/** What the workload holds, for the report and the tests. */
export type WorkloadSummary = {
  readonly events: number;
  readonly seed: number;
  readonly transactions: number;
  readonly inventoryKeys: number;
  readonly orders: number;
  readonly byTable: Readonly<Record<string, number>>;
  readonly byOp: Readonly<Record<string, number>>;
};

/**
 * A stateful generator: `take(n)` returns the next `n` changes (whole
 * transactions, exactly `n` rows), and a later call continues the same
 * stream with the same state, e.g. for the freshness run's paced source.
 */
export type WorkloadGenerator = {
  take(count: number): WorkloadChange[];
  /** The inventory key (`sku@location`) a change moves quantities of, by its index in everything taken so far. */
  quantityKeyOf(index: number): string | undefined;
  summary(): WorkloadSummary;
};

/** The locations of the workload's stock: two warehouses and two stores. */
export const WORKLOAD_LOCATIONS = ['WH-EAST', 'WH-WEST', 'STORE-01', 'STORE-02'] as const;

/** The first commit time of a workload, as in every fixture (2025-11-27T08:00:00Z); each transaction adds a second. */
const START_MS = 1_764_230_400_000;

/** The largest transaction the generator writes, in rows; below this many rows left it fills with single rows. */
const MAX_TRANSACTION_ROWS = 12;

export function createWorkloadGenerator(options: WorkloadOptions): WorkloadGenerator {
  const settings = workloadOptionsSchema.parse(options);
  const random = mulberry32(settings.seed);
  const keyCount = settings.inventoryKeys ?? Math.max(20, Math.floor(settings.events / 10));
  const skuCount = Math.ceil(keyCount / WORKLOAD_LOCATIONS.length);
  const keys: string[] = [];
  for (let sku = 0; sku < skuCount && keys.length < keyCount; sku++) {
    for (const location of WORKLOAD_LOCATIONS) {
      if (keys.length < keyCount) keys.push(`${skuName(sku)}@${location}`);
    }
  }
  const balances = new Map<string, Row>();
  for (const key of keys) {
    const [sku, location] = key.split('@') as [string, string];
    balances.set(key, {
      Sku: sku,
      LocationCode: location,
      QtyOnHand: qty(50_000 + int(random, 0, 200) * 1_000),
      QtyAllocated: qty(0),
      SafetyStock: qty(int(random, 0, 10) * 1_000),
      LastCountedAt: null,
      ModifiedAt: datetime2(START_MS - 86_400_000),
    });
  }
  const orders: OrderState[] = [];
  const counters = { orders: 0, payments: 0, shipments: 0, rmas: 0, refunds: 0, transactions: 0 };
  const byTable: Record<string, number> = {};
  const byOp: Record<string, number> = {};
  const quantityKeys: (string | undefined)[] = [];
  let snapshotted = 0;
  let taken = 0;

  const now = (): number => START_MS + counters.transactions * 1_000;

  function record(changes: WorkloadChange[], change: WorkloadChange, quantityKey?: string): void {
    changes.push(change);
    quantityKeys.push(quantityKey);
    byTable[change.table] = (byTable[change.table] ?? 0) + 1;
    byOp[change.op] = (byOp[change.op] ?? 0) + 1;
  }

  /** An update of one balance row: quantities changed by `change`; none changed for a recount. */
  function moveStock(tx: Tx, key: string, change: Partial<Record<'onHand' | 'allocated', number>>, counted = false) {
    const before = balances.get(key)!;
    const after: Row = {
      ...before,
      QtyOnHand: qty(thousandths(before['QtyOnHand']) + (change.onHand ?? 0)),
      QtyAllocated: qty(thousandths(before['QtyAllocated']) + (change.allocated ?? 0)),
      ...(counted ? { LastCountedAt: datetimeoffset(now()) } : {}),
      ModifiedAt: datetime2(now()),
    };
    balances.set(key, after);
    const moved = (change.onHand ?? 0) !== 0 || (change.allocated ?? 0) !== 0;
    tx.rows.push({ change: update('dbo.InventoryBalance', before, after), quantityKey: moved ? key : undefined });
  }

  function inventoryTransaction(tx: Tx): void {
    const key = pick(random, keys);
    const roll = random();
    const onHand = thousandths(balances.get(key)!['QtyOnHand']);
    if (roll < 0.5 || onHand < 1_000) {
      moveStock(tx, key, { onHand: int(random, 1, 48) * 1_000 });
    } else if (roll < 0.75) {
      const sku = key.split('@')[0]!;
      const others = WORKLOAD_LOCATIONS.map((location) => `${sku}@${location}`).filter(
        (other) => other !== key && balances.has(other),
      );
      const amount = Math.min(onHand, int(random, 1, 20) * 1_000);
      if (others.length === 0) {
        moveStock(tx, key, { onHand: -amount });
      } else {
        moveStock(tx, key, { onHand: -amount });
        moveStock(tx, pick(random, others), { onHand: amount });
      }
    } else if (roll < 0.9) {
      const correction = int(random, -3_000, 3_000);
      moveStock(tx, key, { onHand: Math.max(-onHand, correction === 0 ? 1_000 : correction) }, true);
    } else {
      moveStock(tx, key, {}, true);
    }
  }

  function orderTransaction(tx: Tx): void {
    const startNew = orders.length < settings.concurrentOrders && (orders.length === 0 || random() < 0.3);
    if (startNew) {
      placeOrder(tx);
      return;
    }
    const index = int(random, 0, orders.length - 1);
    const order = orders[index]!;
    const finished = advanceOrder(tx, order);
    if (finished) orders.splice(index, 1);
  }

  function placeOrder(tx: Tx): void {
    const n = ++counters.orders;
    const lineCount = int(random, 1, 4);
    const lines: Row[] = [];
    let total = 0;
    for (let lineNo = 1; lineNo <= lineCount; lineNo++) {
      const skuIndex = int(random, 0, skuCount - 1);
      const quantity = int(random, 1, 5) * 1_000;
      const unitPrice = priceOf(skuIndex);
      total += (quantity * unitPrice) / 1_000;
      lines.push({
        OrderNumber: orderNumber(n),
        LineNo: lineNo,
        ItemId: 1_000 + skuIndex,
        Sku: skuName(skuIndex),
        Qty: qty(quantity),
        UnitPrice: money(unitPrice),
        LineStatus: 'NW',
        LocationCode: null,
        ModifiedAt: datetime2(now()),
      });
    }
    const header: Row = {
      OrderNumber: orderNumber(n),
      CustomerId: `CUST-${String(int(random, 1, 99_999)).padStart(5, '0')}`,
      CustomerEmail: random() < 0.9 ? `customer${n}@example.com` : null,
      Channel: pick(random, ['WEB', 'APP', 'STORE'] as const),
      StatusCode: 'NW',
      CurrencyCode: 'EUR',
      OrderTotal: money(total),
      PlacedAt: datetimeoffset(now()),
      RowGuid: guid(random),
      ModifiedAt: datetime2(now()),
    };
    tx.rows.push({ change: create('dbo.SalesOrderHeader', header) });
    for (const line of lines) tx.rows.push({ change: create('dbo.SalesOrderLine', line) });
    orders.push({ header, lines, step: 'placed', returns: random() < 0.15, allocations: [] });
  }

  /** Moves the order one step on; true once it has reached its last step. */
  function advanceOrder(tx: Tx, order: OrderState): boolean {
    switch (order.step) {
      case 'placed': {
        if (random() < 0.05) {
          setHeader(tx, order, { StatusCode: 'CX' });
          for (const line of [...order.lines.keys()]) setLine(tx, order, line, { LineStatus: 'CX' });
          return true;
        }
        tx.rows.push({ change: create('dbo.PaymentTransaction', payment(order, 'AUT', 'SUCCEEDED')) });
        setHeader(tx, order, { StatusCode: 'AC' });
        for (const [i, line] of order.lines.entries()) {
          const location = pick(random, WORKLOAD_LOCATIONS);
          const key = `${String(line['Sku'])}@${location}`;
          setLine(tx, order, i, { LineStatus: 'AL', LocationCode: location });
          if (balances.has(key)) {
            const amount = thousandths(line['Qty']);
            moveStock(tx, key, { allocated: amount });
            order.allocations.push({ key, amount });
          }
        }
        order.step = 'accepted';
        return false;
      }
      case 'accepted':
        tx.rows.push({ change: create('dbo.PaymentTransaction', payment(order, 'CAP', 'SUCCEEDED')) });
        setHeader(tx, order, { StatusCode: 'PK' });
        order.step = 'captured';
        return false;
      case 'captured': {
        const shipment: Row = {
          ShipmentId: ++counters.shipments,
          OrderNumber: order.header['OrderNumber'],
          LocationCode: order.lines[0]!['LocationCode'] ?? WORKLOAD_LOCATIONS[0],
          Carrier: null,
          TrackingNumber: null,
          Status: 'PK',
          ShippedAt: null,
          ModifiedAt: datetime2(now()),
        };
        tx.rows.push({ change: create('dbo.Shipment', shipment) });
        order.shipment = shipment;
        order.step = 'packed';
        return false;
      }
      case 'packed': {
        const before = order.shipment!;
        const after: Row = {
          ...before,
          Carrier: pick(random, ['DHL', 'UPS', 'DPD'] as const),
          TrackingNumber: `TRK${String(before['ShipmentId']).padStart(10, '0')}`,
          Status: 'SH',
          ShippedAt: datetimeoffset(now()),
          ModifiedAt: datetime2(now()),
        };
        order.shipment = after;
        tx.rows.push({ change: update('dbo.Shipment', before, after) });
        setHeader(tx, order, { StatusCode: 'SH' });
        for (const line of [...order.lines.keys()]) setLine(tx, order, line, { LineStatus: 'SH' });
        for (const { key, amount } of order.allocations) moveStock(tx, key, { onHand: -amount, allocated: -amount });
        order.step = 'shipped';
        return false;
      }
      case 'shipped':
        if (!order.returns) {
          setHeader(tx, order, { StatusCode: 'CL' });
          return true;
        }
        order.rma = {
          RmaId: ++counters.rmas,
          RmaNumber: `RMA-${String(counters.rmas).padStart(6, '0')}`,
          OrderNumber: order.header['OrderNumber'],
          Status: 'OP',
          Reason: pick(random, ['Wrong size', 'Damaged in transit', null] as const),
          ReceivedAt: null,
          ModifiedAt: datetime2(now()),
        };
        tx.rows.push({ change: create('dbo.ReturnAuthorization', order.rma) });
        order.step = 'return-opened';
        return false;
      case 'return-opened': {
        const before = order.rma!;
        order.rma = { ...before, Status: 'RC', ReceivedAt: datetimeoffset(now()), ModifiedAt: datetime2(now()) };
        tx.rows.push({ change: update('dbo.ReturnAuthorization', before, order.rma) });
        const back = order.allocations[0];
        if (back !== undefined) moveStock(tx, back.key, { onHand: back.amount });
        order.refund = {
          RefundId: ++counters.refunds,
          OrderNumber: order.header['OrderNumber'],
          RmaNumber: order.rma['RmaNumber'],
          Amount: order.lines[0]!['UnitPrice'],
          CurrencyCode: 'EUR',
          Status: 'PENDING',
          CompletedAt: null,
          ModifiedAt: datetime2(now()),
        };
        tx.rows.push({ change: create('dbo.Refund', order.refund) });
        order.step = 'returned';
        return false;
      }
      case 'returned': {
        const before = order.refund!;
        order.refund = {
          ...before,
          Status: 'COMPLETED',
          CompletedAt: datetimeoffset(now()),
          ModifiedAt: datetime2(now()),
        };
        tx.rows.push({ change: update('dbo.Refund', before, order.refund) });
        setHeader(tx, order, { StatusCode: 'CL' });
        return true;
      }
    }
  }

  function payment(order: OrderState, type: 'AUT' | 'CAP', status: string): Row {
    const id = ++counters.payments;
    return {
      PaymentId: String(4_200_000_000_000_000_000n + BigInt(id)),
      OrderNumber: order.header['OrderNumber'],
      TxnType: type,
      Amount: order.header['OrderTotal'],
      CurrencyCode: 'EUR',
      PspReference: `psp_${type.toLowerCase()}_${id.toString(36).padStart(8, '0')}`,
      Status: status,
      ProcessedAt: datetimeoffset(now()),
      ModifiedAt: datetime2(now()),
    };
  }

  function setHeader(tx: Tx, order: OrderState, set: Row): void {
    const before = order.header;
    order.header = { ...before, ...set, ModifiedAt: datetime2(now()) };
    tx.rows.push({ change: update('dbo.SalesOrderHeader', before, order.header) });
  }

  function setLine(tx: Tx, order: OrderState, index: number, set: Row): void {
    const before = order.lines[index]!;
    order.lines[index] = { ...before, ...set, ModifiedAt: datetime2(now()) };
    tx.rows.push({ change: update('dbo.SalesOrderLine', before, order.lines[index]) });
  }

  return {
    take(count) {
      const changes: WorkloadChange[] = [];
      while (snapshotted < keys.length && changes.length < count) {
        const key = keys[snapshotted]!;
        const snapshot = snapshotted === 0 ? 'first' : snapshotted === keys.length - 1 ? 'last' : undefined;
        record(changes, {
          table: 'dbo.InventoryBalance',
          op: 'r',
          after: balances.get(key)!,
          ...(snapshot === undefined ? {} : { snapshot }),
        });
        snapshotted++;
      }
      while (changes.length < count) {
        const tx: Tx = { rows: [] };
        if (count - changes.length <= MAX_TRANSACTION_ROWS || random() < 0.45) {
          // Near the end only single-row receipts, so that the count comes out exact without a cut transaction.
          if (count - changes.length <= MAX_TRANSACTION_ROWS) {
            moveStock(tx, pick(random, keys), { onHand: int(random, 1, 48) * 1_000 });
          } else inventoryTransaction(tx);
        } else orderTransaction(tx);
        counters.transactions++;
        const id = `tx-${counters.transactions}`;
        for (const row of tx.rows) record(changes, { ...row.change, transactionId: id }, row.quantityKey);
      }
      taken += changes.length;
      return changes;
    },
    quantityKeyOf: (index) => quantityKeys[index],
    summary: () => ({
      events: taken,
      seed: settings.seed,
      transactions: counters.transactions,
      inventoryKeys: keys.length,
      orders: counters.orders,
      byTable: { ...byTable },
      byOp: { ...byOp },
    }),
  };
}

/** A workload of `options.events` changes for the given topic prefix, validated by the project's fixture validator. */
export function generateWorkload(
  options: WorkloadOptions & { readonly server: string },
  generator: WorkloadGenerator = createWorkloadGenerator(options),
): { fixture: Fixture; generator: WorkloadGenerator } {
  const changes = generator.take(options.events);
  return { fixture: toFixture(changes, options.server, 'the benchmark workload'), generator };
}

/**
 * Validates changes as a fixture of `server`; `startLsn` continues an earlier
 * fixture's positions (see {@link lsnAfter}). Throws the validator's
 * `ConfigError` for a change it refuses.
 */
export function toFixture(
  changes: readonly WorkloadChange[],
  server: string,
  name: string,
  startLsn?: string,
): Fixture {
  return validateFixture(
    { server, database: SAMPLE_ERP_DATABASE, ...(startLsn === undefined ? {} : { startLsn }), changes },
    name,
  );
}

/** The LSN right after every position of `fixture`, to start a continuation of its stream at. */
export function lsnAfter(fixture: Fixture): string {
  let last = 0n;
  for (const entry of fixture.entries) {
    if (entry.kind !== 'change') continue;
    for (const lsn of [entry.change.source.commitLsn, entry.change.source.changeLsn]) {
      if (lsn !== null && lsnValue(lsn) > last) last = lsnValue(lsn);
    }
  }
  const hex = (last + 1n).toString(16).padStart(20, '0');
  return `${hex.slice(0, 8)}:${hex.slice(8, 16)}:${hex.slice(16)}`;
}

function lsnValue(lsn: string): bigint {
  return BigInt(`0x${lsn.replaceAll(':', '')}`);
}

// Helpers

type Row = Record<string, unknown>;
type Tx = { rows: { change: Omit<WorkloadChange, 'transactionId'>; quantityKey?: string | undefined }[] };
type OrderState = {
  header: Row;
  lines: Row[];
  step: 'placed' | 'accepted' | 'captured' | 'packed' | 'shipped' | 'return-opened' | 'returned';
  readonly returns: boolean;
  readonly allocations: { readonly key: string; readonly amount: number }[];
  shipment?: Row;
  rma?: Row;
  refund?: Row;
};

function create(table: string, after: Row): Omit<WorkloadChange, 'transactionId'> {
  return { table, op: 'c', after: { ...after } };
}

function update(table: string, before: Row, after: Row): Omit<WorkloadChange, 'transactionId'> {
  return { table, op: 'u', before: { ...before }, after: { ...after } };
}

function skuName(index: number): string {
  return `SKU-${String(index + 1).padStart(6, '0')}`;
}

function orderNumber(n: number): string {
  return `SO-${String(n).padStart(7, '0')}`;
}

/** A SKU's unit price in ten-thousandths: 1.9900 to 200.9900. */
function priceOf(skuIndex: number): number {
  return ((skuIndex * 7_919) % 200) * 10_000 + 19_900;
}

/** decimal(18,3) from thousandths. */
function qty(thousandthsValue: number): string {
  return fixed(thousandthsValue, 3);
}

/** money (decimal(19,4)) from ten-thousandths. */
function money(tenThousandths: number): string {
  return fixed(Math.round(tenThousandths), 4);
}

function fixed(scaled: number, scale: number): string {
  const sign = scaled < 0 ? '-' : '';
  const digits = String(Math.abs(scaled)).padStart(scale + 1, '0');
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function thousandths(decimal: unknown): number {
  return Math.round(Number(decimal) * 1_000);
}

/** datetime2(7) in the decoder's representation: local time, 9 fraction digits, the last two zero. */
function datetime2(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000000`;
}

/** datetimeoffset(7): 7 fraction digits and the offset. */
function datetimeoffset(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}

function guid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`.toUpperCase();
}

function int(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A small, fast, seedable PRNG (Mulberry32): the same seed gives the same sequence on every platform. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
