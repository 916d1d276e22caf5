import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createStages } from '../ops/components.js';
import { type CanonicalEvent } from '../core/canonical.js';
import { parsePipelineConfig } from '../ops/pipeline-config.js';
import { type ChangeEvent } from '../core/envelope.js';
import { createConfluentDecoder } from '../connectors/avro/confluent-decoder.js';
import { createSqlServerEncoder, type SqlServerEncoder } from '../connectors/debezium/encode.js';
import { createEnvelopeReader } from '../connectors/debezium/envelope.js';
import { expectedEnvelopes } from '../devtools/fixtures/expected-envelopes.js';
import { type Fixture } from '../devtools/fixtures/fixture-file.js';
import { createWorkloadGenerator, generateWorkload, lsnAfter, mulberry32, toFixture } from './workload.js';

const SERVER = 'bench';

/** Encodes each change as the fixture producer does and reads it back through the pipeline's decoder and reader. */
async function decodeAll(fixture: Fixture): Promise<ChangeEvent[]> {
  const schemas = new Map<number, unknown>();
  const encoders = new Map<string, SqlServerEncoder>();
  for (const entry of fixture.entries) {
    if (encoders.has(entry.topic)) continue;
    const keySchemaId = schemas.size + 1;
    const valueSchemaId = schemas.size + 2;
    const encoder = createSqlServerEncoder(entry.table, { keySchemaId, valueSchemaId });
    schemas.set(keySchemaId, encoder.schemas.key).set(valueSchemaId, encoder.schemas.value);
    encoders.set(entry.topic, encoder);
  }
  const decoder = createConfluentDecoder({ lookupSchema: async (id) => JSON.stringify(schemas.get(id)) });
  const reader = createEnvelopeReader({ connector: 'sqlserver', topicPrefix: SERVER });
  const events: ChangeEvent[] = [];
  for (const entry of fixture.entries) {
    if (entry.kind !== 'change') throw new Error(`Unexpected ${entry.kind} entry at ${entry.index}`);
    const record = encoders.get(entry.topic)!.encode(entry.change);
    const location = { topic: entry.topic, partition: 0, offset: String(entry.index) };
    const key = await decoder.decode(record.key, location);
    const value = await decoder.decode(record.value, location);
    const result = reader.read({
      ...location,
      key: key.value,
      value: value.value,
      valueSchemaName: value.schemaName,
    });
    if (result.kind !== 'change') throw new Error(`Entry ${entry.index} read back as ${result.kind}`);
    events.push(result.event);
  }
  return events;
}

/** Every change through the default stages, as the transform runner routes them. */
function transformAll(changes: readonly ChangeEvent[]): { events: CanonicalEvent[]; failures: string[] } {
  const stages = createStages(
    parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES }, 'the test', {}),
    pino({ level: 'silent' }),
    'the test',
  );
  const events: CanonicalEvent[] = [];
  const failures: string[] = [];
  for (const change of changes) {
    for (const stage of stages.stagesFor(change.table)) {
      const result = stage.apply(change);
      if (result.kind === 'emit') events.push(...result.events);
      if (result.kind === 'fail') failures.push(result.error.message);
    }
  }
  return { events, failures };
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

describe('the benchmark workload', () => {
  it.each([1, 13, 250, 1_000])(
    'has exactly the %i changes asked for, all accepted by the fixture validator',
    (events) => {
      const { fixture, generator } = generateWorkload({ events, server: SERVER });
      expect(fixture.entries).toHaveLength(events);
      expect(generator.summary().events).toBe(events);
    },
  );

  it('is the same for the same seed and size, and differs for another seed', () => {
    const changes = (seed: number) => createWorkloadGenerator({ events: 500, seed }).take(500);
    expect(changes(7)).toEqual(changes(7));
    expect(changes(7)).not.toEqual(changes(8));
  });

  it('starts with a snapshot of every inventory key, then interleaves stock moves and order lifecycles', () => {
    const generator = createWorkloadGenerator({ events: 2_000, inventoryKeys: 100 });
    const changes = generator.take(2_000);
    expect(changes.slice(0, 100).every((change) => change.op === 'r')).toBe(true);
    expect(changes[0]!.snapshot).toBe('first');
    expect(changes[99]!.snapshot).toBe('last');
    const summary = generator.summary();
    expect(summary.inventoryKeys).toBe(100);
    expect(Object.keys(summary.byTable).sort()).toEqual([
      'dbo.InventoryBalance',
      'dbo.PaymentTransaction',
      'dbo.Refund',
      'dbo.ReturnAuthorization',
      'dbo.SalesOrderHeader',
      'dbo.SalesOrderLine',
      'dbo.Shipment',
    ]);
    expect(summary.orders).toBeGreaterThan(40);
  });

  it('decodes with the pipeline decoder into exactly the change events the fixture says', async () => {
    const { fixture } = generateWorkload({ events: 600, server: SERVER });
    const decoded = await decodeAll(fixture);
    expect(decoded).toEqual(
      expectedEnvelopes(fixture).map(({ result }) => (result.kind === 'change' ? result.event : undefined)),
    );
  });

  it('transforms into the canonical events of its stock moves and order lifecycles, with no failure', async () => {
    const generator = createWorkloadGenerator({ events: 3_000, inventoryKeys: 200 });
    const changes = generator.take(3_000);
    const fixture = toFixture(changes, SERVER, 'the test workload');
    const { events, failures } = transformAll(await decodeAll(fixture));
    expect(failures).toEqual([]);

    const types = countBy(events, (event) => event.meta.eventType);
    const rows = (table: string, where: (change: (typeof changes)[number]) => boolean = () => true) =>
      changes.filter((change) => change.table === table && where(change)).length;
    // Snapshot reads and every update that moves a quantity; recounts that only touch LastCountedAt are skipped.
    const quantityMoves = changes.filter((_, i) => generator.quantityKeyOf(i) !== undefined).length;
    expect(types['StockLevelChanged']).toBe(rows('dbo.InventoryBalance', (c) => c.op === 'r') + quantityMoves);
    expect(types['StockLevelChanged']).toBeLessThan(rows('dbo.InventoryBalance'));
    expect(types['OrderAccepted']).toBe(rows('dbo.SalesOrderHeader', (c) => c.op === 'c'));
    expect(types['OrderStatusChanged']).toBe(rows('dbo.SalesOrderHeader', (c) => c.op === 'u'));
    expect(types['OrderCancelled']).toBe(rows('dbo.SalesOrderHeader', (c) => c.after['StatusCode'] === 'CX'));
    expect(types['OrderLineChanged']).toBe(rows('dbo.SalesOrderLine'));
    expect(types['PaymentCaptured']).toBe(rows('dbo.PaymentTransaction', (c) => c.after['TxnType'] === 'CAP'));
    expect(types['ShipmentDispatched']).toBe(rows('dbo.Shipment', (c) => c.after['Status'] === 'SH'));
    expect(types['ReturnReceived']).toBe(rows('dbo.ReturnAuthorization', (c) => c.after['Status'] === 'RC'));
    expect(types['RefundCompleted']).toBe(rows('dbo.Refund', (c) => c.after['Status'] === 'COMPLETED'));
    for (const type of [
      'OrderCancelled',
      'PaymentCaptured',
      'ShipmentDispatched',
      'ReturnReceived',
      'RefundCompleted',
    ]) {
      expect(types[type], type).toBeGreaterThan(0);
    }

    // One order's lifecycle, in order: placed, accepted, picked, shipped and closed.
    const shipped = events.find((event) => event.meta.eventType === 'ShipmentDispatched')!.meta.aggregateKey;
    const statuses = events
      .filter((event) => event.meta.aggregateKey === shipped && event.meta.eventType === 'OrderStatusChanged')
      .map((event) => (event.payload as { toStatus: string }).toStatus);
    expect(statuses.slice(0, 3)).toEqual(['ACCEPTED', 'PICKING', 'SHIPPED']);
  });

  it('continues the same stream after a first part, positions after the first part', () => {
    const generator = createWorkloadGenerator({ events: 400 });
    const first = toFixture(generator.take(400), SERVER, 'first');
    const rest = toFixture(generator.take(300), SERVER, 'rest', lsnAfter(first));
    const lastOfFirst = first.entries.at(-1)!;
    const firstOfRest = rest.entries[0]!;
    if (lastOfFirst.kind !== 'change' || firstOfRest.kind !== 'change') throw new Error('expected changes');
    expect(firstOfRest.change.source.changeLsn! > lastOfFirst.change.source.commitLsn!).toBe(true);
    expect(generator.summary().events).toBe(700);
  });
});

describe('mulberry32', () => {
  it('gives the same numbers in [0, 1) for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const numbers = Array.from({ length: 1_000 }, () => a());
    expect(numbers).toEqual(Array.from({ length: 1_000 }, () => b()));
    expect(numbers.every((n) => n >= 0 && n < 1)).toBe(true);
  });
});
