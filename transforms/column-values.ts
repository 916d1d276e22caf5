import { type DecimalString } from '../core/canonical.js';
import { SCALE, sumDecimals } from '../core/decimal.js';
import { type ChangeEvent } from '../core/envelope.js';
import { type TransformError } from '../core/errors.js';
import { COLUMN, type ColumnSpec, type ColumnType, type Image, readColumns, type RowOf } from './rows.js';

/**
 * Where one field of a canonical event comes from in an ERP row, for the stage factories
 * (`stockLevelStage`, `orderHeaderStage`, `orderLineStage`): one column read with a column type
 * ({@link fromColumn}), several columns combined ({@link fromColumns}, {@link sumOfColumns}), or a constant
 * ({@link constant}). A factory field given as a plain string is that column with the field's usual type.
 */
export type ColumnValue<T> = {
  readonly kind: 'cdc-sync.column-value';
  /** The columns it reads, with their types, in reading order; a missing or mistyped one fails the change. */
  readonly columns: ColumnSpec;
  /** How messages and skip reasons name it: the column, or the columns it combines. */
  readonly label: string;
  /** The value from the typed columns; pure, and never throws. */
  readonly value: (row: Readonly<Record<string, unknown>>) => T;
};

/** A column's value, read with `type`, e.g. `fromColumn('OrderDate', COLUMN.localDateTime('America/Los_Angeles'))`. */
export function fromColumn<T>(column: string, type: ColumnType<T>): ColumnValue<T> {
  return {
    kind: 'cdc-sync.column-value',
    columns: { [column]: type },
    label: column,
    value: (row) => row[column] as T,
  };
}

/**
 * A value computed from several typed columns (`build` sees at least those, typed), e.g.
 * `fromColumns({ SalesOrderID: COLUMN.integerId }, (row) => `SO${row.SalesOrderID}`)`. `build` must be pure and
 * must not throw: every check belongs in the column types.
 */
export function fromColumns<S extends ColumnSpec, T>(columns: S, build: (row: RowOf<S>) => T): ColumnValue<T> {
  return {
    kind: 'cdc-sync.column-value',
    columns,
    label: Object.keys(columns).join(', '),
    value: (row) => build(row as RowOf<S>),
  };
}

/** The same value for every row, e.g. `constant('USD')` for an ERP that sells in one currency. */
export function constant<T>(value: T): ColumnValue<T> {
  return { kind: 'cdc-sync.column-value', columns: {}, label: JSON.stringify(value), value: () => value };
}

/**
 * The exact sum of money columns (canonical scale 4), e.g. AdventureWorks' computed `TotalDue`:
 * `sumOfColumns('SubTotal', 'TaxAmt', 'Freight')`. SQL Server CDC captures a computed column as NULL, so a stage
 * recomputes it from the columns it is computed from.
 */
export function sumOfColumns(...columns: readonly [string, ...string[]]): ColumnValue<DecimalString> {
  return {
    ...fromColumns(Object.fromEntries(columns.map((column) => [column, COLUMN.money])), (row) =>
      sumDecimals(
        SCALE.money,
        columns.map((column) => row[column]!),
      ),
    ),
    label: columns.join(' + '),
  };
}

/** What every stage factory's spec starts with: the stage's name, its one-line summary and the table it reads. */
export type FactoryStageSpec<N extends string> = {
  /** snake_case registry key. */
  readonly name: N;
  /** One line for the generated docs and the dashboard. */
  readonly summary: string;
  /** The table, `schema.table` (see `TABLE_PATTERN` in `core/stage.ts`), e.g. `Sales.SalesOrderHeader`. */
  readonly table: string;
};

/** A factory field: a column name (read with the field's usual type) or a {@link ColumnValue}. */
export type FieldSource<T> = string | ColumnValue<T>;

/** The {@link ColumnValue} of a factory field: a plain column name is read with `type`. */
export function fieldValue<T>(source: FieldSource<T>, type: ColumnType<T>): ColumnValue<T> {
  return typeof source === 'string' ? fromColumn(source, type) : source;
}

/** Reads the values of several fields from one row image: see {@link valuesReader}. */
export type ValuesReader<V extends Readonly<Record<string, ColumnValue<unknown>>>> = (
  change: ChangeEvent,
  image: Image,
  stage: string,
) =>
  | { readonly ok: true; readonly row: { readonly [K in keyof V]: V[K] extends ColumnValue<infer T> ? T : never } }
  | { readonly ok: false; readonly error: TransformError };

/**
 * A reader of `values` from one row image: their columns are read once, in the order of `values` and of each value's
 * columns, so a failure names the first missing or mistyped column as `readColumns` does. Throws a `TypeError` when
 * two values read one column with different types, a mistake of the stage's definition.
 */
export function valuesReader<V extends Readonly<Record<string, ColumnValue<unknown>>>>(values: V): ValuesReader<V> {
  const spec: Record<string, ColumnType<unknown>> = {};
  for (const value of Object.values(values)) {
    for (const [column, type] of Object.entries(value.columns)) {
      const known = spec[column];
      if (known !== undefined && known.expected !== type.expected) {
        throw new TypeError(`Column ${column} is read both as ${known.expected} and as ${type.expected}`);
      }
      spec[column] = type;
    }
  }
  return (change, image, stage) => {
    const read = readColumns(change, image, spec, stage);
    if (!read.ok) return read;
    const row = Object.fromEntries(Object.entries(values).map(([field, value]) => [field, value.value(read.row)]));
    return { ok: true, row: row as { readonly [K in keyof V]: V[K] extends ColumnValue<infer T> ? T : never } };
  };
}
