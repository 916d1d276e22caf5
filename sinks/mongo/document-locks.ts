import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoBulkWriteError } from 'mongodb';
import { type Logger } from 'pino';
import { z } from 'zod';
import { SinkWriteError } from '../../core/errors.js';
import {
  classifyMongoError,
  classifyWriteErrors,
  hasWriteConcernError,
  isDuplicateKeyError,
} from './classify-error.js';
import { describeServer } from './connect.js';

/** Config of the per-document write locks; shared by every Mongo sink's schema. */
export const documentLocksConfigSchema = z
  .object({
    mode: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe(
        'Serialise writers per document: auto does so only where the server does not (FerretDB v1); ' +
          'never trusts the server; always locks even on MongoDB',
      ),
    collection: z.string().min(1).default('cdc_sync_locks').describe('Collection holding the lock documents'),
    leaseMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('How long a lock stays valid; a crashed holder delays others by at most this'),
    waitMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe('How long a write waits for locks before failing retriably'),
  })
  .prefault({})
  .describe('Per-document write locks, for servers whose updates are not atomic (FerretDB v1)');

export type DocumentLocksConfig = z.output<typeof documentLocksConfigSchema>;

/**
 * Mutual exclusion per projection document, for servers whose single-document
 * updates are not atomic.
 *
 * FerretDB v1 (SQLite) executes an update as "read the document, apply the
 * operators in memory, write the whole document back by `_id`", without a
 * transaction or compare around the three steps. Two writers updating one
 * document concurrently therefore lose each other's changes, and a version
 * guard in the filter is evaluated against a read that may already be stale.
 * Measured: 200 concurrent `$inc` from two clients left 3. The one atomic
 * primitive FerretDB has is an insert against the unique `_id` index, so a
 * lock is a document inserted under the target's key; whoever inserted it
 * owns the key until it deletes it or its lease runs out.
 *
 * `withEach` never holds some keys while waiting for others (no deadlock): it
 * takes what it can, runs `work` for those, releases them, and goes round
 * again for the rest. On MongoDB (`mode: 'auto'`) it runs `work` once for all
 * items without touching the lock collection.
 *
 * A lock whose lease ran out is taken over: its holder crashed or stalled
 * longer than `leaseMs`. Two writers taking over the same expired lock at
 * the same instant can both win (FerretDB's delete is not atomic either);
 * that needs a crashed holder plus a race, and at worst re-opens the window
 * the lock closes. Leases use the host clock, not `SinkContext.now`.
 */
export type DocumentLocks = {
  readonly enabled: boolean;
  withEach<T>(
    items: readonly T[],
    keyOf: (item: T) => string,
    work: (held: readonly T[]) => Promise<void>,
  ): Promise<void>;
};

type LockDocument = { _id: string; owner: string; expiresAt: Date };

/**
 * Creates the locks for one sink instance; `mode: 'auto'` asks the server
 * (`describeServer`) whether it needs them. Rejects retriably when MongoDB
 * cannot be reached.
 */
export async function createDocumentLocks(db: Db, config: DocumentLocksConfig, logger: Logger): Promise<DocumentLocks> {
  const enabled =
    config.mode === 'always' || (config.mode === 'auto' && !(await describeServer(db)).atomicDocumentUpdates);
  if (!enabled) {
    return {
      enabled,
      async withEach(items, _keyOf, work) {
        if (items.length > 0) await work(items);
      },
    };
  }
  logger.debug({ collection: config.collection }, 'Serialising writers per document: the server does not');
  const locks = db.collection<LockDocument>(config.collection);
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const where = { operation: 'lock', collection: config.collection };

  async function acquire(keys: readonly string[]): Promise<Set<string>> {
    const expiresAt = new Date(Date.now() + config.leaseMs);
    try {
      await locks.insertMany(
        keys.map((key) => ({ _id: key, owner, expiresAt })),
        { ordered: false },
      );
      return new Set(keys);
    } catch (error: unknown) {
      // Per-document outcomes of an unordered insert are reliable on MongoDB and on FerretDB alike; without
      // them it is unknown which locks were taken, so all are given back.
      const failed = classifyWriteErrors(error, where);
      if (!(error instanceof MongoBulkWriteError) || failed.size === 0 || hasWriteConcernError(error)) {
        await release(keys).catch(() => {});
        throw classifyMongoError(error, where) ?? error;
      }
      const held = new Set(keys);
      for (const [index, failure] of failed) {
        if (!isDuplicateKeyError(failure)) {
          await release(keys).catch(() => {});
          throw failure;
        }
        held.delete(keys[index]!);
      }
      return held;
    }
  }

  async function release(keys: readonly string[]): Promise<void> {
    try {
      await locks.deleteMany({ _id: { $in: [...keys] }, owner });
    } catch (error: unknown) {
      throw classifyMongoError(error, { ...where, operation: 'unlock' }) ?? error;
    }
  }

  async function takeOverExpired(keys: readonly string[]): Promise<void> {
    try {
      const expired = await locks.find({ _id: { $in: [...keys] }, expiresAt: { $lt: new Date() } }).toArray();
      for (const lock of expired) {
        logger.warn({ key: lock._id, holder: lock.owner, expiresAt: lock.expiresAt }, 'Taking over an expired lock');
        await locks.deleteOne({ _id: lock._id, owner: lock.owner, expiresAt: lock.expiresAt });
      }
    } catch (error: unknown) {
      throw classifyMongoError(error, where) ?? error;
    }
  }

  return {
    enabled,
    async withEach(items, keyOf, work) {
      const pending = new Map<string, (typeof items)[number][]>();
      for (const item of items) pending.set(keyOf(item), [...(pending.get(keyOf(item)) ?? []), item]);
      const deadline = Date.now() + config.waitMs;
      let pause = 5;
      while (pending.size > 0) {
        const held = await acquire([...pending.keys()]);
        if (held.size > 0) {
          try {
            await work([...held].flatMap((key) => pending.get(key)!));
          } catch (error: unknown) {
            // The work's failure is the news; an unreleased lock only delays others until its lease ends.
            await release([...held]).catch(() => {});
            throw error;
          }
          await release([...held]);
          for (const key of held) pending.delete(key);
          pause = 5;
        }
        if (pending.size === 0) break;
        if (Date.now() > deadline) {
          const keys = [...pending.keys()];
          throw new SinkWriteError(
            `Timed out after ${config.waitMs} ms waiting for document locks on ${keys[0]}` +
              `${keys.length > 1 ? ` and ${keys.length - 1} more` : ''} in ${config.collection}`,
            { retriable: true },
          );
        }
        await takeOverExpired([...pending.keys()]);
        await sleep(pause + Math.random() * pause);
        pause = Math.min(pause * 2, 200);
      }
    },
  };
}
