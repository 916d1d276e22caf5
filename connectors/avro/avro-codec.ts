import avro from 'avsc';
import { type AvroValue, logicalConversionFor } from './debezium-types.js';

/**
 * An Avro schema compiled once into everything needed to read and write its
 * values exactly: an avsc type whose every `long` is a `bigint`, and a
 * converter tree, built by walking the schema JSON, that applies the logical
 * types of `debezium-types.ts` wherever a node's `connect.name` (or Avro
 * `logicalType`) names one.
 *
 * Why not avsc's `logicalTypes` option: it is keyed on the Avro
 * `logicalType` attribute only, which Debezium's `io.debezium.time.*` types
 * lack, and the underlying type of an avsc logical type over
 * `{"type": "long"}` is avsc's own lossy number long. A walk over the schema
 * JSON sees `connect.name` and composes with the bigint long.
 *
 * @see https://github.com/mtth/avsc/wiki/Advanced-usage#custom-long-types
 * @see https://docs.confluent.io/platform/current/schema-registry/connect.html
 */
export type AvroCodec = {
  /** Full name of the schema's top-level named type (`erp.dbo.SalesOrder.Envelope`), if it has one. */
  readonly name: string | undefined;
  /**
   * Reads one value starting at `offset`. `end` is the offset after the value,
   * or -1 when the bytes end before the value does. Throws a `RangeError`
   * naming the field for a value a logical type rejects, and avsc's `Error`
   * for bytes that are not valid Avro of this schema.
   */
  readonly decode: (bytes: Buffer, offset?: number) => { readonly value: AvroValue; readonly end: number };
  /** Writes a value in the decoder's representation; throws a `RangeError` naming the field for a value that does not fit. */
  readonly encode: (value: unknown) => Buffer;
};

/**
 * Compiles an Avro schema (parsed JSON or its text). Throws avsc's `Error`
 * for an invalid schema and a `RangeError` for a logical type it cannot
 * honour (a decimal without an integer scale, a union of several non-null
 * branches around a logical type).
 */
export function createAvroCodec(schema: unknown): AvroCodec {
  const json: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  const type = avro.Type.forSchema(json as avro.Schema, { typeHook: bigintLongs, wrapUnions: 'auto' });
  const converter = compile(json, undefined, new Map()) ?? IDENTITY;
  return {
    name: type.name,
    decode: (bytes, offset = 0) => {
      const { value, offset: end } = type.decode(bytes, offset);
      return { value: end < 0 ? null : withPath(() => converter.fromAvro(value)), end };
    },
    encode: (value) => type.toBuffer(withPath(() => converter.toAvro(value))),
  };
}

type Converter = {
  readonly fromAvro: (raw: unknown) => AvroValue;
  readonly toAvro: (value: unknown) => unknown;
};

const IDENTITY: Converter = { fromAvro: (raw) => raw as AvroValue, toAvro: (value) => value };

/** A long encoded as Avro's zig-zag varint but read and written as a `bigint`, so 2^53 and beyond stay exact. */
const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: (value: unknown) => BigInt(value as number | string),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

function bigintLongs(schema: avro.Schema): avro.Type | undefined {
  const isLong =
    schema === 'long' ||
    (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long');
  return isLong ? BIGINT_LONG : undefined;
}

/** A conversion failure with the field path it happened at. */
class FieldValueError extends RangeError {
  constructor(
    readonly detail: string,
    readonly path: readonly string[],
  ) {
    super(path.length === 0 ? detail : `${detail} in field ${path.join('.')}`);
  }
}

function withPath<T>(run: () => T): T {
  try {
    return run();
  } catch (error: unknown) {
    if (error instanceof RangeError && !(error instanceof FieldValueError))
      throw new FieldValueError(error.message, []);
    throw error;
  }
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Builds the converter for one schema node; `undefined` means the raw value
 * is already the final one (and needs nothing on the way back). Named types
 * are recorded in `named` under their full name so later references resolve.
 */
function compile(
  node: unknown,
  namespace: string | undefined,
  named: Map<string, Converter | undefined>,
): Converter | undefined {
  if (typeof node === 'string') {
    if (PRIMITIVES.has(node)) return undefined;
    const fullName = qualify(node, namespace);
    if (!named.has(fullName)) throw new RangeError(`Undefined Avro type name ${JSON.stringify(node)}`);
    // Looked up lazily: a record may refer to itself before its converter is complete.
    return {
      fromAvro: (raw) => convertFrom(named.get(fullName), raw),
      toAvro: (value) => convertTo(named.get(fullName), value),
    };
  }
  if (Array.isArray(node)) return compileUnion(node, namespace, named);
  if (typeof node !== 'object' || node === null) throw new RangeError(`Invalid Avro schema node ${String(node)}`);

  const schema = node as Record<string, unknown>;
  const logical = logicalConversionFor(schema);
  if (logical !== undefined) {
    const converter: Converter = { fromAvro: logical.fromAvro, toAvro: logical.toAvro };
    // VariableScaleDecimal is a record: later columns refer to it by name and need the same conversion.
    if (schema['type'] === 'record')
      named.set(qualify(String(schema['name']), namespaceOf(schema, namespace)), converter);
    return converter;
  }
  switch (schema['type']) {
    case 'record':
    case 'error':
      return compileRecord(schema, namespace, named);
    case 'enum':
    case 'fixed':
      named.set(qualify(String(schema['name']), namespaceOf(schema, namespace)), undefined);
      return undefined;
    case 'array': {
      const items = compile(schema['items'], namespace, named);
      if (items === undefined) return undefined;
      return {
        fromAvro: (raw) => (raw as unknown[]).map((item) => items.fromAvro(item)),
        toAvro: (value) => (value as unknown[]).map((item) => items.toAvro(item)),
      };
    }
    case 'map': {
      const values = compile(schema['values'], namespace, named);
      if (values === undefined) return undefined;
      return {
        fromAvro: (raw) => mapValues(raw as Record<string, unknown>, values.fromAvro),
        toAvro: (value) => mapValues(value as Record<string, unknown>, values.toAvro),
      };
    }
    default:
      // `{"type": "long", "connect.version": 1}` and friends, or a nested type definition.
      return typeof schema['type'] === 'string' && PRIMITIVES.has(schema['type'])
        ? undefined
        : compile(schema['type'], namespace, named);
  }
}

function compileRecord(
  schema: Record<string, unknown>,
  namespace: string | undefined,
  named: Map<string, Converter | undefined>,
): Converter {
  const recordNamespace = namespaceOf(schema, namespace);
  const fullName = qualify(String(schema['name']), recordNamespace);
  const fields: { name: string; converter: Converter | undefined }[] = [];
  const converter: Converter = {
    fromAvro: (raw) => {
      const record = raw as Record<string, unknown>;
      const result: Record<string, AvroValue> = {};
      for (const field of fields) {
        result[field.name] = atField(field.name, () => convertFrom(field.converter, record[field.name]));
      }
      return result;
    },
    toAvro: (value) => {
      if (typeof value !== 'object' || value === null)
        throw new RangeError(`Invalid record ${String(value)} for ${fullName}`);
      const record = value as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const field of fields) {
        // Left undefined so that avsc writes the field's default.
        if (record[field.name] === undefined) continue;
        result[field.name] = atField(field.name, () => convertTo(field.converter, record[field.name]));
      }
      return result;
    },
  };
  named.set(fullName, converter);
  for (const field of (schema['fields'] ?? []) as { name: string; type: unknown }[]) {
    fields.push({ name: field.name, converter: compile(field.type, recordNamespace, named) });
  }
  return converter;
}

function compileUnion(
  branches: unknown[],
  namespace: string | undefined,
  named: Map<string, Converter | undefined>,
): Converter | undefined {
  const nonNull = branches.filter((branch) => branch !== 'null');
  const converters = nonNull.map((branch) => compile(branch, namespace, named));
  if (converters.every((converter) => converter === undefined)) return undefined;
  if (converters.length > 1) {
    throw new RangeError(`Unsupported union of ${converters.length} non-null branches with a logical type`);
  }
  const converter = converters[0];
  // avsc unwraps `["null", T]`: the raw value is null or T's value itself.
  return {
    fromAvro: (raw) => (raw === null ? null : convertFrom(converter, raw)),
    toAvro: (value) => (value === null ? null : convertTo(converter, value)),
  };
}

function atField<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (error: unknown) {
    if (error instanceof FieldValueError) throw new FieldValueError(error.detail, [name, ...error.path]);
    if (error instanceof RangeError) throw new FieldValueError(error.message, [name]);
    throw error;
  }
}

function convertFrom(converter: Converter | undefined, raw: unknown): AvroValue {
  return converter === undefined ? (raw as AvroValue) : converter.fromAvro(raw);
}

function convertTo(converter: Converter | undefined, value: unknown): unknown {
  return converter === undefined ? value : converter.toAvro(value);
}

function mapValues<T>(record: Record<string, unknown>, convert: (value: unknown) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, convert(value)]));
}

function namespaceOf(schema: Record<string, unknown>, enclosing: string | undefined): string | undefined {
  const name = String(schema['name']);
  if (name.includes('.')) return name.slice(0, name.lastIndexOf('.'));
  return typeof schema['namespace'] === 'string' ? schema['namespace'] || undefined : enclosing;
}

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || namespace === undefined ? name : `${namespace}.${name}`;
}
