import { DecodeError } from '../../core/errors.js';
import { type AvroValue, logicalConversionFor } from '../avro/debezium-types.js';
import { describeRecord, type KafkaLocation } from '../avro/confluent-decoder.js';

/**
 * Reads Debezium records as Kafka Connect's JsonConverter writes them into the representation the Avro decoder hands
 * out (`connectors/avro/debezium-types.ts`), so the envelope reader (`envelope.ts`) and the stages cannot tell the two
 * apart.
 *
 * With `schemas.enable=true` a document is `{"schema": {…}, "payload": {…}}`: the Connect schema names every logical
 * type, so decimals (base64 of the unscaled integer, JsonConverter's default `decimal.format=BASE64`), dates, times
 * and timestamps become exactly what the Avro path gives, INT64 fields become bigints and BYTES fields Buffers.
 * Without the wrapper (`schemas.enable=false`) there is no schema: values stay as JSON has them (numbers stay numbers,
 * a precise decimal stays its base64 text), which suits sources that write strings (`decimal.handling.mode=string`).
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 * @see https://kafka.apache.org/documentation/#connect_configuring (JsonConverter, schemas.enable)
 */

/** A Connect schema in JsonConverter's form: `type`, `optional`, `name`, `parameters`, `fields`, `items`, `values`. */
type ConnectSchema = {
  readonly type?: unknown;
  readonly name?: unknown;
  readonly parameters?: unknown;
  readonly field?: unknown;
  readonly fields?: unknown;
  readonly items?: unknown;
  readonly values?: unknown;
};

/** One JsonConverter document decoded: its value and, when it has a schema, that schema's name. */
export type ConnectJsonValue = { readonly value: AvroValue; readonly schemaName: string | undefined };

/**
 * Decodes one JsonConverter document (`{schema, payload}` or the bare payload). Throws a `DecodeError` naming the
 * record and the field for a value its schema's type rejects.
 */
export function decodeConnectJson(document: unknown, location: KafkaLocation): ConnectJsonValue {
  if (isObject(document) && 'schema' in document && 'payload' in document) {
    const schema = document['schema'];
    if (schema === null) return { value: plain(document['payload']), schemaName: undefined };
    if (!isObject(schema)) throw failure('Invalid schema, expected an object', location);
    return {
      value: convert(document['payload'], schema, [], location),
      schemaName: typeof schema['name'] === 'string' ? schema['name'] : undefined,
    };
  }
  return { value: plain(document), schemaName: undefined };
}

/**
 * The Debezium topic a JsonConverter value document came from, from its `source` block: `<name>.<db>.<schema>.<table>`
 * for SQL Server, `<name>.<schema>.<table>` for PostgreSQL, `<name>.<db>.<table>` for MySQL; undefined when the
 * document has no such block (transaction metadata, heartbeats).
 */
export function topicOfSource(value: AvroValue, connector: 'sqlserver' | 'postgresql' | 'mysql'): string | undefined {
  const source = isObject(value) ? value['source'] : undefined;
  if (!isObject(source)) return undefined;
  const names = TOPIC_PARTS[connector].map((part) => source[part]);
  return names.every((name) => typeof name === 'string') ? names.join('.') : undefined;
}

/** The `source` fields whose values, joined by dots, make a connector's topic names. */
const TOPIC_PARTS = {
  sqlserver: ['name', 'db', 'schema', 'table'],
  postgresql: ['name', 'schema', 'table'],
  mysql: ['name', 'db', 'table'],
} as const;

function convert(raw: unknown, schema: ConnectSchema, path: readonly string[], location: KafkaLocation): AvroValue {
  if (raw === null || raw === undefined) return null;
  const conversion = logicalConversion(schema, path, location);
  const value = primitive(raw, schema, path, location);
  if (conversion === undefined) return value;
  try {
    return conversion.fromAvro(value);
  } catch (error: unknown) {
    if (error instanceof RangeError) throw failure(`${error.message} in field ${dotted(path)}`, location, error);
    throw error;
  }
}

function logicalConversion(schema: ConnectSchema, path: readonly string[], location: KafkaLocation) {
  try {
    return logicalConversionFor({ 'connect.name': schema.name, 'connect.parameters': schema.parameters });
  } catch (error: unknown) {
    if (error instanceof RangeError) throw failure(`${error.message} in field ${dotted(path)}`, location, error);
    throw error;
  }
}

/** The value of one Connect type as avsc would decode the Avro type Connect maps it to. */
function primitive(raw: unknown, schema: ConnectSchema, path: readonly string[], location: KafkaLocation): AvroValue {
  const wrong = (expected: string) =>
    failure(`Invalid field ${dotted(path)} ${show(raw)}, expected ${expected}`, location);
  switch (schema.type) {
    case 'struct': {
      if (!isObject(raw)) throw wrong('an object');
      const fields = Array.isArray(schema.fields) ? (schema.fields as ConnectSchema[]) : [];
      return Object.fromEntries(
        fields.map((field) => {
          const name = String(field.field);
          return [name, convert(raw[name], field, [...path, name], location)];
        }),
      );
    }
    case 'array': {
      if (!Array.isArray(raw)) throw wrong('an array');
      const items = isObject(schema.items) ? schema.items : {};
      return raw.map((item, index) => convert(item, items, [...path, String(index)], location));
    }
    case 'map': {
      if (!isObject(raw)) return plain(raw);
      const values = isObject(schema.values) ? schema.values : {};
      return Object.fromEntries(
        Object.entries(raw).map(([key, item]) => [key, convert(item, values, [...path, key], location)]),
      );
    }
    case 'int64':
      if (typeof raw === 'bigint') return raw;
      if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
      throw wrong('an integer');
    case 'int8':
    case 'int16':
    case 'int32':
      if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
      throw wrong('an integer');
    case 'float32':
    case 'float64':
      if (typeof raw === 'number') return raw;
      throw wrong('a number');
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      throw wrong('true or false');
    case 'string':
      if (typeof raw === 'string') return raw;
      throw wrong('a string');
    case 'bytes':
      if (typeof raw === 'string') return Buffer.from(raw, 'base64');
      throw wrong('base64 bytes');
    default:
      return plain(raw);
  }
}

/** A schemaless JSON value as it stands; integers beyond 2^53 are bigints already when the caller parsed them so. */
function plain(raw: unknown): AvroValue {
  return (raw ?? null) as AvroValue;
}

function failure(message: string, location: KafkaLocation, cause?: unknown): DecodeError {
  return new DecodeError(`${message} in record ${describeRecord(location)}`, { ...location, cause });
}

function dotted(path: readonly string[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
