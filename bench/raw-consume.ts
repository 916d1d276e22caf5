import { Kafka, logLevel } from 'kafkajs';
import { createConfluentDecoder } from '../connectors/avro/confluent-decoder.js';

/**
 * The consume + decode bound, run as a process of its own by the benchmark:
 * a bare kafkajs consumer (the pipeline's settings: read committed, the same
 * fetch size) reads the source topics and decodes every key and value with
 * the project's Confluent Avro decoder, and does nothing else: no envelope,
 * no stage, no produce, no commit. It reports on stdout as JSON lines:
 * `started` when its group assigned it the partitions, `done` once it has
 * decoded `records` records, with its own wall-clock time, CPU time and peak
 * RSS.
 *
 * Usage: `node --import tsx bench/raw-consume.ts '<json settings>'`.
 *
 * kafkajs is imported here and not through `connectors/kafka`, because this
 * process measures the driver itself.
 */
type Settings = {
  readonly brokers: string[];
  readonly registryUrl: string;
  readonly topics: string[];
  readonly groupId: string;
  readonly records: number;
  readonly maxBytesPerPartition: number;
};

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const kafka = new Kafka({ clientId: settings.groupId, brokers: settings.brokers, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({
  groupId: settings.groupId,
  readUncommitted: false,
  maxBytesPerPartition: settings.maxBytesPerPartition,
});
const decoder = createConfluentDecoder({ registryUrl: settings.registryUrl });
const report = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(fields)}\n`);

let startedAt: number | undefined;
let startCpu: NodeJS.CpuUsage | undefined;
let decoded = 0;
let bytes = 0;
let finish: () => void = () => undefined;
const finished = new Promise<void>((resolve) => (finish = resolve));

consumer.on(consumer.events.GROUP_JOIN, () => {
  if (startedAt !== undefined) return;
  startedAt = Date.now();
  startCpu = process.cpuUsage();
  report({ event: 'started', at: startedAt });
});

await consumer.connect();
await consumer.subscribe({ topics: settings.topics, fromBeginning: true });
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) {
      const location = { topic: batch.topic, partition: batch.partition, offset: message.offset };
      if (message.key !== null) await decoder.decode(message.key, location);
      if (message.value !== null) await decoder.decode(message.value, location);
      bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
      decoded++;
    }
    if (decoded >= settings.records) finish();
  },
});
await finished;
const doneAt = Date.now();
const cpu = process.cpuUsage(startCpu);
report({
  event: 'done',
  at: doneAt,
  records: decoded,
  bytes,
  elapsedMs: doneAt - (startedAt ?? doneAt),
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  peakRssMB: process.resourceUsage().maxRSS / 1024,
});
await consumer.disconnect();
