import { z } from 'zod';

/** Retry timing for transient failures. */
export const backoffConfigSchema = z
  .object({
    initialMs: z.number().int().positive().default(500).describe('First wait after a transient failure'),
    maxMs: z.number().int().positive().default(30_000).describe('Longest wait between attempts'),
    multiplier: z.number().min(1).default(2).describe('Growth of the wait per attempt'),
  })
  .refine((c) => c.maxMs >= c.initialMs, { message: 'maxMs must be at least initialMs', path: ['maxMs'] });

export type BackoffConfig = z.output<typeof backoffConfigSchema>;

/**
 * The wait before retry number `attempt` (0-based): exponential growth capped
 * at `maxMs`, with "equal jitter" (half fixed, half random) so that workers retrying together spread out.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(config: BackoffConfig, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(config.maxMs, config.initialMs * config.multiplier ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
