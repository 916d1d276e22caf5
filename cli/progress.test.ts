import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration, formatProgressLine } from './progress.js';

function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

describe('formatProgressLine', () => {
  it.each([
    [{ value: 1200, total: 5000, elapsedMs: 4000 }, 'Rebuilding: 1200/5000 offsets (24%), 300/s, ETA 13s'],
    [{ value: 30, total: 0, elapsedMs: 60_000 }, 'Rebuilding: 30 offsets, 0.5/s'],
    [{ value: 0, total: 10, elapsedMs: 0 }, 'Rebuilding: 0/10 offsets (0%), 0.0/s'],
    [{ value: 10, total: 10, elapsedMs: 2500, done: true }, 'Rebuilding: 10/10 offsets (100%), 4.0/s, done in 3s'],
  ])('renders %o', (state, line) => {
    expect(formatProgressLine({ label: 'Rebuilding', unit: 'offsets', ...state })).toBe(line);
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [42_000, '42s'],
    [185_000, '3m05s'],
    [3_720_000, '1h02m'],
  ])('renders %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('createProgress without a terminal', () => {
  it('prints a plain line at most once per interval, and a final one at stop', () => {
    const out = capture();
    let clock = 0;
    const progress = createProgress({
      label: 'Diffing',
      total: 100,
      unit: 'documents',
      stream: out.stream,
      tty: false,
      intervalMs: 1000,
      now: () => clock,
    });
    clock = 500;
    progress.update(10);
    clock = 1000;
    progress.update(20);
    clock = 1500;
    progress.increment(30);
    clock = 2000;
    progress.stop();
    progress.update(99);
    progress.stop();
    expect(out.text().split('\n')).toEqual([
      'Diffing: 20/100 documents (20%), 20.0/s, ETA 4s',
      'Diffing: 50/100 documents (50%), 25.0/s, done in 2s',
      '',
    ]);
  });
});

describe('createProgress on a terminal', () => {
  it('draws a cli-progress bar with the label, counts and rate', async () => {
    const out = capture();
    let clock = 0;
    const progress = createProgress({
      label: 'Reconciling',
      total: 4,
      unit: 'rows',
      stream: out.stream,
      tty: true,
      now: () => clock,
    });
    clock = 2000;
    progress.update(2);
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.text()).toContain('Reconciling [');
    expect(out.text()).toContain('| 2/4 rows | 1.0/s |');
  });
});
