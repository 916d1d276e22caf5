import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, type CanonicalEventType, EVENT_STREAM } from '../../core/canonical.js';
import { ConfigError } from '../../core/errors.js';
import { CANONICAL_TOPICS } from '../../core/canonical.js';
import { createCanonicalCodec } from './codec.js';
import { CANONICAL_SAMPLES } from './samples.js';
import { readCanonicalSchema, readSchemaHistory } from './schema-files.js';

const codec = createCanonicalCodec();
const EVENT_TYPES = Object.keys(EVENT_STREAM) as CanonicalEventType[];

/** A sample with some of its payload (or meta) replaced; typed loosely so that tests can break the types. */
function withPayload(eventType: CanonicalEventType, payload: Record<string, unknown>): CanonicalEvent {
  const sample = CANONICAL_SAMPLES[eventType];
  return { meta: sample.meta, payload: { ...sample.payload, ...payload } } as unknown as CanonicalEvent;
}

function withMeta(eventType: CanonicalEventType, meta: Record<string, unknown>): CanonicalEvent {
  const sample = CANONICAL_SAMPLES[eventType];
  return { meta: { ...sample.meta, ...meta }, payload: sample.payload } as unknown as CanonicalEvent;
}

const payment = `PaymentCaptured event ${CANONICAL_SAMPLES.PaymentCaptured.meta.eventId}`;
const stock = `StockLevelChanged event ${CANONICAL_SAMPLES.StockLevelChanged.meta.eventId}`;
const line = `OrderLineChanged event ${CANONICAL_SAMPLES.OrderLineChanged.meta.eventId}`;
const accepted = `OrderAccepted event ${CANONICAL_SAMPLES.OrderAccepted.meta.eventId}`;

/** Writes an envelope value with avsc directly, bypassing the codec's checks. */
function rawBody(stream: 'inventory' | 'order', value: unknown): Buffer {
  return avro.Type.forSchema(readCanonicalSchema(stream) as avro.Schema, { wrapUnions: true }).toBuffer(value);
}

describe('createCanonicalCodec', () => {
  it.each(EVENT_TYPES)('routes %s to its stream topic, keyed by its aggregate key', (eventType) => {
    const sample = CANONICAL_SAMPLES[eventType];
    expect(codec.topicFor(eventType)).toBe(CANONICAL_TOPICS[EVENT_STREAM[eventType]]);
    expect(codec.keyFor(sample)).toBe(sample.meta.aggregateKey);
    expect(codec.encode(sample)).toMatchObject({
      stream: EVENT_STREAM[eventType],
      topic: CANONICAL_TOPICS[EVENT_STREAM[eventType]],
      key: sample.meta.aggregateKey,
    });
  });

  it('takes topic names from its config', () => {
    const custom = createCanonicalCodec({ topics: { order: 'acme.orders' } });
    expect(custom.topicFor('OrderDeleted')).toBe('acme.orders');
    expect(custom.topicFor('StockLevelChanged')).toBe('canonical.inventory.v1');
  });

  it.each([
    [{ topics: { inventory: 'same', order: 'same' } }, 'topics.order: Inventory and order events need distinct topics'],
    [{ topics: { order: '' } }, 'topics.order: Too small: expected string to have >=1 characters'],
  ])('refuses config %j with a ConfigError', (config, message) => {
    expect(() => createCanonicalCodec(config)).toThrow(new ConfigError(`Invalid canonical codec setting ${message}`));
  });

  it.each([
    [
      { type: 'record', name: 'X', fields: [] },
      'Invalid canonical order schema: Canonical envelope X must have the fields meta, event; it has ',
    ],
    ['not a schema', 'Invalid canonical order schema: Undefined type name "not a schema" at (root)'],
  ])('refuses an order schema override %j', (schema, message) => {
    expect(() => createCanonicalCodec({}, { schemas: { order: schema } })).toThrow(new ConfigError(message));
  });

  it('writes nulls of nullable fields and reads them back', () => {
    const event = withPayload('RefundCompleted', { rmaNumber: null });
    const encoded = codec.encode(event);
    expect(codec.decode('order', encoded.body)).toStrictEqual(event);
  });

  it('pads decimals with fewer fraction digits to the scale', () => {
    const encoded = codec.encode(withPayload('StockLevelChanged', { onHand: '120', reserved: '12.5' }));
    expect(codec.decode('inventory', encoded.body).payload).toMatchObject({ onHand: '120.000', reserved: '12.500' });
  });

  it.each([
    ['999999999999999.999', '999999999999999.999'],
    ['-999999999999999.999', '-999999999999999.999'],
    ['0.001', '0.001'],
    ['-0', '0.000'],
  ])('writes quantity %s exactly at the edge of decimal(18,3)', (onHand, read) => {
    const encoded = codec.encode(withPayload('StockLevelChanged', { onHand }));
    expect(codec.decode('inventory', encoded.body).payload).toMatchObject({ onHand: read });
  });

  it('writes decimals as Avro decimal bytes: big-endian two’s complement of the unscaled value', () => {
    const body = codec.encode(withPayload('StockLevelChanged', { onHand: '12.500' })).body;
    const raw = avro.Type.forSchema(readCanonicalSchema('inventory') as avro.Schema, { wrapUnions: true }).fromBuffer(
      body,
    ) as { event: Record<string, { onHand: Buffer }> };
    // 12.500 at scale 3 is 12500 = 0x30d4.
    expect(raw.event['cdcsync.canonical.inventory.v1.StockLevelChanged']!.onHand).toEqual(Buffer.from([0x30, 0xd4]));
  });

  it.each([
    [
      'a decimal with more fraction digits than its scale',
      withPayload('PaymentCaptured', { amount: '19.99001' }),
      `Decimal "19.99001" has more fraction digits than scale 4 in field payload.amount of ${payment}`,
    ],
    [
      'a quantity with more fraction digits than its scale',
      withPayload('StockLevelChanged', { onHand: '1.0005' }),
      `Decimal "1.0005" has more fraction digits than scale 3 in field payload.onHand of ${stock}`,
    ],
    [
      'a decimal beyond its precision',
      withPayload('StockLevelChanged', { available: '1000000000000000.000' }),
      `Decimal "1000000000000000.000" has more digits than precision 18 in field payload.available of ${stock}`,
    ],
    [
      'a decimal that is no plain decimal',
      withPayload('OrderLineChanged', { quantity: '1e3' }),
      `Invalid decimal "1e3" in field payload.quantity of ${line}`,
    ],
    [
      'a decimal given as a number',
      withPayload('OrderLineChanged', { unitPrice: 19.99 }),
      `Invalid decimal 19.99, expected a string in field payload.unitPrice of ${line}`,
    ],
    [
      'a string that is not a string',
      withPayload('OrderAccepted', { customerId: 77 }),
      `Invalid string 77 in field payload.customerId of ${accepted}`,
    ],
    [
      'null in a field that is not nullable',
      withPayload('OrderAccepted', { channel: null }),
      `Invalid string null in field payload.channel of ${accepted}`,
    ],
    [
      'a line number that is no int',
      withPayload('OrderLineChanged', { lineNo: 2 ** 31 }),
      `Invalid int 2147483648 in field payload.lineNo of ${line}`,
    ],
    [
      'a boolean given as a string',
      withPayload('OrderLineChanged', { removed: 'false' }),
      `Invalid boolean "false" in field payload.removed of ${line}`,
    ],
    [
      'a commit time with a fraction',
      withMeta('PaymentCaptured', { sourceCommittedAt: 1.5 }),
      `Invalid timestamp-millis 1.5 in field meta.sourceCommittedAt of ${payment}`,
    ],
    [
      'a missing field',
      withPayload('PaymentCaptured', { currency: undefined }),
      `Missing field payload.currency of ${payment}`,
    ],
    [
      'a field the schema does not have',
      withPayload('PaymentCaptured', { note: 'x' }),
      `Unknown field payload.note of ${payment}; PaymentCaptured has no such field`,
    ],
    [
      'a meta field the schema does not have',
      withMeta('PaymentCaptured', { tenant: 'x' }),
      `Unknown field meta.tenant of ${payment}; EventMeta has no such field`,
    ],
    [
      'an unknown order status',
      withPayload('OrderAccepted', { status: 'SHIPPING' }),
      `Unknown order status "SHIPPING" in field payload.status of ${accepted}`,
    ],
    [
      'an unknown event type',
      withMeta('OrderDeleted', { eventType: 'OrderArchived' }),
      'Unknown event type "OrderArchived"; known: StockLevelChanged, OrderAccepted, OrderStatusChanged, OrderCancelled, OrderDeleted, OrderLineChanged, PaymentCaptured, ShipmentDispatched, ReturnReceived, RefundCompleted, OrderHeaderChanged',
    ],
    [
      'an aggregate key other than sku@location',
      withMeta('StockLevelChanged', { aggregateKey: 'SKU-1001' }),
      `Aggregate key "SKU-1001" of ${stock} differs from its payload's "SKU-1001@WH-EAST"`,
    ],
    [
      'an aggregate key other than the order number',
      withPayload('OrderAccepted', { orderNumber: 'SO-1' }),
      `Aggregate key "SO-10042" of ${accepted} differs from its payload's "SO-1"`,
    ],
  ])('refuses to encode %s, naming field and value', (_label, event, message) => {
    expect(() => codec.encode(event)).toThrow(new RangeError(message));
  });

  it('reads data written with every released schema version', () => {
    for (const { schema } of readSchemaHistory('order')) {
      const reader = codec.readerFor(schema);
      const body = codec.encode(CANONICAL_SAMPLES.OrderLineChanged).body;
      expect(reader.decode(body)).toStrictEqual(CANONICAL_SAMPLES.OrderLineChanged);
    }
  });

  it('reads data written with an older schema into a newer one, filling new optional fields', () => {
    const current = readCanonicalSchema('order') as { fields: { type: unknown }[] };
    const newer = structuredClone(current) as typeof current;
    const union = newer.fields[1]!.type as { name: string; fields: unknown[] }[];
    union
      .find((r) => r.name === 'OrderDeleted')!
      .fields.push({ name: 'reason', type: ['null', 'string'], default: null });
    const upgraded = createCanonicalCodec({}, { schemas: { order: newer } });
    const body = codec.encode(CANONICAL_SAMPLES.OrderDeleted).body;
    expect(upgraded.readerFor(current).decode(body)).toStrictEqual({
      meta: CANONICAL_SAMPLES.OrderDeleted.meta,
      payload: { orderNumber: 'SO-10042', reason: null },
    });
  });

  it('says when this build cannot read a newer writer schema', () => {
    const newer = structuredClone(readCanonicalSchema('order')) as { fields: { type: unknown }[] };
    (newer.fields[1]!.type as unknown[]).push({ type: 'record', name: 'OrderInvoiced', fields: [] });
    expect(() => codec.readerFor(newer)).toThrow(
      new RangeError(
        'The current cdcsync.canonical.order.v1.OrderEvent schema cannot read this writer schema: OrderEvent.event: no branch reads cdcsync.canonical.order.v1.OrderInvoiced',
      ),
    );
  });

  it('refuses a writer schema that is no canonical envelope', () => {
    expect(() => codec.readerFor({ type: 'record', name: 'erp.Envelope', fields: [] })).toThrow(
      new RangeError(
        'Schema erp.Envelope is no canonical envelope; expected cdcsync.canonical.inventory.v1.InventoryEvent or cdcsync.canonical.order.v1.OrderEvent',
      ),
    );
  });

  it.each([
    [
      'an event type other than its payload record',
      rawBody('order', {
        meta: { ...CANONICAL_SAMPLES.OrderDeleted.meta, eventType: 'OrderCancelled' },
        event: { 'cdcsync.canonical.order.v1.OrderDeleted': { orderNumber: 'SO-10042' } },
      }),
      `Event type "OrderCancelled" in field meta.eventType of OrderDeleted event ${CANONICAL_SAMPLES.OrderDeleted.meta.eventId} differs from its payload's`,
    ],
    [
      'an order status this build does not know',
      rawBody('order', {
        meta: CANONICAL_SAMPLES.OrderCancelled.meta,
        event: { 'cdcsync.canonical.order.v1.OrderCancelled': { orderNumber: 'SO-10042', fromStatus: 'ON_HOLD' } },
      }),
      `Unknown order status "ON_HOLD" in field payload.fromStatus of OrderCancelled event ${CANONICAL_SAMPLES.OrderCancelled.meta.eventId}`,
    ],
    [
      'trailing bytes',
      Buffer.concat([codec.encode(CANONICAL_SAMPLES.OrderDeleted).body, Buffer.from([0])]),
      '1 trailing bytes after the Avro body of cdcsync.canonical.order.v1.OrderEvent',
    ],
    [
      'a truncated body',
      codec.encode(CANONICAL_SAMPLES.OrderDeleted).body.subarray(0, 20),
      'Truncated Avro body of 20 bytes for cdcsync.canonical.order.v1.OrderEvent',
    ],
  ])('refuses to decode %s', (_label, body, message) => {
    expect(() => codec.decode('order', body)).toThrow(new RangeError(message));
  });
});
