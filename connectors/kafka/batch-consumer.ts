import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from 'pino';
import { type BatchConsumer, type PartitionOffset } from '../../core/runner/ports.js';
import { batchControl, offsetAfterBatch, onFilteredBatch, toSourceRecords } from './batches.js';
import { classifyKafkaError, groupMembershipLost } from './classify-error.js';

/** Settings for {@link createBatchConsumer}. */
export type BatchConsumerConfig = {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a new group starts; existing groups resume from their committed offsets. */
  readonly fromBeginning: boolean;
  /** Bounds one batch: the most bytes fetched per partition at once. */
  readonly maxBytesPerPartition: number;
  /**
   * Bytes a fetch waits for, up to `maxWaitMs`, so that a batch under load carries more records; kafkajs' defaults
   * (answer with the first byte, wait up to 5 s for it) when absent.
   */
  readonly fetch?: { readonly minBytes: number; readonly maxWaitMs: number };
  /** Partitions whose batches the handler gets at once; one at a time when absent. Never two of one partition. */
  readonly partitionsConsumedConcurrently?: number;
  /** The group's session timeout; kafkajs' default (30 s) when absent. */
  readonly sessionTimeoutMs?: number;
  /** Told when the runner pauses or resumes a partition; for the paused-partitions gauge. */
  readonly observer?: BatchConsumerObserver;
  /**
   * Gets a debug line when committing past transaction markers fails (it is retried with the next marker), and a
   * warning when a commit finds the group took the partition away.
   */
  readonly logger?: Logger;
};

/** What a batch consumer reports as it runs. */
export type BatchConsumerObserver = {
  partitionPaused(groupId: string, topic: string, partition: number, paused: boolean): void;
};

/**
 * Where a consumer stands in its group: `joined` once the group assigned it
 * partitions (possibly none, when the group has more members than
 * partitions), until a rebalance, a crash or a stop.
 */
export type ConsumerMembership = {
  readonly groupId: string;
  readonly state: 'not-started' | 'joined' | 'rebalancing' | 'crashed' | 'stopped';
  /** Assigned partitions by topic while `joined`; empty otherwise. */
  readonly assignment: Readonly<Record<string, readonly number[]>>;
};

/** A batch the handler was still working on when the consumer abandoned it. */
export type AbandonedBatch = {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly records: number;
};

/** A batch consumer plus a way to commit offsets outside a transaction (the sink role). */
export type KafkaBatchConsumer = BatchConsumer & {
  /**
   * Gives up on the batches in flight, for a stop that cannot wait any
   * longer: aborts their `BatchControl.abandoned`, so that their handlers
   * reject at once and commit nothing, and names them. Later batches are
   * abandoned as they arrive. `stop` can then leave the group.
   */
  abandon(): AbandonedBatch[];
  commitOffset(offset: PartitionOffset): Promise<void>;
  /** The consumer's group membership now; readiness reads it. */
  membership(): ConsumerMembership;
  /**
   * Settles once kafkajs has stopped this consumer for good after an error it
   * does not restart from (a non-retriable error, or one its retry policy gave
   * up on), with that error as `cause`. Never settles on a requested stop. A
   * process must not stay up with a halted consumer: nothing would consume,
   * yet it would look alive.
   */
  readonly halted: Promise<Error>;
};

/**
 * A consumer group member that hands whole per-partition batches to the
 * runner. Auto-commit is off: offsets move only when the runner commits them
 * (in a transaction, or after a durable sink write). It reads committed data
 * only, so aborted transactions are never seen.
 *
 * One exception keeps the committed offset honest for topics written in
 * transactions (the canonical topics): a transaction's commit marker is a
 * control record after its last record, which no handler ever sees, so the
 * group would stay one offset short of the end for ever (a consumer lag of 1
 * that means nothing). So each batch carries its `endOffset`, past the
 * markers (or aborted records) that end it, which the handler commits with
 * its records in one commit; and this consumer itself commits past a batch
 * kafkajs reports as holding nothing else, as the Java consumer does by
 * committing its position. Everything before that offset is committed
 * already, and the handler of the partition's next batch waits for such a
 * commit, so offsets never move backwards.
 *
 * @see https://kafka.js.org/docs/consuming#a-name-each-batch-a-eachbatch
 * @see https://kafka.apache.org/documentation/#controlbatch
 */
export function createBatchConsumer(kafka: Kafka, config: BatchConsumerConfig): KafkaBatchConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    maxBytesPerPartition: config.maxBytesPerPartition,
    ...(config.fetch === undefined ? {} : { minBytes: config.fetch.minBytes, maxWaitTimeInMs: config.fetch.maxWaitMs }),
    ...(config.sessionTimeoutMs === undefined ? {} : { sessionTimeout: config.sessionTimeoutMs }),
  });
  let started = false;
  let membership: ConsumerMembership = { groupId: config.groupId, state: 'not-started', assignment: {} };
  const paused = new Set<string>();
  const inFlight = new Set<AbandonedBatch>();
  const abandonment = new AbortController();
  const markerCommits = new Map<string, Promise<void>>();
  const setState = (state: ConsumerMembership['state'], assignment: ConsumerMembership['assignment'] = {}) => {
    membership = { groupId: config.groupId, state, assignment };
  };
  const setPaused = (topic: string, partition: number, isPaused: boolean) => {
    const key = `${topic}\u0000${partition}`;
    if (isPaused) paused.add(key);
    else paused.delete(key);
    config.observer?.partitionPaused(config.groupId, topic, partition, isPaused);
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => setState('joined', payload.memberAssignment));
  consumer.on(consumer.events.REBALANCING, () => setState('rebalancing'));
  let halt: (error: Error) => void = () => undefined;
  const halted = new Promise<Error>((resolve) => {
    halt = resolve;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    setState('crashed');
    // With restart true kafkajs starts the consumer again by itself (GROUP_JOIN then marks it joined).
    if (!payload.restart) {
      const reason = payload.error instanceof Error ? payload.error.message : String(payload.error);
      halt(
        new Error(
          `The consumer of group ${config.groupId} stopped after an error it does not restart from: ${reason}`,
          {
            cause: payload.error,
          },
        ),
      );
    }
  });
  consumer.on(consumer.events.STOP, () => setState('stopped'));
  /**
   * Commits `offset` for a partition after records no handler sees (transaction markers, aborted records),
   * behind any such commit still under way, so that commits of one partition never overtake each other.
   */
  const commitPastFiltered = (topic: string, partition: number, offset: string): Promise<void> => {
    const key = `${topic}\u0000${partition}`;
    const commit = (markerCommits.get(key) ?? Promise.resolve())
      .then(() => consumer.commitOffsets([{ topic, partition, offset }]))
      .catch((error: unknown) =>
        config.logger?.debug(
          { err: error, topic, partition, offset },
          'Could not commit past transaction markers; the next marker tries again',
        ),
      );
    markerCommits.set(key, commit);
    return commit;
  };
  onFilteredBatch(consumer, ({ topic, partition, next }) => void commitPastFiltered(topic, partition, next));

  return {
    async run(handler) {
      await consumer.connect();
      await consumer.subscribe({ topics: [...config.topics], fromBeginning: config.fromBeginning });
      started = true;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
        eachBatch: async (payload) => {
          const { batch, resolveOffset } = payload;
          const records = toSourceRecords(batch);
          await markerCommits.get(`${batch.topic}\u0000${batch.partition}`);
          const control = batchControl(consumer, payload, {
            abandoned: abandonment.signal,
            onPause: (isPaused) => setPaused(batch.topic, batch.partition, isPaused),
          });
          const last = records.at(-1);
          const handling: AbandonedBatch | undefined =
            last === undefined
              ? undefined
              : {
                  groupId: config.groupId,
                  topic: batch.topic,
                  partition: batch.partition,
                  firstOffset: records[0]!.offset,
                  lastOffset: last.offset,
                  records: records.length,
                };
          if (handling !== undefined) inFlight.add(handling);
          try {
            // The handler commits through endOffset, past the markers that end the batch, with its own commit.
            const endOffset = offsetAfterBatch(batch);
            await handler({ topic: batch.topic, partition: batch.partition, records, endOffset }, control);
          } finally {
            if (handling !== undefined) inFlight.delete(handling);
          }
          if (last !== undefined) resolveOffset(last.offset);
        },
      });
    },
    async stop() {
      await Promise.all(markerCommits.values());
      // disconnect() lets the in-flight batch finish before leaving the group.
      if (started) await consumer.disconnect();
      setState('stopped');
      for (const key of [...paused]) {
        const [topic, partition] = key.split('\u0000');
        setPaused(topic!, Number(partition), false);
      }
    },
    async commitOffset(offset) {
      try {
        await consumer.commitOffsets([{ ...offset }]);
      } catch (error: unknown) {
        // Evicted (a batch outlasted the session timeout) or rebalancing: the batch stays uncommitted, and the
        // protocol error itself, not kafkajs' retry wrapper, is what makes kafkajs rejoin instead of crashing.
        const lost = groupMembershipLost(error);
        if (lost !== undefined) {
          config.logger?.warn(
            { err: lost, topic: offset.topic, partition: offset.partition },
            'The group took the partition away before its offsets were committed; rejoining, the batch is consumed again',
          );
          throw lost;
        }
        throw classifyKafkaError(error, { topic: offset.topic, partition: offset.partition });
      }
    },
    abandon() {
      abandonment.abort();
      return [...inFlight];
    },
    membership: () => membership,
    halted,
  };
}
