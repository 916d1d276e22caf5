import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { format, resolveConfig } from 'prettier';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type CanonicalEventType,
  type CanonicalPayloads,
  EVENT_STREAM,
  type EventMeta,
  type EventStream,
  ORDER_STATUS,
  ORDER_MILESTONES,
  type OrderMilestone,
  type OrderStatus,
} from '../../core/canonical.js';
import { type SCALE } from '../../core/decimal.js';
import { CANONICAL_TOPICS } from '../../core/canonical.js';
import { createCanonicalCodec, ORDER_STATUS_FIELDS, type OrderStatusKeys } from './codec.js';
import { backwardIncompatibilities } from './compatibility.js';
import { CANONICAL_SAMPLES } from './samples.js';
import { readCanonicalSchema, readSchemaHistory, schemasDirectory } from './schema-files.js';
import { describeEnvelope, type RecordNode, typeLabel } from './schema-model.js';

const STREAMS = ['inventory', 'order'] as const satisfies readonly EventStream[];
const EVENT_TYPES = Object.keys(EVENT_STREAM) as CanonicalEventType[];

// The TypeScript side of the contract, spelled out once per field. `satisfies` makes tsc check every
// entry against core/canonical.ts: a field missing here or not in the type fails the type check, and
// so does a kind the field's TypeScript type cannot hold. The tests below check the same tables
// against the schemas, so a field added to only one side fails one of the two.

type QuantityKind = `decimal(18,${typeof SCALE.quantity})`;
type MoneyKind = `decimal(19,${typeof SCALE.money})`;

/** The kinds a field of TypeScript type `T` may have in the schema. */
type KindOf<T> = null extends T
  ? `${KindOf<Exclude<T, null | undefined>>} or null`
  : [T] extends [boolean]
    ? 'boolean'
    : [T] extends [number]
      ? 'int' | 'timestamp-millis'
      : [string] extends [T]
        ? 'string' | QuantityKind | MoneyKind
        : [T] extends [CanonicalEventType]
          ? 'eventType'
          : [T] extends [OrderStatus]
            ? 'orderStatus'
            : [T] extends [OrderMilestone]
              ? 'orderMilestone'
              : never;

const META_KINDS = {
  eventId: 'string',
  eventType: 'eventType',
  aggregateKey: 'string',
  sourceTable: 'string',
  sourcePosition: 'string',
  sourceCommittedAt: 'timestamp-millis',
  correlationId: 'string',
} as const satisfies { readonly [F in keyof EventMeta]-?: KindOf<EventMeta[F]> };

const PAYLOAD_KINDS = {
  StockLevelChanged: {
    sku: 'string',
    location: 'string',
    onHand: 'decimal(18,3)',
    reserved: 'decimal(18,3)',
    safetyStock: 'decimal(18,3)',
    available: 'decimal(18,3)',
    removed: 'boolean',
  },
  OrderAccepted: {
    orderNumber: 'string',
    customerId: 'string',
    customerEmail: 'string or null',
    channel: 'string',
    status: 'orderStatus',
    erpStatus: 'string',
    currency: 'string',
    orderTotal: 'decimal(19,4)',
    placedAt: 'string',
    milestone: 'orderMilestone or null',
    milestoneAt: 'string or null',
  },
  OrderStatusChanged: {
    orderNumber: 'string',
    fromStatus: 'orderStatus',
    toStatus: 'orderStatus',
    fromErpStatus: 'string',
    toErpStatus: 'string',
    milestone: 'orderMilestone or null',
    milestoneAt: 'string or null',
  },
  OrderCancelled: { orderNumber: 'string', fromStatus: 'orderStatus' },
  OrderDeleted: { orderNumber: 'string' },
  OrderLineChanged: {
    orderNumber: 'string',
    lineNo: 'int',
    sku: 'string',
    quantity: 'decimal(18,3)',
    unitPrice: 'decimal(19,4)',
    lineStatus: 'string',
    location: 'string or null',
    removed: 'boolean',
  },
  PaymentCaptured: {
    orderNumber: 'string',
    paymentId: 'string',
    amount: 'decimal(19,4)',
    currency: 'string',
    pspReference: 'string or null',
    capturedAt: 'string',
  },
  ShipmentDispatched: {
    orderNumber: 'string',
    shipmentId: 'string',
    carrier: 'string',
    trackingNumber: 'string',
    location: 'string',
    shippedAt: 'string',
  },
  ReturnReceived: { orderNumber: 'string', rmaNumber: 'string', reason: 'string or null', receivedAt: 'string' },
  RefundCompleted: {
    orderNumber: 'string',
    refundId: 'string',
    rmaNumber: 'string or null',
    amount: 'decimal(19,4)',
    currency: 'string',
    completedAt: 'string',
  },
  OrderHeaderChanged: {
    orderNumber: 'string',
    customerId: 'string',
    customerEmail: 'string or null',
    channel: 'string',
    currency: 'string',
    orderTotal: 'decimal(19,4)',
    placedAt: 'string',
  },
} as const satisfies {
  readonly [E in CanonicalEventType]: { readonly [F in keyof CanonicalPayloads[E]]-?: KindOf<CanonicalPayloads[E][F]> };
};

/** The schema-side label of a TypeScript kind: statuses and event types are Avro strings. */
function schemaLabel(kind: string): string {
  return kind.replace(/^(orderStatus|eventType|orderMilestone)\b/, 'string');
}

function kindsOf(record: RecordNode): Record<string, string> {
  return Object.fromEntries(record.fields.map((field) => [field.name, typeLabel(field.type)]));
}

function envelope(stream: EventStream) {
  return describeEnvelope(readCanonicalSchema(stream));
}

/** Every record and field of a schema, with its doc; named references are not walked twice. */
function docsOf(schema: unknown, path = ''): { path: string; doc: unknown }[] {
  if (Array.isArray(schema)) return schema.flatMap((branch) => docsOf(branch, path));
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  if (node['type'] === 'record') {
    const name = `${path}${String(node['name'])}`;
    return [
      { path: name, doc: node['doc'] },
      ...(node['fields'] as Record<string, unknown>[]).flatMap((field) => [
        { path: `${name}.${String(field['name'])}`, doc: field['doc'] },
        ...docsOf(field['type'], `${name}.${String(field['name'])}/`),
      ]),
    ];
  }
  return docsOf(node['type'], path);
}

/** A deep copy of the current order schema, changed by `change`. */
function mutateOrder(change: (schema: MutableRecord) => void): MutableRecord {
  const schema = structuredClone(readCanonicalSchema('order')) as MutableRecord;
  change(schema);
  return schema;
}

type MutableRecord = {
  type?: string;
  name: string;
  doc?: string;
  fields: { name: string; type: unknown; default?: unknown; doc?: string }[];
};

function branch(schema: MutableRecord, name: string): MutableRecord {
  const union = schema.fields.find((field) => field.name === 'event')!.type as MutableRecord[];
  return union.find((record) => record.name === name)!;
}

function field(record: MutableRecord, name: string) {
  return record.fields.find((candidate) => candidate.name === name)!;
}

describe('canonical schema files', () => {
  it.each(STREAMS)('%s parses with avsc and has the envelope shape', (stream) => {
    const schema = readCanonicalSchema(stream);
    expect(() => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true })).not.toThrow();
    const model = envelope(stream);
    expect(model.record.name).toBe(
      `cdcsync.canonical.${stream}.v1.${stream === 'inventory' ? 'Inventory' : 'Order'}Event`,
    );
    expect(model.meta.name).toBe('cdcsync.canonical.v1.EventMeta');
  });

  it.each(STREAMS)('%s has a non-empty doc on every record and field', (stream) => {
    const docs = docsOf(readCanonicalSchema(stream));
    expect(docs.length).toBeGreaterThan(10);
    expect(docs.filter(({ doc }) => typeof doc !== 'string' || doc.trim() === '').map(({ path }) => path)).toEqual([]);
  });

  it.each(STREAMS)('%s is versioned like its topic', (stream) => {
    const version = /\.(v\d+)$/.exec(CANONICAL_TOPICS[stream])![1];
    expect(envelope(stream).record.name).toContain(`.${stream}.${version}.`);
  });

  it('defines EventMeta identically in every schema', () => {
    const [inventory, order] = STREAMS.map((stream) =>
      (readCanonicalSchema(stream) as MutableRecord).fields.find((f) => f.name === 'meta')!,
    );
    expect(order).toEqual(inventory);
  });

  it.each(STREAMS)('%s declares every nullable field as ["null", T] with default null', (stream) => {
    const nullable = (readCanonicalSchema(stream) as MutableRecord).fields
      .flatMap((f) => (Array.isArray(f.type) ? (f.type as MutableRecord[]) : [f.type as MutableRecord]))
      .flatMap((record) => record.fields.filter((f) => Array.isArray(f.type)));
    for (const f of nullable) {
      expect(f, f.name).toMatchObject({ type: ['null', expect.any(String)], default: null });
    }
  });

  it('lists exactly the ORDER_STATUS values in the doc of every status field', () => {
    const order = envelope('order');
    const fields = Object.entries(ORDER_STATUS_FIELDS).flatMap(([eventType, names]) =>
      names.map((name) => order.events.find((e) => e.shortName === eventType)!.fields.find((f) => f.name === name)!),
    );
    expect(fields).toHaveLength(4);
    for (const f of fields) {
      const listed = /One of ([A-Z_]+(?:, [A-Z_]+)*)/.exec(f.doc ?? '')?.[1]?.split(', ');
      expect(listed, f.name).toEqual(Object.values(ORDER_STATUS));
    }
  });
  it('lists exactly the ORDER_MILESTONES in the doc of every milestone field', () => {
    const fields = envelope('order').events.flatMap((e) => e.fields.filter((f) => f.name === 'milestone'));
    expect(fields).toHaveLength(2);
    for (const f of fields) {
      const listed = /One of ([A-Za-z]+(?:, [A-Za-z]+)*)/.exec(f.doc ?? '')?.[1]?.split(', ');
      expect(listed, f.name).toEqual([...ORDER_MILESTONES]);
    }
  });
});

describe('TypeScript types against the schemas', () => {
  it.each(STREAMS)('%s has exactly the event types EVENT_STREAM gives it, named as in TypeScript', (stream) => {
    expect(envelope(stream).events.map((record) => record.shortName)).toEqual(
      EVENT_TYPES.filter((type) => EVENT_STREAM[type] === stream),
    );
  });

  it.each(STREAMS)('%s meta has exactly the EventMeta fields, with matching types', (stream) => {
    expect(kindsOf(envelope(stream).meta)).toEqual(
      Object.fromEntries(Object.entries(META_KINDS).map(([name, kind]) => [name, schemaLabel(kind)])),
    );
  });

  it.each(EVENT_TYPES)('%s has exactly the payload fields of its TypeScript type, with matching types', (eventType) => {
    const record = envelope(EVENT_STREAM[eventType]).events.find((r) => r.shortName === eventType)!;
    const expected: Record<string, string> = PAYLOAD_KINDS[eventType];
    expect(kindsOf(record)).toEqual(Object.fromEntries(Object.entries(expected).map(([n, k]) => [n, schemaLabel(k)])));
    // The codec's status check covers exactly the fields typed OrderStatus.
    expect(Object.keys(expected).filter((name) => expected[name] === 'orderStatus')).toEqual(
      ORDER_STATUS_FIELDS[eventType],
    );
  });

  it('ORDER_STATUS_FIELDS names exactly the OrderStatus-typed fields (checked by tsc)', () => {
    expectTypeOf<{ [E in CanonicalEventType]: (typeof ORDER_STATUS_FIELDS)[E][number] }>().toEqualTypeOf<{
      [E in CanonicalEventType]: OrderStatusKeys<CanonicalPayloads[E]>;
    }>();
  });

  it.each(EVENT_TYPES)('a fully populated %s round-trips through the codec unchanged', (eventType) => {
    const codec = createCanonicalCodec();
    const sample = CANONICAL_SAMPLES[eventType];
    const record = envelope(EVENT_STREAM[eventType]).events.find((r) => r.shortName === eventType)!;
    expect(Object.keys(sample.payload).sort()).toEqual(record.fields.map((f) => f.name).sort());
    expect(Object.keys(sample.meta).sort()).toEqual(
      envelope(EVENT_STREAM[eventType])
        .meta.fields.map((f) => f.name)
        .sort(),
    );
    for (const value of Object.values(sample.payload)) expect(value).not.toBeNull();

    const encoded = codec.encode(sample);
    expect(encoded.topic).toBe(CANONICAL_TOPICS[EVENT_STREAM[eventType]]);
    expect(codec.decode(encoded.stream, encoded.body)).toStrictEqual(sample);
  });
});

describe('schema history', () => {
  const released = STREAMS.flatMap((stream) =>
    readSchemaHistory(stream).map(({ version, schema }) => ({ stream, version, schema })),
  );

  it.each(STREAMS)('%s has released versions', (stream) => {
    expect(readSchemaHistory(stream).length).toBeGreaterThan(0);
  });

  it.each(released)('the current $stream schema reads data written with v$version (BACKWARD)', ({ stream, schema }) => {
    expect(backwardIncompatibilities(readCanonicalSchema(stream), schema)).toEqual([]);
  });
});

describe('the BACKWARD check', () => {
  // Each row changes the current order schema; the changed schema, as reader, must read data written with the current one.
  it.each([
    [
      'a new field without a default',
      mutateOrder((s) => branch(s, 'OrderDeleted').fields.push({ name: 'reason', type: 'string', doc: 'Why' })),
      [
        'OrderEvent.event.OrderDeleted: no matching field for default-less cdcsync.canonical.order.v1.OrderDeleted.reason',
      ],
    ],
    [
      'a new meta field without a default',
      mutateOrder((s) => (s.fields[0]!.type as MutableRecord).fields.push({ name: 'tenant', type: 'string' })),
      ['OrderEvent.meta: no matching field for default-less cdcsync.canonical.v1.EventMeta.tenant'],
    ],
    [
      'a removed event type',
      mutateOrder((s) => {
        const union = s.fields[1]!.type as MutableRecord[];
        union.splice(
          union.findIndex((r) => r.name === 'RefundCompleted'),
          1,
        );
      }),
      ['OrderEvent.event: no branch reads cdcsync.canonical.order.v1.RefundCompleted'],
    ],
    [
      'a renamed event type',
      mutateOrder((s) => (branch(s, 'OrderCancelled').name = 'OrderCanceled')),
      ['OrderEvent.event: no branch reads cdcsync.canonical.order.v1.OrderCancelled'],
    ],
    [
      'a changed field type',
      mutateOrder((s) => (field(branch(s, 'OrderLineChanged'), 'lineNo').type = 'string')),
      ['OrderEvent.event.OrderLineChanged.lineNo: cannot read "int" as "string"'],
    ],
    [
      'a nullable field made required',
      mutateOrder((s) => {
        const email = field(branch(s, 'OrderAccepted'), 'customerEmail');
        email.type = 'string';
        delete email.default;
      }),
      ['OrderEvent.event.OrderAccepted.customerEmail: cannot read "null" as "string"'],
    ],
    [
      'a changed decimal scale',
      mutateOrder((s) => {
        const price = field(branch(s, 'OrderLineChanged'), 'unitPrice');
        price.type = { ...(price.type as object), scale: 2 };
      }),
      ['OrderEvent.event.OrderLineChanged.unitPrice: cannot read decimal(19,4) as decimal(19,2)'],
    ],
    [
      'a decimal read as a string',
      mutateOrder((s) => (field(branch(s, 'PaymentCaptured'), 'amount').type = 'string')),
      ['OrderEvent.event.PaymentCaptured.amount: cannot read decimal(19,4) as "string"'],
    ],
    [
      'a nullable decimal with another scale',
      mutateOrder((s) => {
        const amount = field(branch(s, 'PaymentCaptured'), 'amount');
        amount.type = ['null', { ...(amount.type as object), scale: 2 }];
        amount.default = null;
      }),
      ['OrderEvent.event.PaymentCaptured.amount: cannot read decimal(19,4) as decimal(19,2)'],
    ],
    [
      'a renamed envelope',
      mutateOrder((s) => (s.name = 'OrderEnvelope')),
      ['OrderEnvelope: no alias found for cdcsync.canonical.order.v1.OrderEvent'],
    ],
    [
      'two problems at once',
      mutateOrder((s) => {
        field(branch(s, 'PaymentCaptured'), 'amount').type = 'int';
        field(branch(s, 'ShipmentDispatched'), 'carrier').type = 'int';
      }),
      [
        'OrderEvent.event.PaymentCaptured.amount: cannot read "bytes" as "int"',
        'OrderEvent.event.ShipmentDispatched.carrier: cannot read "string" as "int"',
      ],
    ],
  ])('rejects %s', (_label, changed, problems) => {
    expect(backwardIncompatibilities(changed, readCanonicalSchema('order'))).toEqual(problems);
  });

  it.each([
    [
      'a new event type',
      mutateOrder((s) =>
        (s.fields[1]!.type as MutableRecord[]).push({
          type: 'record',
          name: 'OrderInvoiced',
          fields: [{ name: 'orderNumber', type: 'string' }],
        }),
      ),
    ],
    [
      'a new nullable field with default null',
      mutateOrder((s) =>
        branch(s, 'OrderDeleted').fields.push({ name: 'reason', type: ['null', 'string'], default: null }),
      ),
    ],
    [
      'a new field with a default',
      mutateOrder((s) => branch(s, 'OrderDeleted').fields.push({ name: 'soft', type: 'boolean', default: false })),
    ],
    ['an int widened to long', mutateOrder((s) => (field(branch(s, 'OrderLineChanged'), 'lineNo').type = 'long'))],
    [
      'a decimal with more precision',
      mutateOrder((s) => {
        const price = field(branch(s, 'OrderLineChanged'), 'unitPrice');
        price.type = { ...(price.type as object), precision: 28 };
      }),
    ],
    ['a removed field', mutateOrder((s) => branch(s, 'OrderLineChanged').fields.pop())],
    ['reordered event types', mutateOrder((s) => (s.fields[1]!.type as MutableRecord[]).reverse())],
    ['changed docs', mutateOrder((s) => (branch(s, 'OrderDeleted').fields[0]!.doc = 'Changed'))],
  ])('accepts %s', (_label, changed) => {
    expect(backwardIncompatibilities(changed, readCanonicalSchema('order'))).toEqual([]);
  });
});

describe('schemas/README.md', () => {
  it('lists every event type with the fields of the current schemas', async () => {
    const path = join(schemasDirectory(), 'README.md');
    const current = readFileSync(path, 'utf8');
    const start = current.indexOf(GENERATED_START);
    const end = current.indexOf(GENERATED_END);
    expect(start, `${GENERATED_START} marker in ${path}`).toBeGreaterThan(-1);
    expect(end, `${GENERATED_END} marker in ${path}`).toBeGreaterThan(start);
    const updated = await format(
      `${current.slice(0, start + GENERATED_START.length)}\n\n${renderEvents()}\n${current.slice(end)}`,
      { ...(await resolveConfig(path)), filepath: path },
    );
    if (updated !== current && process.env['UPDATE_SCHEMA_DOCS'] === '1') writeFileSync(path, updated);
    // On failure: UPDATE_SCHEMA_DOCS=1 npx vitest run --project unit connectors/canonical/schemas.test.ts
    else expect(current).toBe(updated);
  });
});

const GENERATED_START = '<!-- generated from the schemas by connectors/canonical/schemas.test.ts: start -->';
const GENERATED_END = '<!-- generated: end -->';

function renderEvents(): string {
  const table = (record: RecordNode) =>
    [
      '| Field | Type | Meaning |',
      '| --- | --- | --- |',
      ...record.fields.map((f) => `| \`${f.name}\` | ${typeLabel(f.type)} | ${(f.doc ?? '').replaceAll('|', '\\|')} |`),
    ].join('\n');
  const sections = [
    `### EventMeta (\`meta\` of every event)\n\n${envelope('inventory').meta.doc}\n\n${table(envelope('inventory').meta)}`,
  ];
  for (const stream of STREAMS) {
    for (const record of envelope(stream).events) {
      sections.push(`### ${record.shortName} (\`${CANONICAL_TOPICS[stream]}\`)\n\n${record.doc}\n\n${table(record)}`);
    }
  }
  return sections.join('\n\n');
}
