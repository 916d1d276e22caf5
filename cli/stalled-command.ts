import { Command } from 'commander';
import { STALLED_STATES } from '../ops/read-side/stalled-orders.js';
import { type StalledReport, stalledReport } from '../ops/read-side/stalled-report.js';
import { configOption, loadCommandConfig, parseInstant, parsePositiveInteger } from './command-options.js';
import { formatTable } from './table.js';

/** Where the command reads its environment and writes its output; tests replace these. */
export type StalledCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
};

/**
 * `cdc-sync stalled [--config f] [--json] [--now <iso>] [--limit n]`: lists
 * the orders of the order view that wait longer than `stalled.*` allows:
 * accepted without captured payment, paid but not shipped, each return
 * received but not refunded. Oldest first; a table by default, JSON with
 * `--json`. Exits 0 whether or not orders are stalled, 1 on errors (bad
 * config, MongoDB unreachable).
 */
export function createStalledCommand(overrides: Partial<StalledCommandIo> = {}): Command {
  const io: StalledCommandIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    ...overrides,
  };
  return new Command('stalled')
    .description(
      'List orders waiting longer than their threshold (stalled.*): accepted but unpaid, paid but not shipped, returned but not refunded; exits 0 whether or not any are stalled, 1 on errors',
    )
    .addOption(configOption())
    .option('--json', 'print JSON ({ now, thresholdsMs, collection, stalled: [...] }) instead of a table')
    .option('--now <iso>', 'measure ages at this time instead of the clock, e.g. 2025-12-01T08:00:00Z', parseInstant)
    .option('--limit <n>', 'show only the n oldest', parsePositiveInteger)
    .action(async (options: { config?: string; json?: boolean; now?: Date; limit?: number }) => {
      const { config, origin } = await loadCommandConfig(options.config, io.env);
      const report = await stalledReport(config, origin, {
        now: options.now ?? new Date(),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      });
      io.stdout(`${options.json === true ? JSON.stringify(report, null, 2) : formatStalledReport(report)}\n`);
    });
}

/** The report as a person reads it: a table of stalled orders, or one line saying there are none. */
export function formatStalledReport(report: StalledReport): string {
  const thresholds = STALLED_STATES.map(
    (state) => `${state} ${report.thresholdsMs[state] === false ? 'off' : formatDuration(report.thresholdsMs[state])}`,
  ).join(', ');
  if (report.stalled.length === 0) {
    return `No stalled orders in ${report.collection} as of ${report.now} (thresholds: ${thresholds})`;
  }
  const rows = report.stalled.map((row) => [
    row.orderNumber,
    row.state,
    row.since,
    formatDuration(row.ageMs),
    formatDuration(row.thresholdMs),
    row.ref ?? '',
  ]);
  const count = report.stalled.length;
  return [
    formatTable([['ORDER', 'STATE', 'SINCE', 'AGE', 'THRESHOLD', 'REF'], ...rows]),
    '',
    `${count} stalled ${count === 1 ? 'wait' : 'waits'} in ${report.collection} as of ${report.now} (thresholds: ${thresholds})`,
  ].join('\n');
}

/** A duration as its two largest non-zero units: `3d 4h`, `3d 1s`, `5h 12m`, `45s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const units = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.slice(0, 2).join(' ');
}
