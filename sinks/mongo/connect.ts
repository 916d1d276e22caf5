import {
  type Collection,
  type Document,
  type IndexDescription,
  MongoClient,
  type MongoClientOptions,
  MongoServerError,
  MongoWriteConcernError,
  type WriteConcernSettings,
} from 'mongodb';
import { type Logger } from 'pino';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { classifyMongoError } from './classify-error.js';
import { z } from 'zod';

/** The pipeline's `mongodb` section: where the read models live. */
export const mongodbConfigSchema = z.object({
  uri: z
    .string()
    .min(1)
    .default('mongodb://127.0.0.1:27017/')
    .describe('MongoDB connection string; use ${MONGODB_URI} for credentials'),
  database: z.string().min(1).default('cdc_sync').describe('Database of the read models'),
});

/** The validated `mongodb` section. */
export type MongodbConfig = z.output<typeof mongodbConfigSchema>;

/**
 * The write concern the sinks ask for: acknowledged by a majority of the
 * replica set and journaled, so a batch's offsets are committed only after
 * its writes survive a primary failover.
 *
 * @see https://www.mongodb.com/docs/manual/reference/write-concern/
 */
export const DURABLE_WRITE_CONCERN = { w: 'majority', journal: true } as const satisfies WriteConcernSettings;

/**
 * What {@link connectMongo} falls back to, in order, when the server refuses
 * the one before as unsatisfiable: a standalone `mongod` without journaling, or
 * a wire-compatible server with a narrower write concern grammar.
 */
const WRITE_CONCERN_FALLBACKS: readonly WriteConcernSettings[] = [
  DURABLE_WRITE_CONCERN,
  { w: 1, journal: true },
  { w: 1 },
];

/** Options for {@link connectMongo}; every one has a default. */
export type ConnectMongoOptions = {
  readonly appName?: string;
  /** How long an operation waits for a usable server before failing retriably. Default 10 s. */
  readonly serverSelectionTimeoutMs?: number;
  /** TCP connect and TLS handshake time-out. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** How long a socket may stay silent during an operation; sink writes are short. Default 60 s. */
  readonly socketTimeoutMs?: number;
  /** Gets a warning when the write concern had to be weakened. */
  readonly logger?: Logger;
};

/**
 * Creates a connected `MongoClient` for the sinks: sane time-outs (a missing
 * server fails a write after 10 s instead of hanging the batch),
 * {@link DURABLE_WRITE_CONCERN} as the client default, and retryable writes
 * left on (the driver retries a write once after a failover where the server
 * supports it; standalone servers do not, and then the runner's backoff
 * does).
 *
 * The write concern is probed with a no-op delete before the client is
 * handed out; a server that refuses it as unsatisfiable gets the next weaker
 * one, with a warning, rather than failing every batch later.
 *
 * Throws a `SourceUnavailableError` when no server answers and a
 * `ConfigError` for a malformed URI.
 *
 * @see https://www.mongodb.com/docs/drivers/node/current/fundamentals/connection/connection-options/
 */
export async function connectMongo(uri: string, options: ConnectMongoOptions = {}): Promise<MongoClient> {
  for (const [attempt, writeConcern] of WRITE_CONCERN_FALLBACKS.entries()) {
    const client = await openClient(uri, options, writeConcern);
    const refusal = await probeWriteConcern(client);
    if (refusal === undefined) {
      if (attempt > 0) {
        options.logger?.warn(
          { writeConcern, wanted: DURABLE_WRITE_CONCERN },
          'MongoDB refused the durable write concern; sinks use a weaker one',
        );
      }
      return client;
    }
    await client.close();
    options.logger?.debug({ writeConcern, err: refusal }, 'MongoDB refused a write concern; trying a weaker one');
  }
  throw new ConfigError(`MongoDB at ${redact(uri)} refused every write concern the sinks can use`);
}

/**
 * Creates the indexes a sink reads by, idempotently, in one `createIndexes`
 * of those missing, so every sink instance may call this at start. An
 * existing index of the same name over another key is a configuration
 * problem (`ConfigError`); it is looked for before creating, since not every
 * MongoDB-wire server refuses it.
 *
 * @see https://www.mongodb.com/docs/manual/reference/command/createIndexes/
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: readonly IndexDescription[],
): Promise<void> {
  const where = { operation: 'createIndexes', collection: collection.collectionName };
  try {
    const existing = new Map(
      (await collection.listIndexes().toArray().catch(ignoreMissingCollection)).map((index) => [
        String(index['name']),
        JSON.stringify(index['key']),
      ]),
    );
    const missing = indexes.filter((index) => {
      const key = existing.get(index.name ?? '');
      if (key !== undefined && key !== JSON.stringify(index.key)) {
        throw new ConfigError(
          `Index conflict on ${collection.collectionName}: an index named ${index.name} exists over ${key}, ` +
            `not ${JSON.stringify(index.key)}; drop the old index or rename the new one`,
        );
      }
      return key === undefined;
    });
    if (missing.length > 0) await collection.createIndexes([...missing]);
  } catch (error: unknown) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof MongoServerError && [85, 86].includes(Number(error.code))) {
      throw new ConfigError(
        `Index conflict on ${collection.collectionName}: ${error.message}; drop the old index or rename the new one`,
        { cause: error },
      );
    }
    throw classifyMongoError(error, where) ?? error;
  }
}

/** `listIndexes` of a collection that does not exist yet fails with NamespaceNotFound (26): it has no indexes. */
function ignoreMissingCollection(error: unknown): Document[] {
  if (error instanceof MongoServerError && Number(error.code) === 26) return [];
  throw error;
}

async function openClient(
  uri: string,
  options: ConnectMongoOptions,
  writeConcern: WriteConcernSettings,
): Promise<MongoClient> {
  const clientOptions: MongoClientOptions = {
    appName: options.appName ?? 'cdc-sync',
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
    connectTimeoutMS: options.connectTimeoutMs ?? 10_000,
    socketTimeoutMS: options.socketTimeoutMs ?? 60_000,
    maxIdleTimeMS: 300_000,
    retryWrites: true,
    writeConcern,
  };
  let client: MongoClient;
  try {
    client = new MongoClient(uri, clientOptions);
  } catch (error: unknown) {
    throw new ConfigError(
      `Invalid MongoDB URI ${redact(uri)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    await client.connect();
    return client;
  } catch (error: unknown) {
    await client.close().catch(() => {});
    const classified = classifyMongoError(error, { operation: 'connect', collection: '(none)' });
    if (classified?.retriable === true) {
      throw new SourceUnavailableError(`MongoDB unreachable at ${redact(uri)}: ${classified.message}`, {
        cause: error,
      });
    }
    throw classified ?? error;
  }
}

/** A write concern that the server rejects outright, as opposed to one it merely could not satisfy in time. */
function isUnsatisfiableWriteConcern(error: unknown): boolean {
  if (error instanceof MongoWriteConcernError) return [79, 100].includes(Number(error.code));
  if (error instanceof MongoServerError) {
    return [2, 9, 79, 100].includes(Number(error.code)) && /write ?concern|journal|\bj\b/i.test(error.message);
  }
  return false;
}

/**
 * A delete that matches nothing, carrying the client's write concern: it
 * creates nothing, yet the server must accept the write concern to answer.
 * Returns the refusal, or `undefined` when the write concern is usable.
 */
async function probeWriteConcern(client: MongoClient): Promise<unknown> {
  try {
    await client.db().collection<{ _id: string }>('cdc_sync_write_concern_probe').deleteOne({ _id: 'probe' });
    return undefined;
  } catch (error: unknown) {
    if (isUnsatisfiableWriteConcern(error)) return error;
    // Anything else (no rights on the default database, say) says nothing about the write concern.
    const classified = classifyMongoError(error, { operation: 'write concern probe', collection: '(probe)' });
    if (classified?.retriable === true) {
      await client.close().catch(() => {});
      throw new SourceUnavailableError(`MongoDB unreachable while connecting: ${classified.message}`, { cause: error });
    }
    return undefined;
  }
}

/** The URI without its password, for messages. */
function redact(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
