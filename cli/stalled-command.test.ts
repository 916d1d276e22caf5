import { describe, expect, it } from 'vitest';
import { formatDuration } from './stalled-command.js';

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [45_000, '45s'],
    [12 * 60_000 + 5_000, '12m 5s'],
    [5 * 3_600_000 + 12 * 60_000 + 59_000, '5h 12m'],
    [3 * 86_400_000 + 1_000, '3d 1s'],
    [2 * 86_400_000 + 12 * 3_600_000, '2d 12h'],
    [86_400_000, '1d'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
