import { describe, expect, it } from 'vitest';
import { SinkWriteError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createRecentWarnings } from './recent-warnings.js';

const T0 = Date.parse('2026-12-07T12:00:00.000Z');

/** A pino JSON line at `level`, `seconds` after T0. */
function line(level: number, seconds: number, fields: Record<string, unknown>): string {
  return `${JSON.stringify({ level, time: T0 + seconds * 1000, ...fields })}\n`;
}

describe('createRecentWarnings', () => {
  it('keeps what a pipeline logger warns about, with the error message and the records it is about', () => {
    const warnings = createRecentWarnings(10);
    const logger = createLogger({ level: 'debug' }, warnings.stream).child({ component: 'sink-runner' });

    logger.debug('Sink batch acknowledged');
    logger.info('Sink workers running');
    logger.warn(
      {
        topic: 'erp.canonical.order.v1',
        partition: 0,
        firstOffset: '4',
        lastOffset: '9',
        err: new SinkWriteError('MongoDB failed transiently during bulkWrite on order_view:\n connect ECONNREFUSED', {
          retriable: true,
        }),
      },
      'Transient failure; partition paused, retrying the batch after backoff',
    );
    logger.error({ err: new Error('handler bug') }, 'Batch failed');

    expect(warnings.list().map(({ firstAt: _first, lastAt: _last, ...rest }) => rest)).toEqual([
      {
        level: 'warn',
        component: 'sink-runner',
        where: 'erp.canonical.order.v1[0]@4..9',
        message: 'Transient failure; partition paused, retrying the batch after backoff',
        detail: 'MongoDB failed transiently during bulkWrite on order_view: connect ECONNREFUSED',
        count: 1,
      },
      {
        level: 'error',
        component: 'sink-runner',
        where: undefined,
        message: 'Batch failed',
        detail: 'handler bug',
        count: 1,
      },
    ]);
  });

  it('keeps a repeated line once, counted, with its first and last time, and moves it to the end', () => {
    const warnings = createRecentWarnings(10);
    const retry = { component: 'transform-runner', msg: 'Transient failure', err: { message: 'Registry down' } };

    warnings.stream.write(line(40, 0, retry));
    warnings.stream.write(line(40, 1, { component: 'readiness', msg: 'Dependency unreachable', reason: 'no answer' }));
    warnings.stream.write(line(40, 2, retry) + line(40, 4, retry));

    expect(warnings.list()).toEqual([
      {
        level: 'warn',
        component: 'readiness',
        where: undefined,
        message: 'Dependency unreachable',
        detail: 'no answer',
        count: 1,
        firstAt: new Date(T0 + 1000),
        lastAt: new Date(T0 + 1000),
      },
      {
        level: 'warn',
        component: 'transform-runner',
        where: undefined,
        message: 'Transient failure',
        detail: 'Registry down',
        count: 3,
        firstAt: new Date(T0),
        lastAt: new Date(T0 + 4000),
      },
    ]);
  });

  it('drops the line seen least recently once more distinct lines than its capacity came', () => {
    const warnings = createRecentWarnings(2);

    warnings.stream.write(line(40, 0, { msg: 'first' }));
    warnings.stream.write(line(40, 1, { msg: 'second' }));
    warnings.stream.write(line(40, 2, { msg: 'first' }));
    warnings.stream.write(line(50, 3, { msg: 'third' }));

    expect(warnings.list().map((warning) => [warning.message, warning.count])).toEqual([
      ['first', 2],
      ['third', 1],
    ]);
  });

  it.each([
    ['a single offset', { topic: 't', partition: 2, offset: '17' }, 't[2]@17'],
    ['a batch of one record', { topic: 't', partition: 0, firstOffset: '5', lastOffset: '5' }, 't[0]@5'],
    ['a topic only', { topic: 't' }, 't'],
    ['no topic', { partition: 1, offset: '3' }, undefined],
  ])('names the records of a line with %s', (_case, fields, where) => {
    const warnings = createRecentWarnings(1);
    warnings.stream.write(line(40, 0, { msg: 'm', ...fields }));

    expect(warnings.list()[0]?.where).toBe(where);
  });

  it.each([
    [
      'an error object under error, as kafkajs logs it',
      { error: { message: 'The group is rebalancing' } },
      'The group is rebalancing',
    ],
    ['an error text under error', { error: 'Connection timeout' }, 'Connection timeout'],
    ['nothing', {}, undefined],
  ])('takes the detail from %s', (_case, fields, detail) => {
    const warnings = createRecentWarnings(1);
    warnings.stream.write(line(50, 0, { msg: 'm', ...fields }));

    expect(warnings.list()[0]?.detail).toBe(detail);
  });

  it.each([
    ['lines below warn', line(30, 0, { msg: 'info' })],
    ['text that is not JSON', 'Starting…\n'],
    ['JSON that is not a log line', '[1,2]\n'],
  ])('ignores %s', (_case, text) => {
    const warnings = createRecentWarnings(3);
    warnings.stream.write(text);

    expect(warnings.list()).toEqual([]);
  });

  it.each([0, -1, 1.5])('refuses a capacity of %s', (capacity) => {
    expect(() => createRecentWarnings(capacity)).toThrow(`Capacity ${capacity} is not a positive integer`);
  });
});
