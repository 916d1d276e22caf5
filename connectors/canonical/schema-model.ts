/**
 * A walkable model of an Avro schema as the canonical codec, its tests and
 * the schema docs need it: named types resolved, logical types (`decimal`,
 * `timestamp-millis`) kept with their parameters, nullable unions recognised,
 * `doc` strings kept. Pure: reads parsed schema JSON, imports no Avro library.
 *
 * @see https://avro.apache.org/docs/1.11.1/specification/
 */
export type SchemaNode =
  | { readonly kind: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'timestamp-millis' }
  | { readonly kind: 'enum'; readonly name: string; readonly symbols: readonly string[] }
  | { readonly kind: 'array'; readonly items: SchemaNode }
  | { readonly kind: 'map'; readonly values: SchemaNode }
  /** `["null", T]` or `[T, "null"]`; `branch` is the key avsc wraps a non-null value in. */
  | { readonly kind: 'nullable'; readonly branch: string; readonly type: SchemaNode }
  /** A union of records only, such as the envelope's `event`. */
  | { readonly kind: 'union'; readonly branches: readonly RecordNode[] }
  | RecordNode;

export type RecordNode = {
  readonly kind: 'record';
  /** Full name, e.g. `cdcsync.canonical.order.v1.OrderAccepted`. */
  readonly name: string;
  /** The name without its namespace, e.g. `OrderAccepted`. */
  readonly shortName: string;
  readonly doc: string | undefined;
  readonly fields: readonly FieldNode[];
};

export type FieldNode = {
  readonly name: string;
  readonly doc: string | undefined;
  readonly type: SchemaNode;
  /** Whether the field declares a default, i.e. whether a reader can fill it for data written without it. */
  readonly hasDefault: boolean;
};

/** A canonical envelope: a record with `meta` (a record) and `event` (a union of payload records). */
export type EnvelopeModel = {
  readonly record: RecordNode;
  readonly meta: RecordNode;
  readonly events: readonly RecordNode[];
};

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Describes a parsed Avro schema. Throws a `RangeError` naming the place for
 * what the model does not cover (fixed types, unions other than nullable ones
 * and unions of records, recursive records) and for invalid schemas
 * (undefined names, a decimal without an integer precision).
 */
export function describeSchema(schema: unknown): SchemaNode {
  return describe(schema, undefined, new Map(), '(root)');
}

/**
 * Describes a canonical envelope schema. Throws a `RangeError` when the
 * schema is not a record whose fields are exactly `meta` (a record) and
 * `event` (a union of records), or for anything {@link describeSchema} rejects.
 */
export function describeEnvelope(schema: unknown): EnvelopeModel {
  const record = describeSchema(schema);
  if (record.kind !== 'record') throw new RangeError(`Canonical envelope must be a record, not ${record.kind}`);
  const names = record.fields.map((field) => field.name).join(', ');
  if (names !== 'meta, event') {
    throw new RangeError(`Canonical envelope ${record.name} must have the fields meta, event; it has ${names}`);
  }
  const [meta, event] = record.fields as [FieldNode, FieldNode];
  if (meta.type.kind !== 'record') throw new RangeError(`Field meta of ${record.name} must be a record`);
  if (event.type.kind !== 'union') throw new RangeError(`Field event of ${record.name} must be a union of records`);
  return { record, meta: meta.type, events: event.type.branches };
}

/** A short human-readable type, as the schema docs show it: `string`, `decimal(18,3)`, `string or null`. */
export function typeLabel(node: SchemaNode): string {
  switch (node.kind) {
    case 'decimal':
      return `decimal(${node.precision},${node.scale})`;
    case 'enum':
    case 'record':
      return node.name;
    case 'array':
      return `array of ${typeLabel(node.items)}`;
    case 'map':
      return `map of ${typeLabel(node.values)}`;
    case 'nullable':
      return `${typeLabel(node.type)} or null`;
    case 'union':
      return `one of ${node.branches.map((branch) => branch.shortName).join(', ')}`;
    default:
      return node.kind;
  }
}

type Named = Map<string, SchemaNode | 'pending'>;

function describe(schema: unknown, namespace: string | undefined, named: Named, where: string): SchemaNode {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return { kind: schema as 'string' };
    const fullName = qualify(schema, namespace);
    const found = named.get(fullName) ?? named.get(schema);
    if (found === 'pending') throw new RangeError(`Unsupported recursive type ${fullName} at ${where}`);
    if (found === undefined) throw new RangeError(`Undefined type name ${JSON.stringify(schema)} at ${where}`);
    return found;
  }
  if (Array.isArray(schema)) return describeUnion(schema, namespace, named, where);
  if (typeof schema !== 'object' || schema === null) {
    throw new RangeError(`Invalid schema ${JSON.stringify(schema)} at ${where}`);
  }
  const node = schema as Record<string, unknown>;
  const type = node['type'];
  if (node['logicalType'] === 'decimal' && (type === 'bytes' || type === 'fixed')) {
    if (type === 'fixed') throw new RangeError(`Unsupported fixed decimal at ${where}`);
    const precision = node['precision'];
    const scale = node['scale'] ?? 0;
    if (!Number.isInteger(precision) || !Number.isInteger(scale)) {
      throw new RangeError(`Invalid decimal precision or scale at ${where}`);
    }
    return { kind: 'decimal', precision: precision as number, scale: scale as number };
  }
  if (node['logicalType'] === 'timestamp-millis' && type === 'long') return { kind: 'timestamp-millis' };
  switch (type) {
    case 'record':
    case 'error':
      return describeRecord(node, namespace, named, where);
    case 'enum': {
      const { fullName } = nameOf(node, namespace, where);
      const result = { kind: 'enum', name: fullName, symbols: node['symbols'] as string[] } as const;
      named.set(fullName, result);
      return result;
    }
    case 'array':
      return { kind: 'array', items: describe(node['items'], namespace, named, `${where}[]`) };
    case 'map':
      return { kind: 'map', values: describe(node['values'], namespace, named, `${where}{}`) };
    case 'fixed':
      throw new RangeError(`Unsupported fixed type at ${where}`);
    default:
      // `{"type": "string"}` and friends, or a nested definition.
      return describe(type, namespace, named, where);
  }
}

function describeRecord(
  node: Record<string, unknown>,
  namespace: string | undefined,
  named: Named,
  where: string,
): RecordNode {
  const { fullName, shortName, ownNamespace } = nameOf(node, namespace, where);
  named.set(fullName, 'pending');
  const fields = ((node['fields'] ?? []) as Record<string, unknown>[]).map((field) => {
    const name = String(field['name']);
    return {
      name,
      doc: typeof field['doc'] === 'string' ? field['doc'] : undefined,
      type: describe(field['type'], ownNamespace, named, `${shortName}.${name}`),
      hasDefault: 'default' in field,
    };
  });
  const record: RecordNode = {
    kind: 'record',
    name: fullName,
    shortName,
    doc: typeof node['doc'] === 'string' ? node['doc'] : undefined,
    fields,
  };
  named.set(fullName, record);
  return record;
}

function describeUnion(branches: unknown[], namespace: string | undefined, named: Named, where: string): SchemaNode {
  const types = branches.map((branch, index) => describe(branch, namespace, named, `${where}|${index}`));
  const nonNull = types.filter((type) => type.kind !== 'null');
  if (types.length === 2 && nonNull.length === 1) {
    const type = nonNull[0]!;
    return { kind: 'nullable', branch: branchName(type, where), type };
  }
  if (nonNull.length === types.length && types.every((type) => type.kind === 'record')) {
    return { kind: 'union', branches: types as RecordNode[] };
  }
  throw new RangeError(`Unsupported union at ${where}: only ["null", T] and unions of records are`);
}

/** The key avsc uses for a branch of a wrapped union: the full name of a named type, else the type's name. */
function branchName(node: SchemaNode, where: string): string {
  switch (node.kind) {
    case 'decimal':
      return 'bytes';
    case 'timestamp-millis':
      return 'long';
    case 'record':
    case 'enum':
      return node.name;
    case 'nullable':
    case 'union':
      throw new RangeError(`Unsupported nested union at ${where}`);
    default:
      return node.kind;
  }
}

function nameOf(
  node: Record<string, unknown>,
  enclosing: string | undefined,
  where: string,
): { fullName: string; shortName: string; ownNamespace: string | undefined } {
  const name = node['name'];
  if (typeof name !== 'string' || name === '') throw new RangeError(`Named type without a name at ${where}`);
  const dot = name.lastIndexOf('.');
  const ownNamespace =
    dot >= 0 ? name.slice(0, dot) : typeof node['namespace'] === 'string' ? node['namespace'] || undefined : enclosing;
  const shortName = dot >= 0 ? name.slice(dot + 1) : name;
  return { fullName: qualify(shortName, ownNamespace), shortName, ownNamespace };
}

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || namespace === undefined ? name : `${namespace}.${name}`;
}
