import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * The runner's settings in the pipeline config: the transform and sink workers' consumer groups, the transform
 * worker's transactional id, the dead-letter topic and how long a stop waits. The composed config takes these
 * schemas as they are.
 */
export const transformWorkerConfigSchema = z.object({
  groupId: z.string().min(1).default('cdc-sync-transform').describe('Consumer group of the transform workers'),
  transactionalId: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Kafka transactional id, stable per worker instance so a restart fences its predecessor; default cdc-sync-transform-<hostname>',
    ),
});

/** The validated `transform` section. */
export type TransformWorkerConfig = z.output<typeof transformWorkerConfigSchema>;

/** The `sink` section. */
export const sinkWorkerConfigSchema = z.object({
  groupId: z.string().min(1).default('cdc-sync-sink').describe('Consumer group of the sink workers'),
  fetchMinBytes: z
    .number()
    .int()
    .positive()
    .default(65_536)
    .describe(
      'Bytes of canonical events a sink fetch waits for, up to fetchMaxWaitMs: under load a batch then carries more events, coalesced into fewer MongoDB writes (the benchmark measured 1.8× end to end); 1 answers at once',
    ),
  fetchMaxWaitMs: z
    .number()
    .int()
    .positive()
    .default(100)
    .describe('Longest a sink fetch waits for fetchMinBytes; the most it adds to freshness when changes trickle in'),
});

/** The `topics.deadLetter` setting. */
export const deadLetterTopicSchema = z
  .string()
  .min(1)
  .default('cdc-sync.dlq')
  .describe('Records that cannot be decoded, transformed or written');

/** The `stopTimeoutMs` setting. */
export const stopTimeoutMsSchema = z
  .number()
  .int()
  .positive()
  .default(15_000)
  .describe(
    'Longest a stop (SIGTERM, SIGINT) waits for in-flight batches to finish and commit; then it abandons them without committing their offsets (they are read again after a restart), logs them, and cdc-sync run exits 1. Keep it below the grace period of the supervisor (Kubernetes: 30 s)',
  );

/** The transform worker's transactional id: configured, or derived from the host name. */
export function transactionalIdOf(config: { readonly transform: TransformWorkerConfig }): string {
  return config.transform.transactionalId ?? `cdc-sync-transform-${hostname()}`;
}
