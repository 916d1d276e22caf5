import { type DecodedSourceRecord, type SourceRecord } from '../../core/runner/ports.js';
import { type ConfluentDecoder } from '../avro/confluent-decoder.js';
import { type EnvelopeReader } from './envelope.js';

/**
 * Decodes one raw Debezium record (Confluent-framed Avro key and value) into
 * what the transform runner routes: a change, a tombstone, or an ignorable
 * record. Throws `DecodeError` for undecodable bytes or a malformed envelope,
 * and `SourceUnavailableError` when the registry cannot be reached.
 */
export function createSourceDecoder(decoder: ConfluentDecoder, reader: EnvelopeReader) {
  return async function decodeSource(record: SourceRecord): Promise<DecodedSourceRecord> {
    const location = { topic: record.topic, partition: record.partition, offset: record.offset };
    // Key and value are decoded together so that a record's two schemas are fetched concurrently.
    const [key, value] = await Promise.all([
      record.key === null ? null : decoder.decode(record.key, location),
      record.value === null ? null : decoder.decode(record.value, location),
    ]);
    return reader.read({
      ...location,
      key: key?.value ?? null,
      value: value?.value ?? null,
      valueSchemaName: value?.schemaName,
    });
  };
}
