import { describe, expect, it } from 'vitest';
import { cpuSecondsPerMillion, difference, eventsPerSecond, percentile, ratio, round } from './stats.js';

describe('percentile', () => {
  it.each([
    { values: [15, 20, 35, 40, 50], q: 0.05, expected: 15 },
    { values: [15, 20, 35, 40, 50], q: 0.3, expected: 20 },
    { values: [15, 20, 35, 40, 50], q: 0.4, expected: 20 },
    { values: [15, 20, 35, 40, 50], q: 0.5, expected: 35 },
    { values: [15, 20, 35, 40, 50], q: 1, expected: 50 },
    { values: [50, 15, 40, 20, 35], q: 0.5, expected: 35 },
    { values: [7], q: 0.99, expected: 7 },
    { values: [3, 1, 2], q: 0, expected: 1 },
  ])('is the nearest rank: p$q of $values is $expected', ({ values, q, expected }) => {
    expect(percentile(values, q)).toBe(expected);
  });

  it('takes the 99th of 100 values as p99 and the largest of 101', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile([...hundred, 101], 0.99)).toBe(100);
  });

  it('has no value for no samples and refuses a q outside [0, 1]', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('leaves its input unsorted', () => {
    const values = [3, 1, 2];
    percentile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('rates and ratios', () => {
  it.each([
    { events: 20_000, ms: 4_000, expected: 5_000 },
    { events: 1, ms: 1, expected: 1_000 },
    { events: 5, ms: 0, expected: 0 },
  ])('$events events in $ms ms are $expected per second', ({ events, ms, expected }) => {
    expect(eventsPerSecond(events, ms)).toBe(expected);
  });

  it('scales CPU seconds to a million events', () => {
    expect(cpuSecondsPerMillion(2, 20_000)).toBe(100);
    expect(cpuSecondsPerMillion(2, 0)).toBe(0);
  });

  it.each([
    { a: 6, b: 3, expected: 2 },
    { a: 6, b: 0, expected: undefined },
    { a: null, b: 3, expected: undefined },
    { a: 6, b: undefined, expected: undefined },
  ])('ratio($a, $b) is $expected', ({ a, b, expected }) => {
    expect(ratio(a, b)).toBe(expected);
  });

  it.each([
    { value: 12_345.678, expected: 12_346 },
    { value: 123.4, expected: 123 },
    { value: 12.345, expected: 12.3 },
    { value: 0.012345, expected: 0.0123 },
    { value: 0, expected: 0 },
  ])('rounds $value to $expected', ({ value, expected }) => {
    expect(round(value)).toBe(expected);
  });

  it('differences snapshots name by name', () => {
    expect(difference({ a: 1, b: 2 }, { a: 4, b: 2, c: 1 })).toEqual({ a: 3, b: 0, c: 1 });
  });
});
