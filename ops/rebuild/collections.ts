import { type Db, type Document, type IndexDescription } from 'mongodb';
import { type SinkName } from '../../sinks/index.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import { ensureIndexes } from '../../sinks/mongo/connect.js';

/**
 * The MongoDB side of `cdc-sync rebuild`: which collections make up a read
 * model, the names of their shadow and backup copies, and the blue/green swap
 * that puts a rebuilt shadow in under the live name.
 */

/**
 * The config keys naming each read model's collections, as in its sink's
 * config schema. A rebuild shadows, diffs and swaps all of them; a new read
 * model must be listed here (the type requires every registry key).
 */
export const READ_MODEL_COLLECTION_KEYS = {
  inventory_availability: ['collection', 'bySkuCollection'],
  order_view: ['collection'],
} as const satisfies Readonly<Record<SinkName, readonly string[]>>;

/** One collection of a read model during a rebuild. */
export type RebuildCollection = {
  /** The sink config key naming it, e.g. `bySkuCollection`. */
  readonly key: string;
  readonly live: string;
  /** `<live>__rebuild_<stamp>`: the rebuild writes here while the live pipeline keeps writing `live`. */
  readonly shadow: string;
  /** `<live>__backup_<stamp>`: the old live collection after a swap. */
  readonly backup: string;
};

/** A UTC timestamp usable in collection names, e.g. `20251127T090000Z`. */
export function rebuildStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The collections of read model `model` under its parsed sink config, with
 * their shadow and backup names for `stamp`. Throws a `TypeError` when the
 * config lacks one of the keys (a schema and this table out of step).
 */
export function rebuildCollections(
  model: SinkName,
  sinkConfig: Readonly<Record<string, unknown>>,
  stamp: string,
): RebuildCollection[] {
  return READ_MODEL_COLLECTION_KEYS[model].map((key) => {
    const live = sinkConfig[key];
    if (typeof live !== 'string' || live === '') {
      throw new TypeError(`Sink ${model} has no collection name under config key ${key}`);
    }
    return { key, live, shadow: `${live}__rebuild_${stamp}`, backup: `${live}__backup_${stamp}` };
  });
}

/** One step of a swap. */
export type SwapStep =
  | { readonly kind: 'copy'; readonly from: string; readonly to: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly dropTarget: boolean };

/**
 * The steps that swap one collection's shadow in: copy live to the backup,
 * then `renameCollection` the shadow onto the live name with `dropTarget`,
 * one atomic step, so readers always find the live name. Without a live
 * collection, the shadow is just renamed.
 *
 * @see https://www.mongodb.com/docs/manual/reference/command/renameCollection/
 */
export function planSwap(collection: RebuildCollection, liveExists: boolean): SwapStep[] {
  const { live, shadow, backup } = collection;
  if (!liveExists) return [{ kind: 'rename', from: shadow, to: live, dropTarget: false }];
  return [
    { kind: 'copy', from: live, to: backup },
    { kind: 'rename', from: shadow, to: live, dropTarget: true },
  ];
}

/** What a swap did to one collection. */
export type SwappedCollection = {
  readonly live: string;
  /** Null when there was no live collection to keep. */
  readonly backup: string | null;
  readonly steps: readonly SwapStep[];
  /** Indexes the live collection had and the shadow lacked, created on the shadow before the swap. */
  readonly indexesAdded: readonly string[];
};

/** Called before each step, so a command can say what it does. */
export type SwapObserver = (step: SwapStep, collection: RebuildCollection) => void;

/**
 * Swaps each collection's shadow in under its live name (see
 * {@link planSwap}), after making sure the shadow carries every
 * index of the live collection. A missing shadow (a rebuild that read no
 * event for it) is created empty first. Throws a classified `SinkWriteError`
 * when the server fails, naming the step.
 */
export async function swapCollections(
  db: Db,
  collections: readonly RebuildCollection[],
  observe: SwapObserver = () => undefined,
): Promise<SwappedCollection[]> {
  const swapped: SwappedCollection[] = [];
  for (const collection of collections) {
    const liveExists = await collectionExists(db, collection.live);
    if (!(await collectionExists(db, collection.shadow)))
      await run(() => db.createCollection(collection.shadow), 'create', collection.shadow);
    const indexesAdded = liveExists ? await copyMissingIndexes(db, collection.live, collection.shadow) : [];
    const steps = planSwap(collection, liveExists);
    for (const step of steps) {
      observe(step, collection);
      if (step.kind === 'copy') await copyCollection(db, step.from, step.to);
      else {
        const { from, to, dropTarget } = step;
        await run(() => db.renameCollection(from, to, { dropTarget }), `renameCollection to ${to}`, from);
      }
    }
    swapped.push({
      live: collection.live,
      backup: liveExists ? collection.backup : null,
      steps,
      indexesAdded,
    });
  }
  return swapped;
}

/** Whether a collection exists in `db`. */
export async function collectionExists(db: Db, name: string): Promise<boolean> {
  const found = await run(() => db.listCollections({ name }, { nameOnly: true }).toArray(), 'listCollections', name);
  // Checked by name as well: mongo-java-server ignores the filter and lists every collection.
  return found.some((collection) => collection.name === name);
}

/** Index names of a collection, `_id_` included, sorted; empty when it does not exist. */
export async function indexNames(db: Db, name: string): Promise<string[]> {
  if (!(await collectionExists(db, name))) return [];
  const indexes = await run(() => db.collection(name).listIndexes().toArray(), 'listIndexes', name);
  return indexes.map((index) => String(index['name'])).sort();
}

/** Drops the collections that exist; returns the ones it dropped. */
export async function dropCollections(db: Db, names: readonly string[]): Promise<string[]> {
  const dropped: string[] = [];
  for (const name of names) {
    if (!(await collectionExists(db, name))) continue;
    await run(() => db.dropCollection(name), 'drop', name);
    dropped.push(name);
  }
  return dropped;
}

/** Copies every document and index of `from` into the new collection `to`, in batches. */
async function copyCollection(db: Db, from: string, to: string, batchSize = 1000): Promise<void> {
  const target = db.collection(to);
  await run(() => db.createCollection(to), 'create', to);
  const cursor = db.collection(from).find({}, { sort: { _id: 1 }, batchSize });
  try {
    let batch: Document[] = [];
    for await (const document of cursor) {
      batch.push(document);
      if (batch.length >= batchSize) {
        const full = batch;
        await run(() => target.insertMany(full, { ordered: true }), 'insertMany', to);
        batch = [];
      }
    }
    if (batch.length > 0) await run(() => target.insertMany(batch, { ordered: true }), 'insertMany', to);
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation: `copy to ${to}`, collection: from }) ?? error;
  } finally {
    await cursor.close();
  }
  await copyMissingIndexes(db, from, to);
}

/** Creates on `to` the indexes of `from` it lacks (by name); returns their names. */
async function copyMissingIndexes(db: Db, from: string, to: string): Promise<string[]> {
  const wanted = await run(() => db.collection(from).listIndexes().toArray(), 'listIndexes', from);
  const present = new Set(await indexNames(db, to));
  const missing: IndexDescription[] = wanted
    .filter((index) => !present.has(String(index['name'])))
    .map((index) => ({
      key: index['key'] as IndexDescription['key'],
      name: String(index['name']),
      ...(index['unique'] === true ? { unique: true } : {}),
      ...(index['sparse'] === true ? { sparse: true } : {}),
    }));
  await ensureIndexes(db.collection(to), missing);
  return missing.map((index) => index.name!);
}

async function run<T>(work: () => Promise<T>, operation: string, collection: string): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    throw classifyMongoError(error, { operation, collection }) ?? error;
  }
}
