import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/errors.js';
import { createConfluentDecoder } from '../../connectors/avro/confluent-decoder.js';
import { createEnvelopeReader } from '../../connectors/debezium/envelope.js';
import { createSqlServerEncoder } from '../../connectors/debezium/encode.js';
import { type SqlServerTable } from '../../connectors/debezium/sqlserver-schema.js';
import { services, uniqueName } from './services.js';

/** Registers a schema over the registry's REST API and returns its id. */
async function register(registryUrl: string, subject: string, schema: unknown): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  const body = (await response.json()) as { id?: number; message?: string };
  if (!response.ok || body.id === undefined) throw new Error(`Registering ${subject} failed: ${JSON.stringify(body)}`);
  return body.id;
}

describe('the Confluent decoder against the schema registry', () => {
  const { schemaRegistryUrl } = services();

  it('decodes a SQL Server change encoded with the built schemas, fetching each id once', async () => {
    const server = uniqueName('erp').replace(/-/g, '_');
    const table: SqlServerTable = {
      server,
      database: 'erp',
      schema: 'dbo',
      table: 'SalesOrder',
      columns: [
        { name: 'OrderId', type: 'bigint', nullable: false },
        { name: 'Amount', type: 'decimal(19,4)', nullable: false },
        { name: 'ShippedAt', type: 'datetime2(7)', nullable: true },
        { name: 'OrderDate', type: 'date', nullable: false },
      ],
      primaryKey: ['OrderId'],
    };
    const probe = createSqlServerEncoder(table, { keySchemaId: 0, valueSchemaId: 0 });
    const keySchemaId = await register(schemaRegistryUrl, `${probe.schemas.topic}-key`, probe.schemas.key);
    const valueSchemaId = await register(schemaRegistryUrl, `${probe.schemas.topic}-value`, probe.schemas.value);

    // The registry stores what it was given: its copy is the builder's output, key for key.
    const stored = (await (await fetch(`${schemaRegistryUrl}/schemas/ids/${valueSchemaId}`)).json()) as {
      schema: string;
    };
    expect(JSON.parse(stored.schema)).toEqual(probe.schemas.value);

    const encoder = createSqlServerEncoder(table, { keySchemaId, valueSchemaId });
    const after = {
      OrderId: 9_007_199_254_740_993n,
      Amount: '1234.5000',
      ShippedAt: '2024-03-01T08:15:30.123456700',
      OrderDate: '2024-02-29',
    };
    const record = encoder.encode({
      op: 'c',
      before: null,
      after,
      source: {
        commitLsn: '00000027:00000758:0005',
        changeLsn: '00000027:00000758:0003',
        eventSerialNo: 1,
        tsMs: 1_709_280_930_000,
      },
      tsMs: 1_709_280_931_000,
      transaction: { id: '00000027:00000758:0005', totalOrder: 1, dataCollectionOrder: 1 },
    });

    let requests = 0;
    const decoder = createConfluentDecoder({
      registryUrl: schemaRegistryUrl,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const location = { topic: record.topic, partition: 0, offset: '42' };
    const [values, keys] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => decoder.decode(record.value, location))),
      Promise.all(Array.from({ length: 10 }, () => decoder.decode(record.key, location))),
    ]);
    expect(requests).toBe(2);
    expect(values[0]!.schemaName).toBe(`${probe.schemas.topic}.Envelope`);
    expect(keys[0]!.value).toEqual({ OrderId: 9_007_199_254_740_993n });

    const reader = createEnvelopeReader({ connector: 'sqlserver', topicPrefix: server });
    const result = reader.read({ ...location, key: keys[0]!.value, value: values[9]!.value });
    expect(result).toEqual({
      kind: 'change',
      event: {
        op: 'c',
        table: { server, database: 'erp', schema: 'dbo', table: 'SalesOrder' },
        key: { OrderId: 9_007_199_254_740_993n },
        before: null,
        after,
        source: {
          connector: 'sqlserver',
          tsMs: 1_709_280_930_000,
          snapshot: false,
          commitLsn: '00000027:00000758:0005',
          changeLsn: '00000027:00000758:0003',
          eventSerialNo: 1,
        },
        position: 'mssql:000000270000075800050000002700000758000300000001',
        tsMs: 1_709_280_931_000,
        transaction: { id: '00000027:00000758:0005', totalOrder: 1, dataCollectionOrder: 1 },
      },
    });
  });

  it('reports an id the registry does not know as a DecodeError naming it', async () => {
    const decoder = createConfluentDecoder({ registryUrl: schemaRegistryUrl });
    const bytes = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2]);
    const error = await decoder
      .decode(bytes, { topic: 'erp.erp.dbo.SalesOrder', partition: 2, offset: '1234' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).message).toBe(
      'Unknown schema id 2147483632 in record erp.erp.dbo.SalesOrder[2]@1234',
    );
  });
});
