import { type Op, type Row, type TransactionInfo } from '../../core/envelope.js';
import { createAvroCodec } from '../avro/avro-codec.js';
import { frameConfluentAvro } from '../avro/confluent-decoder.js';
import {
  buildSqlServerSchemas,
  type SqlServerSchemaOptions,
  type SqlServerSchemas,
  type SqlServerTable,
} from './sqlserver-schema.js';

/**
 * Encodes row changes the way Debezium's SQL Server connector and Confluent's
 * AvroConverter would write them: the exact inverse of `confluent-decoder.ts`
 * plus `envelope.ts`, for fixtures and tests. Row values are given in the
 * decoder's representation (decimal strings, date strings, `bigint` for
 * BIGINT columns; see `connectors/avro/debezium-types.ts`).
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-events
 */
export type SqlServerRowChange = {
  readonly op: Op;
  readonly before: Row | null;
  readonly after: Row | null;
  readonly source: {
    /** e.g. `00000027:00000758:0005`; null only where Debezium has none. */
    readonly commitLsn: string | null;
    /** Null on snapshot reads. */
    readonly changeLsn: string | null;
    /** Null on snapshot reads. */
    readonly eventSerialNo: number | null;
    /** Commit time in the database, epoch milliseconds. */
    readonly tsMs: number;
    /** Debezium's snapshot marker; `false` (streaming) when absent. */
    readonly snapshot?:
      'true' | 'first' | 'first_in_data_collection' | 'last_in_data_collection' | 'last' | 'false' | 'incremental';
    /** Debezium's version string; `3.4.3.Final` when absent. */
    readonly version?: string;
  };
  /** When Debezium processed the change, epoch milliseconds. */
  readonly tsMs: number;
  readonly transaction: TransactionInfo | null;
};

/** The bytes of one Kafka record, framed for the registry: key null for a table without a primary key. */
export type EncodedRecord = { readonly topic: string; readonly key: Buffer | null; readonly value: Buffer };

export type SqlServerEncoderOptions = SqlServerSchemaOptions & {
  /** Registry ids to frame the key and value with. */
  readonly keySchemaId: number;
  readonly valueSchemaId: number;
};

/** Encodes changes to one table; schemas are built and compiled once. */
export type SqlServerEncoder = {
  readonly schemas: SqlServerSchemas;
  /** Throws a `RangeError` naming the field for a value that does not fit its column's type. */
  readonly encode: (change: SqlServerRowChange) => EncodedRecord;
  /** The framed key of a row, as it precedes a tombstone; null for a table without a primary key. */
  readonly encodeKey: (row: Row) => Buffer | null;
};

export function createSqlServerEncoder(table: SqlServerTable, options: SqlServerEncoderOptions): SqlServerEncoder {
  const schemas = buildSqlServerSchemas(table, options);
  const keyCodec = schemas.key === null ? null : createAvroCodec(schemas.key);
  const valueCodec = createAvroCodec(schemas.value);

  function encodeKey(row: Row): Buffer | null {
    if (keyCodec === null) return null;
    const key = Object.fromEntries(table.primaryKey.map((name) => [name, row[name]]));
    return frameConfluentAvro(options.keySchemaId, keyCodec.encode(key));
  }

  return {
    schemas,
    encodeKey,
    encode(change) {
      const row = change.after ?? change.before;
      const source = change.source;
      const envelope = {
        before: change.before,
        after: change.after,
        source: {
          version: source.version ?? '3.4.3.Final',
          connector: 'sqlserver',
          name: table.server,
          ts_ms: BigInt(source.tsMs),
          snapshot: source.snapshot ?? 'false',
          db: table.database,
          sequence: null,
          ts_us: BigInt(source.tsMs) * 1_000n,
          ts_ns: BigInt(source.tsMs) * 1_000_000n,
          schema: table.schema,
          table: table.table,
          change_lsn: source.changeLsn,
          commit_lsn: source.commitLsn,
          event_serial_no: source.eventSerialNo === null ? null : BigInt(source.eventSerialNo),
        },
        transaction:
          change.transaction === null
            ? null
            : {
                id: change.transaction.id,
                total_order: BigInt(change.transaction.totalOrder),
                data_collection_order: BigInt(change.transaction.dataCollectionOrder),
              },
        op: change.op,
        ts_ms: BigInt(change.tsMs),
        ts_us: BigInt(change.tsMs) * 1_000n,
        ts_ns: BigInt(change.tsMs) * 1_000_000n,
      };
      return {
        topic: schemas.topic,
        key: row === null ? null : encodeKey(row),
        value: frameConfluentAvro(options.valueSchemaId, valueCodec.encode(envelope)),
      };
    },
  };
}
