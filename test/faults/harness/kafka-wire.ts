import { connect, type Socket } from 'node:net';

// Two Kafka requests kafkajs lacks, spoken directly on the wire to the fault stack's single broker (which is every
// coordinator): DescribeTransactions, to see a transaction open on the broker before a worker is killed, and
// ListOffsets at both isolation levels, to see records sent in that transaction and not yet committed (the high
// watermark above the last stable offset).
//
// @see https://kafka.apache.org/protocol#The_Messages_DescribeTransactions
// @see https://kafka.apache.org/protocol#The_Messages_ListOffsets

const API = { listOffsets: 2, describeTransactions: 65 } as const;

/** A transaction's state on its coordinator, as `kafka-transactions.sh describe` prints it. */
export type TransactionDescription = {
  readonly errorCode: number;
  readonly transactionalId: string;
  /** `Empty`, `Ongoing`, `PrepareCommit`, `PrepareAbort`, `CompleteCommit`, `CompleteAbort`, `Dead`, … */
  readonly state: string;
  readonly startTimeMs: bigint;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** The partitions the open transaction has written to, as `topic[partition]`. */
  readonly partitions: readonly string[];
};

/** Describes a transactional id on the broker at `broker` (`host:port`). */
export async function describeTransaction(broker: string, transactionalId: string): Promise<TransactionDescription> {
  const body = new Writer();
  body.uvarint(2); // compact array of one id
  body.compactString(transactionalId);
  body.uvarint(0); // tagged fields
  const response = new Reader(await request(broker, API.describeTransactions, 0, body.bytes(), true));
  response.int32(); // throttle time
  const count = response.uvarint() - 1;
  if (count !== 1) throw new Error(`DescribeTransactions answered ${count} states for one id`);
  const errorCode = response.int16();
  const id = response.compactString();
  const state = response.compactString();
  response.int32(); // transaction timeout
  const startTimeMs = response.int64();
  const producerId = response.int64();
  const producerEpoch = response.int16();
  const partitions: string[] = [];
  const topics = response.uvarint() - 1;
  for (let t = 0; t < topics; t++) {
    const topic = response.compactString();
    const numbers = response.uvarint() - 1;
    for (let p = 0; p < numbers; p++) partitions.push(`${topic}[${response.int32()}]`);
    response.skipTags();
  }
  return { errorCode, transactionalId: id, state, startTimeMs, producerId, producerEpoch, partitions };
}

/**
 * The end offsets of a partition at both isolation levels: the high watermark (read_uncommitted) and the last stable
 * offset (read_committed). `highWatermark > lastStable` means records of an open transaction are on the log.
 */
export async function endOffsets(
  broker: string,
  topic: string,
  partition: number,
): Promise<{ highWatermark: bigint; lastStable: bigint }> {
  const at = async (isolation: 0 | 1): Promise<bigint> => {
    const body = new Writer();
    body.int32(-1); // replica id: a client
    body.int8(isolation);
    body.int32(1);
    body.string(topic);
    body.int32(1);
    body.int32(partition);
    body.int64(-1n); // latest
    const response = new Reader(await request(broker, API.listOffsets, 2, body.bytes(), false));
    response.int32(); // throttle time
    response.int32(); // topics
    response.string();
    response.int32(); // partitions
    response.int32(); // partition index
    const errorCode = response.int16();
    if (errorCode !== 0) throw new Error(`ListOffsets of ${topic}[${partition}] answered error ${errorCode}`);
    response.int64(); // timestamp
    return response.int64();
  };
  return { highWatermark: await at(0), lastStable: await at(1) };
}

let correlation = 1;

/** Sends one request and resolves with the response body after its header. */
function request(broker: string, apiKey: number, version: number, body: Buffer, flexible: boolean): Promise<Buffer> {
  const [host, port] = broker.split(':');
  const id = correlation++;
  const header = new Writer();
  header.int16(apiKey);
  header.int16(version);
  header.int32(id);
  header.string('cdc-sync-faults');
  if (flexible) header.uvarint(0);
  const payload = Buffer.concat([header.bytes(), body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: host!, port: Number(port) });
    let received = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`No answer from ${broker} to API ${apiKey}`)));
    socket.once('connect', () => socket.write(Buffer.concat([size, payload])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        const reader = new Reader(received.subarray(4, 4 + received.readInt32BE(0)));
        if (reader.int32() !== id) return reject(new Error(`Correlation id mismatch from ${broker}`));
        if (flexible) reader.skipTags();
        resolve(reader.rest());
      }
    });
    socket.once('error', reject);
  });
}

class Writer {
  private readonly parts: Buffer[] = [];
  int8(value: number): void {
    const b = Buffer.alloc(1);
    b.writeInt8(value);
    this.parts.push(b);
  }
  int16(value: number): void {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    this.parts.push(b);
  }
  int32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
  }
  int64(value: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(value);
    this.parts.push(b);
  }
  uvarint(value: number): void {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    this.parts.push(Buffer.from(bytes));
  }
  string(value: string): void {
    const text = Buffer.from(value, 'utf8');
    this.int16(text.length);
    this.parts.push(text);
  }
  compactString(value: string): void {
    const text = Buffer.from(value, 'utf8');
    this.uvarint(text.length + 1);
    this.parts.push(text);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  int64(): bigint {
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer[this.offset++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  }
  string(): string {
    const length = this.int16();
    const text = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
  compactString(): string {
    const length = this.uvarint() - 1;
    const text = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
  skipTags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
  rest(): Buffer {
    return this.buffer.subarray(this.offset);
  }
}
