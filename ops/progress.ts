/**
 * What an operator feature reports its progress to: the CLI renders it (`cli/progress.ts`), tests silence it.
 */

/** Settings of one progress display; all but `label` have defaults. */
export type ProgressOptions = {
  /** What is being counted, e.g. `Rebuilding order_view`. */
  readonly label: string;
  /** The expected final value; 0 when unknown (no percentage or ETA then). */
  readonly total?: number;
  /** The unit of the values, e.g. `offsets`, `documents`, `rows`. */
  readonly unit?: string;
  /** Default `process.stderr`. */
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Default: whether `stream` is a terminal. */
  readonly tty?: boolean;
  /** Plain mode only: least time between two lines. Default 5 s. */
  readonly intervalMs?: number;
  /** The clock, in milliseconds; injectable for tests. */
  readonly now?: () => number;
};

/** A running progress display. `stop` prints the final state once; updates after it are ignored. */
export type Progress = {
  update(value: number): void;
  increment(by?: number): void;
  setTotal(total: number): void;
  stop(): void;
};

/** Makes one progress display per phase; commands take one so tests can silence them. */
export type ProgressFactory = (options: ProgressOptions) => Progress;

/** A progress display that shows nothing, for tests and `--quiet`. */
export const silentProgress: ProgressFactory = () => ({
  update: () => undefined,
  increment: () => undefined,
  setTotal: () => undefined,
  stop: () => undefined,
});
