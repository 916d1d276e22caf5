import { describe, expect, it } from 'vitest';
import { dropKafkajsTimerWarnings } from './quiet-warnings.js';

describe('dropKafkajsTimerWarnings', () => {
  it('drops the negative-timeout warning and passes every other warning on', () => {
    const seen: unknown[][] = [];
    const target = { emitWarning: ((...args: unknown[]) => seen.push(args)) as NodeJS.Process['emitWarning'] };
    dropKafkajsTimerWarnings(target);

    target.emitWarning(
      '-1796648243009 is a negative number.\nTimeout duration was set to 1.',
      'TimeoutNegativeWarning',
    );
    target.emitWarning('x is deprecated', 'DeprecationWarning', 'DEP0001');
    target.emitWarning('careful', { type: 'ExperimentalWarning' });
    const negative = Object.assign(new Error('-1 is a negative number.'), { name: 'TimeoutNegativeWarning' });
    target.emitWarning(negative);

    expect(seen).toEqual([
      ['x is deprecated', 'DeprecationWarning', 'DEP0001'],
      ['careful', { type: 'ExperimentalWarning' }],
    ]);
  });
});
