import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../core/errors.js';
import { createAvroCodec } from './avro-codec.js';
import { cachedSchemaLookup, createConfluentDecoder, frameConfluentAvro } from './confluent-decoder.js';

const location = { topic: 'erp.dbo.Item', partition: 0, offset: '5' };
const schema = { type: 'record', name: 'Value', namespace: 'erp.erp.dbo.Item', fields: [{ name: 'id', type: 'long' }] };
const body = createAvroCodec(schema).encode({ id: 1n });

describe('the schema cache observer', () => {
  it('hears a miss for the first lookup of an id and a hit for every later one, also while the first is under way', async () => {
    const results: string[] = [];
    const requested: number[] = [];
    const decoder = createConfluentDecoder({
      lookupSchema: async (id) => {
        requested.push(id);
        return JSON.stringify(schema);
      },
      onCacheLookup: (result) => results.push(result),
    });
    // Two decodes of id 7 at once share one lookup; id 8 is another schema.
    await Promise.all([
      decoder.decode(frameConfluentAvro(7, body), location),
      decoder.decode(frameConfluentAvro(7, body), location),
    ]);
    await decoder.decode(frameConfluentAvro(8, body), location);
    await decoder.decode(frameConfluentAvro(7, body), location);
    expect(results).toEqual(['miss', 'hit', 'miss', 'hit']);
    expect(requested).toEqual([7, 8]);
  });

  it('hears a miss again after a failed lookup, which is not cached', async () => {
    const results: string[] = [];
    let failures = 1;
    const lookup = cachedSchemaLookup(
      async () => {
        if (failures-- > 0) throw new SourceUnavailableError('Registry unreachable');
        return 'ok';
      },
      (text) => text,
      (result) => results.push(result),
    );
    await expect(lookup(3, location)).rejects.toBeInstanceOf(SourceUnavailableError);
    await expect(lookup(3, location)).resolves.toBe('ok');
    await expect(lookup(3, location)).resolves.toBe('ok');
    expect(results).toEqual(['miss', 'miss', 'hit']);
  });

  it('is not needed: a decoder without one decodes as before', async () => {
    const decoder = createConfluentDecoder({ lookupSchema: async () => JSON.stringify(schema) });
    await expect(decoder.decode(frameConfluentAvro(7, body), location)).resolves.toMatchObject({ schemaId: 7 });
  });
});
