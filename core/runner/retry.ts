import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable, PipelineError } from '../errors.js';
import { backoffDelay, type BackoffConfig } from './backoff.js';
import { type BatchControl } from './ports.js';

/** Thrown when the worker shuts down while a batch waits to be retried; nothing of the batch was committed. */
export class ShutdownDuringRetryError extends PipelineError {
  readonly retriable = false;
}

/** Called before each wait, for logging and counting. */
export type RetryObserver = (error: PipelineError, attempt: number, delayMs: number) => void;

const HEARTBEAT_EVERY_MS = 3000;

/**
 * Runs `work` until it succeeds. A retriable {@link PipelineError} pauses the
 * partition and backs off with jitter, heartbeating meanwhile, then tries
 * again. Anything else (non-retriable pipeline errors, programming errors) is
 * thrown at once and never retried. The pause lasts only as long as this
 * call: the partition resumes once the work succeeds, and also when the
 * retrying ends by an error (shutdown, a non-retriable failure), so a
 * partition is never left paused by a batch nobody retries any more.
 */
export async function retryTransient<T>(
  work: () => Promise<T>,
  control: BatchControl,
  config: BackoffConfig,
  onRetry: RetryObserver,
): Promise<T> {
  let paused = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error: unknown) {
        if (!isRetriable(error)) throw error;
        if (!paused) {
          control.pause();
          paused = true;
        }
        const delayMs = backoffDelay(config, attempt);
        onRetry(error as PipelineError, attempt, delayMs);
        const until = Date.now() + delayMs;
        while (Date.now() < until) {
          if (!control.isRunning()) {
            throw new ShutdownDuringRetryError(
              'Worker stopped while waiting to retry a batch; its offsets stay uncommitted',
              { cause: error },
            );
          }
          await sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()));
          await control.heartbeat();
        }
      }
    }
  } finally {
    if (paused) control.resume();
  }
}

/**
 * Start-up work against a dependency (registering schemas, connecting):
 * retried with backoff while it fails transiently and the process is not
 * stopping, so workers started before their dependencies wait instead of
 * exiting.
 */
export async function retryUntilAvailable<T>(
  work: () => Promise<T>,
  config: BackoffConfig,
  onRetry: RetryObserver,
  isRunning: () => boolean = () => true,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error: unknown) {
      if (!isRetriable(error) || !isRunning()) throw error;
      const delayMs = backoffDelay(config, attempt);
      onRetry(error as PipelineError, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
