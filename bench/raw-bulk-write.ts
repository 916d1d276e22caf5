import { type AnyBulkWriteOperation, type Document, MongoClient } from 'mongodb';

/**
 * The bulk-write bound, run as a process of its own by the benchmark: the
 * final read-model documents of the end-to-end run, copied from its database
 * (not timed), are upserted into an empty database with the driver alone,
 * `replaceOne` upserts by `_id` in unordered bulks of `bulkSize`, one bulk at
 * a time, as many documents as cdc-sync's read models ended with. It reports
 * on stdout as JSON lines: `started` once the documents are read, `done` with
 * its wall-clock time, CPU time and peak RSS of the writing alone.
 *
 * Usage: `node --import tsx bench/raw-bulk-write.ts '<json settings>'`.
 *
 * The driver is imported here and not through `sinks/mongo`, because this
 * process measures the driver and the server themselves.
 */
type Settings = {
  readonly uri: string;
  readonly fromDatabase: string;
  readonly toDatabase: string;
  readonly collections: string[];
  readonly bulkSize: number;
};

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const report = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(fields)}\n`);
const client = new MongoClient(settings.uri);
await client.connect();
try {
  const source = client.db(settings.fromDatabase);
  const target = client.db(settings.toDatabase);
  const copies: { collection: string; documents: Document[] }[] = [];
  for (const collection of settings.collections) {
    copies.push({ collection, documents: await source.collection(collection).find({}).toArray() });
  }
  const documents = copies.reduce((sum, copy) => sum + copy.documents.length, 0);
  const startedAt = Date.now();
  const startCpu = process.cpuUsage();
  report({ event: 'started', at: startedAt, documents });
  for (const { collection, documents: docs } of copies) {
    for (let start = 0; start < docs.length; start += settings.bulkSize) {
      const operations: AnyBulkWriteOperation[] = docs.slice(start, start + settings.bulkSize).map((doc) => ({
        replaceOne: { filter: { _id: doc['_id'] }, replacement: doc, upsert: true },
      }));
      await target.collection(collection).bulkWrite(operations, { ordered: false });
    }
  }
  const doneAt = Date.now();
  const cpu = process.cpuUsage(startCpu);
  report({
    event: 'done',
    at: doneAt,
    documents,
    elapsedMs: doneAt - startedAt,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  });
  await target.dropDatabase();
} finally {
  await client.close();
}
