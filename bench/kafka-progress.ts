import { setTimeout as sleep } from 'node:timers/promises';
import { createConsumerLagReader, type ConsumerGroupTopics } from '../connectors/kafka/consumer-lag.js';
import { createOpsAdmin, type OpsAdmin } from '../connectors/kafka/ops-admin.js';

/**
 * Watches consumer groups from outside the measured processes, with the
 * project's own ops admin and consumer-lag reader: when a group starts
 * consuming (it is `Stable` with its members), and when it has committed the
 * last record of its topics (lag 0). A cdc-sync sink commits only after
 * MongoDB acknowledged the write, so its lag reaching 0 means the last final
 * document is visible.
 */
export type KafkaProgress = {
  /**
   * Resolves with the time (epoch ms) the group was first seen `Stable` with at
   * least `members` members; rejects after `timeoutMs`.
   */
  waitForGroup(groupId: string, members: number, timeoutMs: number): Promise<number>;
  /** Total lag of each group over its topics, by group id. */
  lags(groups: readonly ConsumerGroupTopics[]): Promise<Record<string, number>>;
  /**
   * Resolves with the time (epoch ms) at which every group had lag 0, the
   * groups read in order: a later group counts only in reads that began after
   * every earlier one was seen at 0, so that a sink is not taken as caught up
   * with a transform's output still being written. Rejects after `timeoutMs`,
   * naming the lags.
   */
  waitCaughtUp(groups: readonly ConsumerGroupTopics[], timeoutMs: number): Promise<number>;
  close(): Promise<void>;
};

/** How often the groups are read: the resolution of start and end times. */
export const PROGRESS_POLL_MS = 50;

export function createKafkaProgress(brokers: readonly string[]): KafkaProgress {
  const admin: OpsAdmin = createOpsAdmin({ brokers, clientId: 'cdc-sync-bench' }, 'progress');

  const lags: KafkaProgress['lags'] = async (groups) => {
    const read = createConsumerLagReader(admin, groups, 10_000);
    const totals: Record<string, number> = Object.fromEntries(groups.map((group) => [group.groupId, 0]));
    for (const lag of await read()) totals[lag.group] = (totals[lag.group] ?? 0) + lag.lag;
    return totals;
  };

  return {
    async waitForGroup(groupId, members, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last = 'not read yet';
      while (Date.now() < deadline) {
        const seenAt = Date.now();
        const description = await admin
          .use((client) => client.describeGroups([groupId]), 5_000, `Consumer group ${groupId}`)
          .catch(() => undefined);
        const group = description?.groups[0];
        if (group !== undefined) {
          last = `${group.state} with ${group.members.length} members`;
          if (group.state === 'Stable' && group.members.length >= members) return seenAt;
        }
        await sleep(PROGRESS_POLL_MS);
      }
      throw new Error(
        `Consumer group ${groupId} was not Stable with ${members} members within ${timeoutMs} ms (${last})`,
      );
    },

    lags,

    async waitCaughtUp(groups, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let done = 0;
      let last: Record<string, number> = {};
      while (Date.now() < deadline) {
        const readAt = Date.now();
        last = await lags(groups.slice(done)).catch(() => last);
        while (done < groups.length && last[groups[done]!.groupId] === 0) {
          done++;
          // A later group's lag counts only from a read that starts after this one was seen at 0.
          if (done < groups.length) break;
        }
        if (done === groups.length) return readAt;
        await sleep(PROGRESS_POLL_MS);
      }
      throw new Error(
        `Consumer groups did not catch up within ${timeoutMs} ms; lag: ${Object.entries(last)
          .map(([group, lag]) => `${group} ${lag}`)
          .join(', ')}`,
      );
    },

    close: () => admin.close(),
  };
}
