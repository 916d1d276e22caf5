import avro from 'avsc';

/**
 * BACKWARD compatibility of two Avro schemas, checked locally the way a
 * consumer resolves them: can a reader holding `reader` (the new schema)
 * read every record written with `writer` (an old one)? That is Avro schema
 * resolution, done by avsc's `createResolver`; the registry runs the same
 * rules (Java's `SchemaCompatibility`) when a schema is registered under
 * BACKWARD.
 *
 * One rule goes beyond Avro's: a decimal may not change its scale or shrink
 * its precision. Avro resolution compares only the underlying `bytes`, so
 * the registry lets such a change through, yet every reader would then
 * misplace the decimal point of old data.
 *
 * Returns the problems, empty when compatible, each naming the path from the
 * reader's top-level record, e.g.
 * `OrderEvent.event.OrderDeleted: no matching field for default-less cdcsync.canonical.order.v1.OrderDeleted.reason`.
 * Throws avsc's `Error` when either schema is not valid Avro.
 *
 * @see https://avro.apache.org/docs/1.11.1/specification/#schema-resolution
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html#backward-compatibility
 */
export function backwardIncompatibilities(reader: unknown, writer: unknown): string[] {
  const readerType = parse(reader);
  const writerType = parse(writer);
  const root = readerType.name === undefined ? '(root)' : shortName(readerType.name);
  return explain(readerType, writerType, root);
}

function parse(schema: unknown): avro.Type {
  const json: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(json as avro.Schema, { wrapUnions: true, logicalTypes: { decimal: ResolvableDecimal } });
}

/**
 * A decimal that exists only to take part in resolution: values pass through
 * as the underlying bytes, and reading another decimal needs the same scale
 * and at least its precision.
 */
class ResolvableDecimal extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const attributes = schema as { precision?: unknown; scale?: unknown };
    this.precision = Number(attributes.precision);
    this.scale = Number(attributes.scale ?? 0);
  }

  protected override _fromValue(value: unknown): unknown {
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return value;
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    if (!(type instanceof ResolvableDecimal)) return undefined;
    if (type.scale !== this.scale || type.precision > this.precision) {
      throw new Error(
        `cannot read decimal(${type.precision},${type.scale}) as decimal(${this.precision},${this.scale})`,
      );
    }
    return (value) => value;
  }
}

type FieldsType = avro.Type & { readonly fields: avro.types.Field[] };
type UnionType = avro.Type & { readonly types: avro.Type[] };
type ArrayType = avro.Type & { readonly itemsType: avro.Type };
type MapType = avro.Type & { readonly valuesType: avro.Type };

/**
 * avsc stops at the first problem and, inside a union, reports only that a
 * whole branch cannot be read. Retrying field by field and branch by branch
 * finds the place of each problem and keeps avsc's own message for it.
 */
function explain(reader: avro.Type, writer: avro.Type, path: string): string[] {
  try {
    reader.createResolver(writer);
    return lostDecimals(reader, writer, path);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    let nested: string[] = [];
    if (isRecord(reader) && isRecord(writer) && reader.name === writer.name) {
      nested = reader.fields.flatMap((field) => {
        const written = writer.fields.find((candidate) => [field.name, ...field.aliases].includes(candidate.name));
        return written === undefined ? [] : explain(field.type, written.type, `${path}.${field.name}`);
      });
    } else if (isUnion(reader) && isUnion(writer)) {
      nested = writer.types.flatMap((branch) => {
        const same = reader.types.find((candidate) => candidate.branchName === branch.branchName);
        if (same !== undefined) return explain(same, branch, `${path}.${shortName(branch.branchName ?? '?')}`);
        return readsAny(reader, branch) ? [] : [`${path}: no branch reads ${branch.branchName ?? '?'}`];
      });
    } else if (isUnion(reader)) {
      // A value made nullable: the reader's branch of the writer's type says why it cannot read it.
      const same = reader.types.find((candidate) => candidate.branchName === writer.branchName);
      if (same !== undefined) nested = explain(same, writer, path);
    }
    return nested.length > 0 ? nested : [`${path}: ${message}`];
  }
}

/**
 * avsc reads a decimal as its underlying bytes, or as a string (Avro
 * promotes bytes to string), when the reader has no decimal there: the
 * number is lost. Walks what resolution matched and names each such place.
 */
function lostDecimals(reader: avro.Type, writer: avro.Type, path: string): string[] {
  if (writer instanceof ResolvableDecimal) {
    const readers = isUnion(reader) ? reader.types : [reader];
    return readers.some((candidate) => candidate instanceof ResolvableDecimal)
      ? []
      : [`${path}: cannot read decimal(${writer.precision},${writer.scale}) as ${JSON.stringify(reader.schema())}`];
  }
  if (isRecord(reader) && isRecord(writer)) {
    return reader.fields.flatMap((field) => {
      const written = writer.fields.find((candidate) => [field.name, ...field.aliases].includes(candidate.name));
      return written === undefined ? [] : lostDecimals(field.type, written.type, `${path}.${field.name}`);
    });
  }
  if (isUnion(writer)) {
    return writer.types.flatMap((branch) => {
      const readers = isUnion(reader) ? reader.types : [reader];
      const same = readers.find((candidate) => candidate.branchName === branch.branchName);
      const where = isUnion(reader) && isRecord(branch) ? `${path}.${shortName(branch.branchName ?? '?')}` : path;
      return same === undefined ? [] : lostDecimals(same, branch, where);
    });
  }
  if (isUnion(reader)) {
    const same = reader.types.find((candidate) => candidate.branchName === writer.branchName);
    return same === undefined ? [] : lostDecimals(same, writer, path);
  }
  const children = childTypes(reader, writer);
  return children === undefined ? [] : lostDecimals(children[0], children[1], `${path}[]`);
}

/** Items of two arrays or values of two maps. */
function childTypes(reader: avro.Type, writer: avro.Type): [avro.Type, avro.Type] | undefined {
  if (avro.Type.isType(reader, 'array') && avro.Type.isType(writer, 'array')) {
    return [(reader as ArrayType).itemsType, (writer as ArrayType).itemsType];
  }
  if (avro.Type.isType(reader, 'map') && avro.Type.isType(writer, 'map')) {
    return [(reader as MapType).valuesType, (writer as MapType).valuesType];
  }
  return undefined;
}

function readsAny(reader: avro.Type, writer: avro.Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

function isRecord(type: avro.Type): type is FieldsType {
  return avro.Type.isType(type, 'record', 'error');
}

function isUnion(type: avro.Type): type is UnionType {
  return avro.Type.isType(type, 'union');
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}
