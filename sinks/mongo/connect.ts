import {
  type Collection,
  type Db,
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
 * a wire-compatible server with a narrower write concern grammar. FerretDB v1
 * accepts `{w: 'majority', j: true}` (and ignores it: its SQLite commit is the
 * acknowledgement), so on the local stack no fallback happens.
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
 * supports it; FerretDB and standalone servers do not, and then the runner's
 * backoff does).
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

/** What the sinks need to know about the server behind a `Db`. */
export type MongoServerInfo = {
  readonly product: 'mongodb' | 'ferretdb';
  /** The MongoDB version the server reports (FerretDB reports the one it emulates). */
  readonly version: string;
  /** The replica set name, or null for a standalone server or FerretDB. */
  readonly replicaSet: string | null;
  /**
   * Whether two concurrent updates of one document are serialised by the
   * server. MongoDB: yes, every single-document update is atomic. FerretDB
   * v1 with SQLite: no: it reads the document, applies the update in memory
   * and writes the whole document back by `_id` without a compare, so
   * concurrent updates from two connections lose each other's changes and
   * a filter (the version guard) is checked against a stale read. The sinks
   * then serialise writers with `document-locks.ts`.
   */
  readonly atomicDocumentUpdates: boolean;
};

/**
 * Asks the server what it is: `buildInfo` (FerretDB adds `ferretdbVersion`)
 * and `hello` (a replica set member names its set). Throws a retriable
 * `SinkWriteError` when the server cannot be reached.
 */
export async function describeServer(db: Db): Promise<MongoServerInfo> {
  try {
    const admin = db.admin();
    const build = await admin.command({ buildInfo: 1 });
    const hello = await admin.command({ hello: 1 });
    const ferretdbVersion = typeof build['ferretdbVersion'] === 'string' ? build['ferretdbVersion'] : undefined;
    const product = ferretdbVersion === undefined ? 'mongodb' : 'ferretdb';
    // FerretDB 2 stores documents in PostgreSQL's DocumentDB extension, which updates in place; v1 (and an
    // embedded build reporting "unknown") does not.
    const ferretMajor = Number(/^v?(\d+)\./.exec(ferretdbVersion ?? '')?.[1] ?? Number.NaN);
    return {
      product,
      version: typeof build['version'] === 'string' ? build['version'] : 'unknown',
      replicaSet: typeof hello['setName'] === 'string' ? hello['setName'] : null,
      atomicDocumentUpdates: product === 'mongodb' || ferretMajor >= 2,
    };
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: 'buildInfo', collection: db.databaseName }) ?? error;
  }
}

/**
 * Creates the indexes a sink reads by, idempotently: `createIndexes` with an
 * index that already exists under the same name and key is a no-op on MongoDB
 * and FerretDB alike, so every sink instance may call this at start. An index
 * of the same name with another key is a configuration problem (`ConfigError`).
 *
 * One index per command: FerretDB v1.24 panics and drops the connection on a
 * `createIndexes` of several indexes that all exist already ("slice bounds
 * out of range" in its log). Partial and TTL indexes are not used: FerretDB v1
 * rejects them.
 *
 * @see https://www.mongodb.com/docs/manual/reference/command/createIndexes/
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: readonly IndexDescription[],
): Promise<void> {
  for (const index of indexes) {
    try {
      await collection.createIndexes([index]);
    } catch (error: unknown) {
      if (error instanceof MongoServerError && [85, 86].includes(Number(error.code))) {
        throw new ConfigError(
          `Index conflict on ${collection.collectionName}: ${error.message}; drop the old index or rename the new one`,
          { cause: error },
        );
      }
      throw classifyMongoError(error, { operation: 'createIndexes', collection: collection.collectionName }) ?? error;
    }
  }
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
