import cliProgress from 'cli-progress';

/**
 * Progress of a long command (rebuild, reconcile, replay) on stderr, so
 * stdout stays clean for reports and `--json`. On a terminal it is a
 * cli-progress bar with rate and ETA; elsewhere (CI logs, redirected output)
 * it degrades to a plain line every `intervalMs` and one at the end.
 */

/** Settings of {@link createProgress}; all but `label` have defaults. */
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

/** Creates a progress display; see the module comment for the two modes. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  return tty ? barProgress(options, stream) : plainProgress(options, stream);
}

/** A progress display that shows nothing, for tests and `--quiet`. */
export const silentProgress: ProgressFactory = () => ({
  update: () => undefined,
  increment: () => undefined,
  setTotal: () => undefined,
  stop: () => undefined,
});

/** The state of a progress display as one line, e.g. `Rebuilding order_view: 1200/5000 offsets (24%), 300/s, ETA 13s`. */
export function formatProgressLine(state: {
  readonly label: string;
  readonly value: number;
  readonly total: number;
  readonly unit?: string;
  readonly elapsedMs: number;
  readonly done?: boolean;
}): string {
  const unit = state.unit === undefined ? '' : ` ${state.unit}`;
  const rate = state.elapsedMs > 0 ? (state.value * 1000) / state.elapsedMs : 0;
  const parts = [
    state.total > 0
      ? `${state.value}/${state.total}${unit} (${Math.floor((100 * Math.min(state.value, state.total)) / state.total)}%)`
      : `${state.value}${unit}`,
    `${formatRate(rate)}/s`,
  ];
  if (state.done === true) parts.push(`done in ${formatDuration(state.elapsedMs)}`);
  else if (state.total > 0 && rate > 0)
    parts.push(`ETA ${formatDuration(((state.total - state.value) / rate) * 1000)}`);
  return `${state.label}: ${parts.join(', ')}`;
}

/** `850ms`, `42s`, `3m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

function barProgress(options: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  let total = options.total ?? 0;
  let value = 0;
  let stopped = false;
  const unit = options.unit === undefined ? '' : ` ${options.unit}`;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total}${unit} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      // The terminal decision is ours (`tty`); cli-progress would otherwise check the stream again.
      noTTYOutput: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const rate = () => formatRate((value * 1000) / Math.max(1, now() - started));
  bar.start(Math.max(total, 1), 0, { rate: rate() });
  return {
    update(next) {
      if (stopped) return;
      value = next;
      bar.update(value, { rate: rate() });
    },
    increment(by = 1) {
      this.update(value + by);
    },
    setTotal(next) {
      total = next;
      if (!stopped) bar.setTotal(Math.max(total, 1));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.update(value, { rate: rate() });
      bar.stop();
    },
  };
}

function plainProgress(options: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 5000;
  const started = now();
  let lastLine = started;
  let total = options.total ?? 0;
  let value = 0;
  let stopped = false;
  const line = (done: boolean) =>
    stream.write(
      `${formatProgressLine({ label: options.label, value, total, unit: options.unit, elapsedMs: now() - started, done })}\n`,
    );
  return {
    update(next) {
      if (stopped) return;
      value = next;
      if (now() - lastLine >= intervalMs) {
        lastLine = now();
        line(false);
      }
    },
    increment(by = 1) {
      this.update(value + by);
    },
    setTotal(next) {
      total = next;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      line(true);
    },
  };
}
