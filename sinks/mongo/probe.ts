import { MongoClient } from 'mongodb';

/**
 * Resolves once the server behind `client` answers `ping` within
 * `timeoutMs`; rejects otherwise with the driver's error (a server selection
 * time-out while MongoDB is down). The time-out is the driver's own
 * (`timeoutMS`), so a probe never leaves an operation waiting behind it.
 *
 * @see https://www.mongodb.com/docs/manual/reference/command/ping/
 */
export async function pingMongo(client: MongoClient, timeoutMs: number): Promise<void> {
  await client.db('admin').command({ ping: 1 }, { timeoutMS: timeoutMs });
}

/**
 * {@link pingMongo} over a connection of its own to `uri` (a direct
 * connection, for a health check of one server), closed again afterwards.
 */
export async function pingMongoAt(uri: string, timeoutMs: number): Promise<void> {
  const client = new MongoClient(uri, {
    directConnection: true,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await pingMongo(client, timeoutMs);
  } finally {
    await client.close().catch(() => undefined);
  }
}
