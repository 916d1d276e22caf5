import avro from 'avsc';
import { z } from 'zod';
import {
  CANONICAL_TOPICS,
  type CanonicalEvent,
  type CanonicalEventType,
  type CanonicalPayloads,
  type EventStream,
  ORDER_STATUS,
  type OrderStatus,
} from '../../core/canonical.js';
import { ConfigError } from '../../core/errors.js';
import {
  bytesFromUnscaled,
  decimalFromUnscaled,
  unscaledFromBytes,
  unscaledFromDecimal,
} from '../avro/debezium-types.js';
import { backwardIncompatibilities } from './compatibility.js';
import { CANONICAL_SCHEMA_NAMES, readCanonicalSchema } from './schema-files.js';
import { describeEnvelope, type EnvelopeModel, type RecordNode, type SchemaNode } from './schema-model.js';

/**
 * The canonical topics of the pipeline's `topics` section, one per stream. The composed config and the codec both
 * take them from here, with {@link distinctCanonicalTopics}.
 */
export const canonicalTopicsSchema = z.object({
  inventory: z.string().min(1).default(CANONICAL_TOPICS.inventory).describe('Canonical inventory events'),
  order: z.string().min(1).default(CANONICAL_TOPICS.order).describe('Canonical order events'),
});

/** The validated canonical topics. */
export type CanonicalTopics = z.output<typeof canonicalTopicsSchema>;

/** The refinement both the codec's settings and the pipeline's `topics` section apply: one topic per stream. */
export const distinctCanonicalTopics: [(topics: CanonicalTopics) => boolean, { message: string; path: string[] }] = [
  (topics) => topics.inventory !== topics.order,
  { message: 'Inventory and order events need distinct topics', path: ['order'] },
];

/**
 * Encodes canonical events into the Avro body of their topic's envelope
 * (`schemas/canonical/*.avsc`) and decodes them back. Framing and the
 * registry are `registry.ts`'s business.
 */
export const canonicalCodecConfigSchema = z.object({
  topics: canonicalTopicsSchema
    .prefault({})
    .refine(...distinctCanonicalTopics)
    .describe('Topic of each canonical stream'),
});

export type CanonicalCodecConfig = z.input<typeof canonicalCodecConfigSchema>;

/** Replaces the schema files, for tools and tests that evolve a schema; production code passes none. */
export type CanonicalCodecOverrides = {
  readonly schemas?: Partial<Readonly<Record<EventStream, unknown>>>;
};

/** One stream: its topic and its envelope schema, as JSON and as the exact text to register. */
export type CanonicalStream = {
  readonly stream: EventStream;
  readonly topic: string;
  /** Full name of the envelope record, e.g. `cdcsync.canonical.order.v1.OrderEvent`. */
  readonly name: string;
  readonly schema: unknown;
  /** `JSON.stringify` of the schema: the same bytes every time, so registering again finds the same version. */
  readonly text: string;
  readonly model: EnvelopeModel;
};

/** An encoded event: where it goes and its unframed Avro body. */
export type EncodedCanonicalEvent = {
  readonly stream: EventStream;
  readonly topic: string;
  /** The Kafka key, `meta.aggregateKey`, to be written as a UTF-8 string. */
  readonly key: string;
  readonly body: Buffer;
};

/**
 * Reads bodies written with one writer schema into the current envelope,
 * by Avro schema resolution. `decode` throws a `RangeError` naming the field
 * and the event for a value the TypeScript types cannot hold (an unknown
 * order status, an event type other than its `meta.eventType`), and avsc's
 * `Error` for bytes that are not valid Avro of the writer schema, truncated
 * or followed by trailing bytes.
 */
export type CanonicalReader = {
  readonly stream: EventStream;
  readonly decode: (body: Uint8Array) => CanonicalEvent;
};

/**
 * The canonical codec. `encode` throws a `RangeError` naming the field, the
 * value and the event for a value the schema cannot hold exactly: a decimal
 * with more fraction digits than its scale (never rounded) or more digits
 * than its precision, a missing or unknown field, a wrong type, an unknown
 * order status, an unknown event type, or a `meta.aggregateKey` other than
 * the payload's key (`sku@location`, the order number).
 */
export type CanonicalCodec = {
  readonly streams: Readonly<Record<EventStream, CanonicalStream>>;
  /** The topic of an event type; throws a `RangeError` for an event type no schema has. */
  readonly topicFor: (eventType: CanonicalEventType) => string;
  /** The Kafka key of an event: its `meta.aggregateKey`. */
  readonly keyFor: (event: CanonicalEvent) => string;
  readonly encode: (event: CanonicalEvent) => EncodedCanonicalEvent;
  /** Decodes a body written with the current schema of `stream`. */
  readonly decode: (stream: EventStream, body: Uint8Array) => CanonicalEvent;
  /**
   * A reader for bodies written with `writerSchema` (JSON or its text), e.g.
   * an older version from the registry. Throws a `RangeError` when the
   * writer is no canonical envelope, or the current schema cannot read it
   * (a newer writer with an event type this build does not know).
   */
  readonly readerFor: (writerSchema: unknown) => CanonicalReader;
};

/** Payload fields that hold an {@link OrderStatus}; a test checks this table against the TypeScript types. */
export const ORDER_STATUS_FIELDS = {
  StockLevelChanged: [],
  OrderAccepted: ['status'],
  OrderStatusChanged: ['fromStatus', 'toStatus'],
  OrderCancelled: ['fromStatus'],
  OrderDeleted: [],
  OrderLineChanged: [],
  PaymentCaptured: [],
  ShipmentDispatched: [],
  ReturnReceived: [],
  RefundCompleted: [],
  OrderHeaderChanged: [],
} as const satisfies { readonly [K in CanonicalEventType]: readonly OrderStatusKeys<CanonicalPayloads[K]>[] };

/** The keys of `T` whose type is exactly {@link OrderStatus}. */
export type OrderStatusKeys<T> = {
  [K in keyof T]-?: [T[K]] extends [OrderStatus] ? ([OrderStatus] extends [T[K]] ? K : never) : never;
}[keyof T];

/**
 * Creates the codec from the schema files (or `overrides.schemas`). Throws a
 * `ConfigError` naming the key path of an invalid setting, or the stream of
 * a schema that is not a canonical envelope.
 */
export function createCanonicalCodec(
  config: CanonicalCodecConfig = {},
  overrides: CanonicalCodecOverrides = {},
): CanonicalCodec {
  const parsed = canonicalCodecConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid canonical codec setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { topics } = parsed.data;
  const compiled = (Object.keys(CANONICAL_SCHEMA_NAMES) as EventStream[]).map((stream) =>
    compileStream(stream, topics[stream], overrides.schemas?.[stream]),
  );
  const streams = Object.fromEntries(compiled.map((entry) => [entry.info.stream, entry.info])) as Record<
    EventStream,
    CanonicalStream
  >;
  const branches = new Map<string, { readonly stream: Compiled; readonly record: RecordNode }>();
  for (const stream of compiled) {
    for (const record of stream.info.model.events) {
      const other = branches.get(record.shortName);
      if (other !== undefined) {
        throw new ConfigError(
          `Event type ${record.shortName} is in both the ${other.stream.info.stream} and the ${stream.info.stream} schema`,
        );
      }
      branches.set(record.shortName, { stream, record });
    }
  }

  function branchOf(eventType: unknown): { readonly stream: Compiled; readonly record: RecordNode } {
    const branch = typeof eventType === 'string' ? branches.get(eventType) : undefined;
    if (branch === undefined) {
      throw new RangeError(
        `Unknown event type ${JSON.stringify(eventType)}; known: ${[...branches.keys()].join(', ')}`,
      );
    }
    return branch;
  }

  function readerFor(writerSchema: unknown): CanonicalReader {
    const json: unknown = typeof writerSchema === 'string' ? JSON.parse(writerSchema) : writerSchema;
    const writer = avro.Type.forSchema(json as avro.Schema, avscOptions());
    const stream = compiled.find((candidate) => candidate.info.name === writer.name);
    if (stream === undefined) {
      throw new RangeError(
        `Schema ${String(writer.name)} is no canonical envelope; expected ${compiled.map((c) => c.info.name).join(' or ')}`,
      );
    }
    let resolver: avro.Resolver | undefined;
    if (!stream.type.equals(writer)) {
      try {
        resolver = stream.type.createResolver(writer);
      } catch (error: unknown) {
        // avsc names only the first union branch it cannot read; the compatibility check names every problem's place.
        const problems = backwardIncompatibilities(stream.info.schema, json);
        const detail =
          problems.length > 0 ? problems.join('; ') : error instanceof Error ? error.message : String(error);
        throw new RangeError(`The current ${stream.info.name} schema cannot read this writer schema: ${detail}`, {
          cause: error,
        });
      }
    }
    return { stream: stream.info.stream, decode: (body) => decodeBody(stream, body, resolver) };
  }

  const currentReaders = Object.fromEntries(
    compiled.map((stream) => [
      stream.info.stream,
      { stream: stream.info.stream, decode: (body: Uint8Array) => decodeBody(stream, body, undefined) },
    ]),
  ) as Record<EventStream, CanonicalReader>;

  return {
    streams,
    topicFor: (eventType) => branchOf(eventType).stream.info.topic,
    keyFor: (event) => event.meta.aggregateKey,
    encode(event) {
      const eventType: unknown = event?.meta?.eventType;
      const { stream, record } = branchOf(eventType);
      const where = `${String(eventType)} event ${String(event.meta.eventId)}`;
      const meta = recordToAvro(stream.info.model.meta, event.meta, 'meta', where);
      const payload = recordToAvro(record, event.payload, 'payload', where);
      checkOrderStatuses(record.shortName, event.payload, where);
      const expectedKey = AGGREGATE_KEY[stream.info.stream](event.payload as unknown as Record<string, unknown>);
      if (event.meta.aggregateKey !== expectedKey) {
        throw new RangeError(
          `Aggregate key ${JSON.stringify(event.meta.aggregateKey)} of ${where} differs from its payload's ${JSON.stringify(expectedKey)}`,
        );
      }
      const body = stream.type.toBuffer({ meta, event: { [record.name]: payload } });
      return { stream: stream.info.stream, topic: stream.info.topic, key: event.meta.aggregateKey, body };
    },
    decode: (stream, body) => currentReaders[stream].decode(body),
    readerFor,
  };
}

/**
 * Wrapped unions throughout: the event union keeps one shape however many
 * branches it has. A new object each time: avsc keeps its registry of names in it.
 */
function avscOptions(): { wrapUnions: true } {
  return { wrapUnions: true };
}

/** The key every event of a stream must carry in `meta.aggregateKey`. */
const AGGREGATE_KEY: Record<EventStream, (payload: Record<string, unknown>) => string> = {
  inventory: (payload) => `${String(payload['sku'])}@${String(payload['location'])}`,
  order: (payload) => String(payload['orderNumber']),
};

const ORDER_STATUSES: ReadonlySet<string> = new Set(Object.values(ORDER_STATUS));

type Compiled = { readonly info: CanonicalStream; readonly type: avro.Type };

function compileStream(stream: EventStream, topic: string, override: unknown): Compiled {
  try {
    const schema = override ?? readCanonicalSchema(stream);
    const model = describeEnvelope(schema);
    const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
    const text = JSON.stringify(schema);
    return { info: { stream, topic, name: model.record.name, schema, text, model }, type };
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Invalid canonical ${stream} schema: ${detail}`, { cause: error });
  }
}

function decodeBody(stream: Compiled, body: Uint8Array, resolver: avro.Resolver | undefined): CanonicalEvent {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  const { value, offset } = stream.type.decode(buffer, 0, resolver);
  if (offset < 0) throw new RangeError(`Truncated Avro body of ${buffer.length} bytes for ${stream.info.name}`);
  if (offset < buffer.length) {
    throw new RangeError(`${buffer.length - offset} trailing bytes after the Avro body of ${stream.info.name}`);
  }
  const envelope = value as { meta: unknown; event: Record<string, unknown> };
  const branchName = Object.keys(envelope.event)[0]!;
  const record = stream.info.model.events.find((candidate) => candidate.name === branchName)!;
  const rawMeta = envelope.meta as Record<string, unknown>;
  const where = `${record.shortName} event ${String(rawMeta['eventId'])}`;
  const meta = fromAvro(stream.info.model.meta, envelope.meta, 'meta', where) as Record<string, unknown>;
  const payload = fromAvro(record, envelope.event[branchName], 'payload', where);
  if (meta['eventType'] !== record.shortName) {
    throw new RangeError(
      `Event type ${JSON.stringify(meta['eventType'])} in field meta.eventType of ${where} differs from its payload's`,
    );
  }
  checkOrderStatuses(record.shortName, payload, where);
  return { meta, payload } as unknown as CanonicalEvent;
}

function checkOrderStatuses(eventType: string, payload: unknown, where: string): void {
  const fields: readonly string[] = ORDER_STATUS_FIELDS[eventType as CanonicalEventType] ?? [];
  for (const field of fields) {
    const value = (payload as Record<string, unknown>)[field];
    if (typeof value !== 'string' || !ORDER_STATUSES.has(value)) {
      throw new RangeError(`Unknown order status ${show(value)} in field payload.${field} of ${where}`);
    }
  }
}

// Values to Avro and back, driven by the schema model.

function fail(detail: string, path: string, where: string): RangeError {
  return new RangeError(`${detail} in field ${path} of ${where}`);
}

function recordToAvro(node: RecordNode, value: unknown, path: string, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(`Invalid ${node.shortName} record ${show(value)}`, path, where);
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!node.fields.some((field) => field.name === key)) {
      throw new RangeError(`Unknown field ${path}.${key} of ${where}; ${node.shortName} has no such field`);
    }
  }
  const result: Record<string, unknown> = {};
  for (const field of node.fields) {
    const fieldValue = object[field.name];
    if (fieldValue === undefined) {
      // Left out so that avsc writes the declared default.
      if (field.hasDefault) continue;
      throw new RangeError(`Missing field ${path}.${field.name} of ${where}`);
    }
    result[field.name] = toAvro(field.type, fieldValue, `${path}.${field.name}`, where);
  }
  return result;
}

function toAvro(node: SchemaNode, value: unknown, path: string, where: string): unknown {
  switch (node.kind) {
    case 'null':
      if (value !== null) throw fail(`Invalid null ${show(value)}`, path, where);
      return null;
    case 'boolean':
      if (typeof value !== 'boolean') throw fail(`Invalid boolean ${show(value)}`, path, where);
      return value;
    case 'int':
      if (!Number.isInteger(value) || (value as number) < -(2 ** 31) || (value as number) >= 2 ** 31) {
        throw fail(`Invalid int ${show(value)}`, path, where);
      }
      return value;
    case 'long':
    case 'timestamp-millis':
      if (!Number.isSafeInteger(value)) throw fail(`Invalid ${node.kind} ${show(value)}`, path, where);
      return value;
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw fail(`Invalid ${node.kind} ${show(value)}`, path, where);
      return value;
    case 'string':
      if (typeof value !== 'string') throw fail(`Invalid string ${show(value)}`, path, where);
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw fail(`Invalid bytes ${show(value)}`, path, where);
      return Buffer.from(value);
    case 'decimal': {
      if (typeof value !== 'string') throw fail(`Invalid decimal ${show(value)}, expected a string`, path, where);
      let unscaled: bigint;
      try {
        unscaled = unscaledFromDecimal(value, node.scale);
      } catch (error: unknown) {
        throw fail(error instanceof Error ? error.message : String(error), path, where);
      }
      if ((unscaled < 0n ? -unscaled : unscaled) >= 10n ** BigInt(node.precision)) {
        throw fail(`Decimal ${JSON.stringify(value)} has more digits than precision ${node.precision}`, path, where);
      }
      return bytesFromUnscaled(unscaled);
    }
    case 'enum':
      if (typeof value !== 'string' || !node.symbols.includes(value)) {
        throw fail(`Invalid ${node.name} symbol ${show(value)}`, path, where);
      }
      return value;
    case 'array':
      if (!Array.isArray(value)) throw fail(`Invalid array ${show(value)}`, path, where);
      return value.map((item: unknown, index) => toAvro(node.items, item, `${path}[${index}]`, where));
    case 'map':
      if (typeof value !== 'object' || value === null) throw fail(`Invalid map ${show(value)}`, path, where);
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, toAvro(node.values, item, `${path}.${key}`, where)]),
      );
    case 'nullable':
      return value === null ? null : { [node.branch]: toAvro(node.type, value, path, where) };
    case 'record':
      return recordToAvro(node, value, path, where);
    case 'union':
      throw fail('Unsupported union', path, where);
  }
}

function fromAvro(node: SchemaNode, raw: unknown, path: string, where: string): unknown {
  switch (node.kind) {
    case 'decimal':
      try {
        return decimalFromUnscaled(unscaledFromBytes(raw as Buffer), node.scale);
      } catch (error: unknown) {
        throw fail(error instanceof Error ? error.message : String(error), path, where);
      }
    case 'array':
      return (raw as unknown[]).map((item, index) => fromAvro(node.items, item, `${path}[${index}]`, where));
    case 'map':
      return Object.fromEntries(
        Object.entries(raw as Record<string, unknown>).map(([key, item]) => [
          key,
          fromAvro(node.values, item, `${path}.${key}`, where),
        ]),
      );
    case 'nullable':
      return raw === null ? null : fromAvro(node.type, (raw as Record<string, unknown>)[node.branch], path, where);
    case 'record': {
      const record = raw as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const field of node.fields) {
        result[field.name] = fromAvro(field.type, record[field.name], `${path}.${field.name}`, where);
      }
      return result;
    }
    case 'union':
      throw fail('Unsupported union', path, where);
    default:
      return raw;
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }
  return String(value);
}
