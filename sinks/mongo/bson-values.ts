import { BSON, type Document } from 'mongodb';
import { sameDecimal128 } from './decimal128.js';

/**
 * BSON values as MongoDB orders and compares them, for code that reads documents back and compares them outside the
 * server (a rebuild's diff, `ops/rebuild/collection-diff.ts`).
 */

/** BSON's cross-type sort order, for the `_id` types a read model may use. */
const TYPE_RANK: Readonly<Record<string, number>> = {
  MinKey: 0,
  null: 1,
  number: 2,
  string: 3,
  object: 4,
  array: 5,
  Binary: 6,
  ObjectId: 7,
  boolean: 8,
  Date: 9,
  Timestamp: 10,
  BSONRegExp: 11,
  MaxKey: 12,
};

/**
 * Compares two `_id` values in MongoDB's sort order: by type (numbers before
 * strings before documents …), then numbers by value, strings by UTF-8 bytes
 * (MongoDB's binary comparison), ObjectIds by bytes, dates by time. Other
 * types compare by their extended JSON, which keeps the order total; a
 * server sorting them otherwise is caught by the merge's order check.
 */
export function compareBsonValues(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (typeof a === 'number' || typeof a === 'bigint' || isBsonNumber(a)) return numberOf(a) - numberOf(b);
  if (typeof a === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b as string, 'utf8'));
  if (a instanceof Date) return a.getTime() - (b as Date).getTime();
  if (typeof a === 'boolean') return Number(a) - Number(b);
  if (a instanceof BSON.ObjectId) return Buffer.compare(a.id, (b as BSON.ObjectId).id);
  const [x, y] = [showValue(a), showValue(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A value as extended JSON, for messages and samples: `"SO-1"`, `{"$oid":"…"}`. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return BSON.EJSON.stringify(value as Document, { relaxed: true });
}

/**
 * Whether two field values are equal as a read model means them: dates by time, decimals exactly, numbers by value
 * whatever their BSON type, other BSON values by type and extended JSON. Documents and arrays are compared by the
 * caller, field by field.
 */
export function sameBsonValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x instanceof Date && y instanceof Date) return x.getTime() === y.getTime();
  // Read-model decimals: exact, where a double would round 0.1 + 0.2 and large amounts alike.
  if (x instanceof BSON.Decimal128 && y instanceof BSON.Decimal128) return sameDecimal128(x, y);
  if (isBsonNumber(x) || isBsonNumber(y) || typeof x === 'bigint' || typeof y === 'bigint') {
    return typeRank(x) === 2 && typeRank(y) === 2 && numberOf(x) === numberOf(y);
  }
  if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
    const bsonType = (value: object) => ('_bsontype' in value ? String(value._bsontype) : undefined);
    if (bsonType(x) !== bsonType(y)) return false;
    return showValue(x) === showValue(y);
  }
  return false;
}

function typeRank(value: unknown): number {
  if (value === null || value === undefined) return TYPE_RANK['null']!;
  if (typeof value === 'number' || typeof value === 'bigint' || isBsonNumber(value)) return TYPE_RANK['number']!;
  if (typeof value === 'string') return TYPE_RANK['string']!;
  if (typeof value === 'boolean') return TYPE_RANK['boolean']!;
  if (value instanceof Date) return TYPE_RANK['Date']!;
  if (Array.isArray(value)) return TYPE_RANK['array']!;
  if (typeof value === 'object' && '_bsontype' in value) return TYPE_RANK[String(value._bsontype)] ?? 13;
  return TYPE_RANK['object']!;
}

function isBsonNumber(value: unknown): value is BSON.Long | BSON.Int32 | BSON.Double | BSON.Decimal128 {
  return (
    value instanceof BSON.Long ||
    value instanceof BSON.Int32 ||
    value instanceof BSON.Double ||
    value instanceof BSON.Decimal128
  );
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof BSON.Long) return value.toNumber();
  if (value instanceof BSON.Decimal128) return Number(value.toString());
  return Number((value as BSON.Int32 | BSON.Double).valueOf());
}
