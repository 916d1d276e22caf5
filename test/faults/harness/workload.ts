import { readFileSync } from 'node:fs';
import { type FixtureSource } from '../../integration/pipeline-harness.js';

// ERP traffic for the fixture-fed scenarios: the sample ERP's inventory balances and order lifecycles, produced as the
// records Debezium's SQL Server connector writes (devtools/fixtures). One simulated ERP keeps the rows' current
// state, so that every update carries the right before image, and hands each fixture a block of LSNs above all
// earlier ones, so that every change it produces is newer than everything before it, as in a real database.

type Row = Record<string, unknown>;
type Change = Record<string, unknown>;

const INVENTORY = 'dbo.InventoryBalance';
const BURST = 'test/fixtures/erp/inventory-burst.json';
const LIFECYCLE = 'test/fixtures/erp/order-lifecycle.json';

/** `sku@location`, the read models' key of a balance. */
export type BalanceKey = `${string}@${string}`;

export type SimulatedErp = ReturnType<typeof simulatedErp>;

/**
 * A simulated ERP: six inventory balances (inventory-burst.json's snapshot) and orders cloned from
 * order-lifecycle.json. `seed` makes the stock moves repeatable.
 */
export function simulatedErp(seed = 42) {
  const burst = JSON.parse(readFileSync(BURST, 'utf8')) as { changes: Change[] };
  const lifecycle = JSON.parse(readFileSync(LIFECYCLE, 'utf8')) as { changes: Change[] };
  const balances = new Map<BalanceKey, Row>();
  for (const change of burst.changes.filter((c) => c['op'] === 'r')) {
    const row = change['after'] as Row;
    balances.set(`${String(row['Sku'])}@${String(row['LocationCode'])}`, { ...row });
  }
  let random = seed;
  const next = (): number => {
    random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
    return random / 2 ** 31;
  };
  // Each fixture starts in a VLF of its own, above every LSN handed out before (a fixture uses far fewer).
  let vlf = 0x100;
  let fixtures = 0;

  const update = (key: BalanceKey, changes: Partial<Row>): Change => {
    const before = balances.get(key);
    if (before === undefined) throw new Error(`No balance ${key}`);
    const after = { ...before, ...changes };
    balances.set(key, after);
    return { table: INVENTORY, op: 'u', before, after };
  };

  const stockMoves = (count: number): Change[] => {
    const keys = [...balances.keys()];
    const changes: Change[] = [];
    for (let i = 0; i < count; i++) {
      const key = keys[Math.floor(next() * keys.length)]!;
      const step = Math.floor(next() * 20) - 10;
      const onHand = Number(balances.get(key)!['QtyOnHand']) + (step >= 0 ? step + 1 : step);
      changes.push(update(key, { QtyOnHand: onHand.toFixed(3) }));
    }
    return changes;
  };

  return {
    /** The current balances, by key. */
    balances: (): ReadonlyMap<BalanceKey, Row> => balances,
    /** Snapshot reads of every balance, as a connector's initial snapshot. */
    snapshot(): Change[] {
      return [...balances.values()].map((after) => ({ table: INVENTORY, op: 'r', after }));
    },
    /** `count` stock moves on random balances, each a quantity change of 1 to 10 either way (never zero). */
    stockMoves,
    /** One update of a balance's quantity on hand, e.g. `'777.000'`. */
    setOnHand(key: BalanceKey, onHand: string): Change {
      return update(key, { QtyOnHand: onHand });
    },
    /** A delete of a balance (and the tombstone Debezium writes after it). */
    deleteBalance(key: BalanceKey): Change[] {
      const before = balances.get(key);
      if (before === undefined) throw new Error(`No balance ${key}`);
      balances.delete(key);
      return [
        { table: INVENTORY, op: 'd', before },
        { table: INVENTORY, tombstone: true, key: { Sku: before['Sku'], LocationCode: before['LocationCode'] } },
      ];
    },
    /** An insert of a new balance. */
    insertBalance(row: Row): Change {
      const key: BalanceKey = `${String(row['Sku'])}@${String(row['LocationCode'])}`;
      balances.set(key, { ...row });
      return { table: INVENTORY, op: 'c', after: { ...row } };
    },
    /**
     * Order lifecycles for `count` orders numbered from `first` (SO-<n>): order-lifecycle.json's changes with the
     * order's own keys, one transaction after another, orders interleaved round-robin, with `movesBetween` stock moves
     * after each transaction.
     */
    orders(first: number, count: number, movesBetween = 0): Change[] {
      const perOrder = Array.from({ length: count }, (_, i) => transactionsOf(lifecycle.changes, first + i));
      const changes: Change[] = [];
      for (let step = 0; perOrder.some((transactions) => step < transactions.length); step++) {
        for (const transactions of perOrder) {
          if (step >= transactions.length) continue;
          changes.push(...transactions[step]!);
          changes.push(...stockMoves(movesBetween));
        }
      }
      return changes;
    },
    /** A fixture of `changes`, in an LSN block above everything produced before. */
    fixture(changes: readonly Change[], name = 'simulated ERP traffic'): FixtureSource {
      vlf += 1;
      fixtures += 1;
      return {
        name: `${name} #${fixtures}`,
        raw: {
          server: 'erp',
          database: 'ErpDemo',
          startLsn: `${vlf.toString(16).padStart(8, '0')}:00000001:0001`,
          changes,
        },
      };
    },
  };
}

/** Order-lifecycle.json's changes for order `n`, grouped by transaction, with the order's own keys. */
function transactionsOf(template: readonly Change[], n: number): Change[][] {
  const own = (row: unknown): Row | undefined => {
    if (row === null || row === undefined) return undefined;
    const copy: Row = { ...(row as Row) };
    if ('OrderNumber' in copy) copy['OrderNumber'] = `SO-${n}`;
    if ('RowGuid' in copy)
      copy['RowGuid'] = `3F2504E0-4F89-41D3-9A0C-${n.toString(16).toUpperCase().padStart(12, '0')}`;
    if ('PaymentId' in copy) copy['PaymentId'] = (BigInt(copy['PaymentId'] as string) + BigInt(n) * 10n).toString();
    if ('ShipmentId' in copy) copy['ShipmentId'] = 100_000 + n;
    if ('RmaId' in copy) copy['RmaId'] = 100_000 + n;
    if ('RmaNumber' in copy && copy['RmaNumber'] !== null) copy['RmaNumber'] = `RMA-${n}`;
    if ('RefundId' in copy) copy['RefundId'] = 100_000 + n;
    return copy;
  };
  const groups: Change[][] = [];
  let current: string | undefined;
  for (const change of template) {
    const id = change['transactionId'] as string | undefined;
    const copy: Change = { ...change, transactionId: id === undefined ? undefined : `${id}-${n}` };
    for (const field of ['before', 'after']) {
      const row = own(change[field]);
      if (row === undefined) delete copy[field];
      else copy[field] = row;
    }
    if (id === undefined) delete copy['transactionId'];
    if (id === undefined || id !== current) groups.push([]);
    groups.at(-1)!.push(copy);
    current = id;
  }
  return groups;
}
