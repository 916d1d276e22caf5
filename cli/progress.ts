import cliProgress from 'cli-progress';
import { type Progress, type ProgressOptions } from '../ops/progress.js';

/**
 * Progress of a long command (rebuild, reconcile, replay) on stderr, so
 * stdout stays clean for reports and `--json`. On a terminal it is a
 * cli-progress bar with rate and ETA; elsewhere (CI logs, redirected output)
 * it degrades to a plain line every `intervalMs` and one at the end.
 */

/** Creates a progress display; see the module comment for the two modes. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  return tty ? barProgress(options, stream) : plainProgress(options, stream);
}

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
