import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../core/errors.js';

/**
 * The inputs `cdc-sync test` runs stages over, told apart by their content:
 *
 * - a **fixture file** (`devtools/fixtures/README.md`): one JSON or YAML object with `changes`;
 * - **captured records**: JSON Lines of Kafka records with Confluent-framed Avro bytes,
 *   `{"topic", "partition"?, "offset"?, "key": base64 | null, "value": base64 | null}`, and optionally the writer
 *   schemas they are framed with, `{"schemaId": 7, "schema": {…} | "…"}`; ids not given there are fetched from the
 *   config's schema registry;
 * - **Debezium JSON documents**, one per line, as Kafka Connect's JsonConverter writes them, with or without the
 *   `{"schema", "payload"}` wrapper: the value alone, or `{"topic"?, "key"?, "value"}` to give the key (and topic).
 *
 * Blank lines are skipped. Every problem names the file and the line.
 */

/** Which of the three kinds an input is. */
export type TestInputKind = 'fixture' | 'captured' | 'json';

/** Where a record sits in its Kafka topic, and where in the input file it came from. */
type RecordPlace = {
  /** The place in the input, for messages: `capture.jsonl line 4`, `orders.json changes[3]`. */
  readonly where: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
};

/** One record of an input: Confluent-framed Avro bytes, or a Debezium JSON document with its (optional) key. */
export type TestRecord = RecordPlace &
  (
    | { readonly encoding: 'avro'; readonly key: Buffer | null; readonly value: Buffer | null }
    | {
        readonly encoding: 'json';
        /** The key document as written (a wrapper or the bare key), or null when the input gives none. */
        readonly key: unknown;
        /** The value document as written, or null for a tombstone. */
        readonly value: unknown;
      }
  );

/** An input file read and classified; nothing decoded yet. */
export type TestInput = {
  readonly path: string;
  readonly kind: TestInputKind;
  readonly records: readonly TestRecord[];
  /** Writer schemas the input carries, by registry id (a fixture's own; those of a captured file's schema lines). */
  readonly schemas: ReadonlyMap<number, string>;
};

/**
 * Turns a fixture document into its wire records (`devtools/fixtures/wire-records.ts`), validating it against the
 * table definitions the caller chose; throws a `ConfigError` naming the file, the entry and the field.
 */
export type FixtureReader = (
  document: unknown,
  path: string,
) => {
  readonly records: readonly {
    readonly index: number;
    readonly topic: string;
    readonly key: Buffer | null;
    readonly value: Buffer | null;
  }[];
  readonly schemas: ReadonlyMap<number, string>;
};

/**
 * Reads `text` (the content of `path`) as one of the three kinds. Throws a `ConfigError` naming the file, and the
 * line where it is one, when the content is none of them, mixes captured records with JSON documents, or holds a
 * malformed record.
 */
export function readTestInput(path: string, text: string, readFixture: FixtureReader): TestInput {
  const whole = parseWhole(path, text);
  if (isObject(whole) && 'changes' in whole) {
    const fixture = readFixture(whole, path);
    return {
      path,
      kind: 'fixture',
      schemas: fixture.schemas,
      records: fixture.records.map(({ index, topic, key, value }) => ({
        where: `${path} changes[${index}]`,
        topic,
        partition: 0,
        offset: String(index),
        encoding: 'avro',
        key,
        value,
      })),
    };
  }
  if (/\.ya?ml$/i.test(path)) {
    throw new ConfigError(`${path}: expected a fixture file (an object with server, database and changes)`);
  }
  // One JSON document over several lines (a pretty-printed record) is a file of one record.
  return readRecords(
    path,
    whole === undefined
      ? splitLines(path, text)
      : [{ number: text.split('\n').findIndex((line) => line.trim() !== '') + 1, value: whole }],
  );
}

/** The whole file as one document when it parses as one (YAML by extension, JSON otherwise), else undefined. */
function parseWhole(path: string, text: string): unknown {
  if (/\.ya?ml$/i.test(path)) {
    try {
      return parseYaml(text);
    } catch (error: unknown) {
      throw new ConfigError(`${path}: invalid YAML (${messageOf(error)})`, { cause: error });
    }
  }
  try {
    return JSON.parse(text, keepBigIntegers);
  } catch {
    return undefined;
  }
}

type Line = { readonly number: number; readonly value: unknown };

function splitLines(path: string, text: string): Line[] {
  const lines: Line[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() !== '') lines.push({ number: index + 1, value: parseLine(path, index + 1, line) });
  });
  return lines;
}

function readRecords(path: string, lines: readonly Line[]): TestInput {
  if (lines.length === 0) {
    throw new ConfigError(`${path}: empty; expected a fixture file, captured records or Debezium JSON documents`);
  }
  const schemas = new Map<number, string>();
  const schemaLines = new Map<number, number>();
  const records: TestRecord[] = [];
  let kind: { readonly kind: 'captured' | 'json'; readonly line: number } | undefined;
  for (const line of lines) {
    const at = `${path} line ${line.number}`;
    const shape = classify(line.value);
    if (shape === 'schema') {
      const { schemaId, schema } = line.value as { schemaId: number; schema: unknown };
      const schemaText = typeof schema === 'string' ? schema : JSON.stringify(schema);
      const earlier = schemas.get(schemaId);
      if (earlier !== undefined && earlier !== schemaText) {
        throw new ConfigError(`${at}: schema id ${schemaId} differs from line ${schemaLines.get(schemaId)}`);
      }
      schemas.set(schemaId, schemaText);
      schemaLines.set(schemaId, line.number);
      continue;
    }
    if (shape === undefined) throw new ConfigError(`${at}: ${NONE_OF_THEM}`);
    const lineKind = shape === 'either' ? (kind?.kind ?? 'captured') : shape;
    if (kind === undefined) kind = { kind: lineKind, line: line.number };
    else if (kind.kind !== lineKind) {
      throw new ConfigError(
        `${at}: ${KIND_NAME[lineKind].one} in a file of ${KIND_NAME[kind.kind].many} (line ${kind.line})`,
      );
    }
    const place = { where: at, records: records.length };
    records.push(lineKind === 'captured' ? capturedRecord(line.value, place) : jsonRecord(line.value, place));
  }
  if (kind === undefined) throw new ConfigError(`${path}: schemas only, no records`);
  if (kind.kind === 'json' && schemas.size > 0) {
    throw new ConfigError(
      `${path} line ${[...schemaLines.values()][0]}: a schema in a file of Debezium JSON documents`,
    );
  }
  return { path, kind: kind.kind, records, schemas };
}

const NONE_OF_THEM =
  'neither a captured record ({"topic", "key", "value"} with base64 bytes), a schema ({"schemaId", "schema"}) ' +
  'nor a Debezium JSON document (an envelope with op and source, {"schema", "payload"}, or {"key", "value"} of them)';

const KIND_NAME = {
  captured: { one: 'a captured record', many: 'captured records' },
  json: { one: 'a Debezium JSON document', many: 'Debezium JSON documents' },
} as const;

/** A `JSON.parse` reviver: integer literals beyond 2^53 become bigints, so an INT64 column keeps every digit. */
function keepBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '')
    ? BigInt(context!.source!)
    : value;
}

function parseLine(path: string, number: number, line: string): unknown {
  try {
    return JSON.parse(line, keepBigIntegers);
  } catch (error: unknown) {
    throw new ConfigError(
      `${path} line ${number}: not JSON (${messageOf(error)}); expected a fixture file, captured records or Debezium JSON documents, one per line`,
      { cause: error },
    );
  }
}

/** What one line is: `either` for a record whose key and value are both null (a tombstone in either kind). */
function classify(value: unknown): 'schema' | 'captured' | 'json' | 'either' | undefined {
  if (!isObject(value)) return undefined;
  if ('schemaId' in value && 'schema' in value && !('topic' in value)) return 'schema';
  if (isEnvelope(value) || ('schema' in value && 'payload' in value)) return 'json';
  if (!('value' in value)) return undefined;
  const parts = [value['value'], value['key'] ?? null];
  if (parts.every((part) => part === null)) return 'either';
  if (parts.every((part) => part === null || typeof part === 'string')) return 'captured';
  if (parts.every((part) => part === null || isObject(part))) return 'json';
  return undefined;
}

function isEnvelope(value: Record<string, unknown>): boolean {
  return 'op' in value && 'source' in value;
}

function capturedRecord(raw: unknown, place: { where: string; records: number }): TestRecord {
  const line = raw as Record<string, unknown>;
  const { where } = place;
  if (typeof line['topic'] !== 'string' || line['topic'] === '') {
    throw new ConfigError(`${where}: topic: expected the record's topic name, got ${show(line['topic'])}`);
  }
  return {
    where,
    topic: line['topic'],
    ...kafkaPlace(line, place),
    encoding: 'avro',
    key: base64(line['key'] ?? null, `${where}: key`),
    value: base64(line['value'], `${where}: value`),
  };
}

function jsonRecord(raw: unknown, place: { where: string; records: number }): TestRecord {
  const line = raw as Record<string, unknown>;
  const { where } = place;
  const wrapped = !isEnvelope(line) && !('payload' in line);
  const value = wrapped ? line['value'] : line;
  const topic = wrapped ? line['topic'] : undefined;
  if (topic !== undefined && (typeof topic !== 'string' || topic === '')) {
    throw new ConfigError(`${where}: topic: expected the record's topic name, got ${show(topic)}`);
  }
  return {
    where,
    topic: topic ?? '',
    ...kafkaPlace(wrapped ? line : {}, place),
    encoding: 'json',
    key: wrapped ? (line['key'] ?? null) : null,
    value,
  };
}

/** `partition` and `offset` as given, else partition 0 and the record's index in the file. */
function kafkaPlace(
  line: Record<string, unknown>,
  place: { where: string; records: number },
): { partition: number; offset: string } {
  const { partition = 0, offset = place.records } = line;
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) {
    throw new ConfigError(`${place.where}: partition: expected a whole number, got ${show(partition)}`);
  }
  const offsetText = typeof offset === 'number' || typeof offset === 'bigint' ? String(offset) : offset;
  if (typeof offsetText !== 'string' || !/^\d+$/.test(offsetText)) {
    throw new ConfigError(`${place.where}: offset: expected a whole number, got ${show(offset)}`);
  }
  return { partition, offset: offsetText };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64(value: unknown, where: string): Buffer | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new ConfigError(`${where}: expected base64 bytes or null, got ${show(value)}`);
  }
  return Buffer.from(value, 'base64');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : JSON.stringify(value);
  if (text === undefined) return 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
