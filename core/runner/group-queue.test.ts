import { describe, expect, it } from 'vitest';
import { createGroupQueue, type Pending } from './group-queue.js';

describe('createGroupQueue', () => {
  const itemsOf = (group: readonly Pending<string, string>[]) => group.map((pending) => pending.item).join(',');

  it('groups the items added in one turn of the event loop, and those added while it is under way into the next', async () => {
    const groups: string[] = [];
    let finishFirst: () => void = () => undefined;
    const firstUnderWay = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    const queue = createGroupQueue<string, string>(async (group) => {
      groups.push(itemsOf(group));
      if (groups.length === 1) await firstUnderWay;
      for (const pending of group) pending.resolve(`done ${pending.item} in group ${groups.length}`);
    });
    const first = ['1', '2'].map((item) => queue.add(item));
    await new Promise((resolve) => setImmediate(resolve));
    expect(groups).toEqual(['1,2']);
    const later = ['3', '4'].map((item) => queue.add(item));

    finishFirst();
    expect(await Promise.all([...first, ...later])).toEqual([
      'done 1 in group 1',
      'done 2 in group 1',
      'done 3 in group 2',
      'done 4 in group 2',
    ]);
    expect(await queue.add('5')).toBe('done 5 in group 3');
    expect(groups).toEqual(['1,2', '3,4', '5']);
  });

  it('fails the items a failed group left unsettled, and goes on with the next group', async () => {
    const queue = createGroupQueue<string, string>(async (group) => {
      if (itemsOf(group) === '1,2') {
        group[0]!.reject(new Error('refused alone'));
        throw new Error('group failed');
      }
      for (const pending of group) pending.resolve('done');
    });
    const outcomes = await Promise.allSettled(['1', '2'].map((item) => queue.add(item)));
    expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : outcome.value))).toEqual(
      ['Error: refused alone', 'Error: group failed'],
    );
    expect(await queue.add('3')).toBe('done');
  });
});
