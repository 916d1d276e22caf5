import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { type Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { type PipelineConfig } from '../../../ops/pipeline-config.js';
import { createCanonicalRegistryCodec } from '../../../connectors/canonical/registry.js';
import { groupProgress } from '../../integration/pipeline-harness.js';
import { readRaw } from './end-check.js';
import { describeTransaction, endOffsets, type TransactionDescription } from './kafka-wire.js';

// Evidence that a fault landed at the moment a scenario names, read from outside the processes: Kafka's transaction
// state and offsets, the read models' versions, and the kernel's socket queues.

/**
 * Whether the read models hold a write the sink never committed the offset of: the newest canonical inventory event
 * an `inventory_availability` document holds (its `_meta.eventId`), against the sink group's committed offset of
 * that partition. `applied >= committed` means MongoDB acknowledged a batch whose offsets were not committed.
 */
export async function appliedBeyondCommit(
  kafka: Kafka,
  config: PipelineConfig,
): Promise<{ committed: bigint; applied: bigint; partition: string }> {
  const topic = config.topics.inventory;
  const codec = createCanonicalRegistryCodec({
    registryUrl: config.schemaRegistry.url,
    topics: { inventory: config.topics.inventory, order: config.topics.order },
  });
  const located = new Map<string, { partition: number; offset: bigint }>();
  for (const record of await readRaw(kafka, topic)) {
    const event = await codec.decode({ ...record, topic });
    located.set(event.meta.eventId, { partition: record.partition, offset: BigInt(record.offset) });
  }
  const { committed } = await groupProgress(kafka, config.sink.groupId, [topic]);
  const mongo = new MongoClient(config.mongodb.uri);
  try {
    const documents = await mongo.db(config.mongodb.database).collection('inventory_availability').find().toArray();
    const applied = new Map<number, bigint>();
    for (const document of documents) {
      const at = located.get(String((document['_meta'] as { eventId?: unknown } | undefined)?.eventId));
      if (at !== undefined && at.offset > (applied.get(at.partition) ?? -1n)) applied.set(at.partition, at.offset);
    }
    let best: { committed: bigint; applied: bigint; partition: string } | undefined;
    for (const [partition, offset] of applied) {
      const candidate = {
        committed: BigInt(committed[`${topic}[${partition}]`] ?? -1),
        applied: offset,
        partition: `${topic}[${partition}]`,
      };
      if (best === undefined || candidate.applied - candidate.committed > best.applied - best.committed)
        best = candidate;
    }
    if (best === undefined)
      throw new Error(`No inventory_availability document of ${config.mongodb.database} names an event of ${topic}`);
    return best;
  } finally {
    await mongo.close();
  }
}

/** An open transaction, with its records on the log above the last stable offset. */
export type OpenTransaction = TransactionDescription & {
  /** Per partition written: `topic[p] HW>LSO`. */
  readonly uncommitted: readonly string[];
};

/**
 * The transaction of `transactionalId` when it is open (`Ongoing`) with records sent and not committed (some partition
 * it wrote has its high watermark above its last stable offset); undefined otherwise.
 */
export async function openTransaction(broker: string, transactionalId: string): Promise<OpenTransaction | undefined> {
  const described = await describeTransaction(broker, transactionalId);
  if (described.errorCode !== 0 || described.state !== 'Ongoing') return undefined;
  const uncommitted: string[] = [];
  for (const key of described.partitions) {
    const [, topic, partition] = /^(.*)\[(\d+)\]$/.exec(key)!;
    const { highWatermark, lastStable } = await endOffsets(broker, topic!, Number(partition));
    if (highWatermark > lastStable) uncommitted.push(`${key} HW ${highWatermark} > LSO ${lastStable}`);
  }
  return uncommitted.length === 0 ? undefined : { ...described, uncommitted };
}

/** One local TCP socket from /proc/net/tcp{,6}: its ports, queued bytes and owning inode. */
type TcpSocket = { localPort: number; remotePort: number; txQueue: number; rxQueue: number; inode: string };

/** Sockets of both families: the JVM servers listen on IPv6 sockets (127.0.0.1 mapped), Node.js clients use IPv4. */
function tcpSockets(): TcpSocket[] {
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .flatMap((table) => readFileSync(table, 'utf8').trim().split('\n').slice(1))
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      const [tx, rx] = fields[4]!.split(':');
      return {
        localPort: parseInt(fields[1]!.split(':')[1]!, 16),
        remotePort: parseInt(fields[2]!.split(':')[1]!, 16),
        txQueue: parseInt(tx!, 16),
        rxQueue: parseInt(rx!, 16),
        inode: fields[9]!,
      };
    });
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/**
 * The client's connections to a server port and the bytes queued on each: `request` bytes the client sent that the
 * server has not read, `reply` bytes the server sent that the client has not read.
 */
export function queuedBytes(clientPid: number, serverPort: number): { request: number; reply: number }[] {
  const own = socketInodes(clientPid);
  const sockets = tcpSockets();
  return sockets
    .filter((socket) => socket.remotePort === serverPort && own.has(socket.inode))
    .map((client) => {
      const server = sockets.find((s) => s.localPort === serverPort && s.remotePort === client.localPort);
      return { request: server?.rxQueue ?? 0, reply: client.rxQueue };
    });
}
