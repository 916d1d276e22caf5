/**
 * Group commit, generically: work handed in while the previous group is
 * under way waits for it, then goes together in the next group. Concurrent
 * batches of different partitions then share one Kafka transaction or one
 * MongoDB write, and its round trips are paid once.
 */

/** One item of a group, settled by the group's work. */
export type Pending<I, O> = {
  readonly item: I;
  readonly resolve: (outcome: O) => void;
  readonly reject: (error: unknown) => void;
};

/**
 * Runs `runGroup` on the items added while the previous group was under way,
 * one group at a time. An item added while nothing is under way starts a
 * group on the event loop's next turn, which also takes every item added
 * until then: the batches of one fetch, handled concurrently, get there in
 * the same turn when nothing they do waits for I/O (schemas and topic limits
 * are cached), so they make one group. `runGroup` settles every item it is
 * given; should it throw, the items it left unsettled fail with that error.
 */
export function createGroupQueue<I, O>(
  runGroup: (group: readonly Pending<I, O>[]) => Promise<void>,
): { add(item: I): Promise<O> } {
  let waiting: Pending<I, O>[] = [];
  let running = false;
  const drain = async () => {
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      await runGroup(group).catch((error: unknown) => group.forEach((pending) => pending.reject(error)));
    }
    running = false;
  };
  return {
    add: (item) =>
      new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (!running) {
          running = true;
          setImmediate(() => void drain());
        }
      }),
  };
}
