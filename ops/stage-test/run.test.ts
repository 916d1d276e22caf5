import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../../core/canonical.js';
import { SourceUnavailableError } from '../../core/errors.js';
import { bytesFromUnscaled } from '../../connectors/avro/debezium-types.js';
import { expectedEnvelopes } from '../../devtools/fixtures/expected-envelopes.js';
import { parseFixture, readFixtureFile, validateFixture } from '../../devtools/fixtures/fixture-file.js';
import { fixtureWireRecords } from '../../devtools/fixtures/wire-records.js';
import { SAMPLE_ERP_STAGES } from '../../transforms/index.js';
import { COMPONENT_SCHEMAS, createStages } from '../components.js';
import { parsePipelineConfig } from '../pipeline-config.js';
import { type FixtureReader, readTestInput } from './input.js';
import { runStageTest } from './run.js';

const origin = 'the test config';
const config = (raw: Record<string, unknown> = {}) =>
  parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES, ...raw }, origin, {}, COMPONENT_SCHEMAS);
const readFixture: FixtureReader = (document, path) => fixtureWireRecords(validateFixture(document, path));
const BURST = 'test/fixtures/erp/inventory-burst.json';

/** The events the configured stages give for a fixture's changes, applied directly to the fixture's ChangeEvents. */
function directEvents(path: string): CanonicalEvent[] {
  const { stagesFor } = createStages(config(), pino({ enabled: false }), origin);
  return expectedEnvelopes(readFixtureFile(path)).flatMap(({ result }) =>
    result.kind === 'change'
      ? stagesFor(result.event.table).flatMap((stage) => {
          const outcome = stage.apply(result.event);
          return outcome.kind === 'emit' ? outcome.events : [];
        })
      : [],
  );
}

/** The fixture's records as captured JSON Lines: each schema once, then each record with its bytes in base64. */
function capturedLines(path: string, embedSchemas: boolean): string {
  const wire = fixtureWireRecords(readFixtureFile(path));
  const schemas = [...wire.schemas].map(([schemaId, schema]) => JSON.stringify({ schemaId, schema }));
  const records = wire.records.map(({ topic, key, value }, offset) =>
    JSON.stringify({
      topic,
      partition: 0,
      offset,
      key: key?.toString('base64') ?? null,
      value: value?.toString('base64') ?? null,
    }),
  );
  return [...(embedSchemas ? schemas : []), ...records].join('\n');
}

describe('runStageTest', () => {
  it('runs a fixture through the decoder, the envelope reader and the configured stages', async () => {
    const fixtureText = await import('node:fs').then(({ readFileSync }) => readFileSync(BURST, 'utf8'));
    const run = await runStageTest(config(), origin, readTestInput(BURST, fixtureText, readFixture));
    expect(run.events.map(({ event }) => event)).toEqual(directEvents(BURST));
    expect(run.events[0]).toMatchObject({ where: `${BURST} changes[0]`, stage: 'stock_level' });
    expect(run.records).toEqual({ total: 23, changes: 22, tombstones: 1, ignored: 0, unrouted: 0 });
    expect(run.stages.find(({ name }) => name === 'stock_level')).toEqual({
      name: 'stock_level',
      in: 22,
      emitted: 22,
      skipped: 0,
      failed: 0,
    });
    expect(run.skips).toEqual([]);
    expect(run.deadLetters).toEqual([]);
  });

  it('runs captured records with embedded schemas to the same events, and dead-letters bytes it cannot decode', async () => {
    const text = `${capturedLines(BURST, true)}\n{"topic": "erp.ErpDemo.dbo.Shipment", "offset": 99, "key": null, "value": "AQID"}`;
    const run = await runStageTest(config(), origin, readTestInput('burst.jsonl', text, readFixture));
    expect(run.events.map(({ event }) => event)).toEqual(directEvents(BURST));
    expect(run.deadLetters).toEqual([
      {
        where: 'burst.jsonl line 26',
        stage: 'decode',
        message: 'Bad magic byte 0x01 in record erp.ErpDemo.dbo.Shipment[0]@99',
      },
    ]);
  });

  it('fetches a schema the capture lacks from the config registry, failing when it cannot be reached', async () => {
    const input = readTestInput('burst.jsonl', capturedLines(BURST, false), readFixture);
    const unreachable = config({ schemaRegistry: { url: 'http://127.0.0.1:59999' } });
    await expect(runStageTest(unreachable, origin, input)).rejects.toThrow(SourceUnavailableError);
  });

  it('reads changes as config.source names them: another topic prefix dead-letters them as the pipeline would', async () => {
    const input = readTestInput('burst.jsonl', capturedLines(BURST, true), readFixture);
    const run = await runStageTest(config({ source: { topicPrefix: 'shop' } }), origin, input);
    expect(run.events).toEqual([]);
    expect(run.deadLetters[0]).toEqual({
      where: 'burst.jsonl line 3',
      stage: 'decode',
      message:
        'Topic erp.ErpDemo.dbo.InventoryBalance is not shop.<db>.<schema>.<table> of the sqlserver connector in record erp.ErpDemo.dbo.InventoryBalance[0]@0',
    });
  });

  it("dead-letters a change a stage fails, under the stage, with the stage's message", async () => {
    const fixture = {
      server: 'erp',
      database: 'ErpDemo',
      changes: [{ table: 'dbo.SalesOrderHeader', op: 'c', after: { ...ORDER, StatusCode: 'ZZ' } }],
    };
    const run = await runStageTest(config(), origin, readTestInput('bad.json', JSON.stringify(fixture), readFixture));
    expect(run.events).toEqual([]);
    expect(run.deadLetters).toEqual([
      {
        where: 'bad.json changes[0]',
        stage: 'order_header',
        message:
          'Unknown StatusCode "ZZ" of order SO-1 in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-1"}; map it under transforms.order_header.statusMap in the pipeline config',
      },
    ]);
  });

  it('runs Debezium JSON documents (JsonConverter, schemas enabled) to the events of the same change as Avro', async () => {
    const fixture = parseFixture(
      JSON.stringify({
        server: 'erp',
        database: 'ErpDemo',
        changes: [
          {
            table: 'dbo.InventoryBalance',
            op: 'u',
            before: BALANCE,
            after: { ...BALANCE, QtyOnHand: '479.000' },
            position: { commitLsn: '0000002a:00001f40:0003', changeLsn: '0000002a:00001f40:0002', eventSerialNo: 2 },
            tsMs: 1_764_230_401_000,
            sourceTsMs: 1_764_230_400_900,
          },
        ],
      }),
      'one.json',
    );
    const { stagesFor } = createStages(config(), pino({ enabled: false }), origin);
    const [change] = expectedEnvelopes(fixture);
    const expected =
      change!.result.kind === 'change'
        ? stagesFor(change!.result.event.table)[0]!.apply(change!.result.event)
        : undefined;

    const document = jsonConverterUpdate(BALANCE, { ...BALANCE, QtyOnHand: '479.000' });
    const text = [
      JSON.stringify({ key: jsonConverterKey(BALANCE), value: document }).replace(/"(-?\d+)n"/g, '$1'),
      JSON.stringify(document).replace(/"(-?\d+)n"/g, '$1'),
    ].join('\n');
    const run = await runStageTest(config(), origin, readTestInput('docs.jsonl', text, readFixture));
    expect(expected).toMatchObject({ kind: 'emit' });
    expect(run.events[0]!.event).toEqual(expected!.kind === 'emit' ? expected!.events[0] : undefined);
    // Without its key, the change gets another event id (the key is part of it), the same payload.
    expect(run.events[1]!.event.payload).toEqual(run.events[0]!.event.payload);
    expect(run.events[1]!.event.meta.eventId).not.toBe(run.events[0]!.event.meta.eventId);
    expect(run.deadLetters).toEqual([]);
  });
});

const ORDER = {
  OrderNumber: 'SO-1',
  CustomerId: 'CUST-1',
  CustomerEmail: null,
  Channel: 'WEB',
  StatusCode: 'NW',
  CurrencyCode: 'EUR',
  OrderTotal: '10.0000',
  PlacedAt: '2025-11-27T09:00:00.0000000+01:00',
  RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C3301',
  ModifiedAt: '2025-11-27T08:00:00.000000000',
};

const BALANCE = {
  Sku: 'MUG-STONE-350',
  LocationCode: 'WH-EAST',
  QtyOnHand: '480.000',
  QtyAllocated: '12.000',
  SafetyStock: '50.000',
  LastCountedAt: '2025-11-20T07:30:00.0000000+01:00',
  ModifiedAt: '2025-11-26T22:00:00.000000000',
};

type Balance = typeof BALANCE;

const decimalField = (field: string) => ({
  type: 'bytes',
  optional: false,
  name: 'org.apache.kafka.connect.data.Decimal',
  version: 1,
  parameters: { scale: '3', 'connect.decimal.precision': '18' },
  field,
});

const BALANCE_SCHEMA = {
  type: 'struct',
  optional: true,
  name: 'erp.ErpDemo.dbo.InventoryBalance.Value',
  fields: [
    { type: 'string', optional: false, field: 'Sku' },
    { type: 'string', optional: false, field: 'LocationCode' },
    decimalField('QtyOnHand'),
    decimalField('QtyAllocated'),
    decimalField('SafetyStock'),
    { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1, field: 'LastCountedAt' },
    { type: 'int64', optional: false, name: 'io.debezium.time.NanoTimestamp', version: 1, field: 'ModifiedAt' },
  ],
};

/** A row as JsonConverter writes it: decimals as base64 of the unscaled value, NanoTimestamp as epoch nanoseconds. */
function jsonRow(row: Balance) {
  const decimal = (text: string) => bytesFromUnscaled(BigInt(text.replace('.', ''))).toString('base64');
  return {
    Sku: row.Sku,
    LocationCode: row.LocationCode,
    QtyOnHand: decimal(row.QtyOnHand),
    QtyAllocated: decimal(row.QtyAllocated),
    SafetyStock: decimal(row.SafetyStock),
    LastCountedAt: row.LastCountedAt,
    // Written as a marked string and unmarked in the JSON text: the value is beyond 2^53.
    ModifiedAt: `${BigInt(Date.parse(`${row.ModifiedAt.slice(0, 19)}Z`)) * 1_000_000n}n`,
  };
}

/** The value document Kafka Connect's JsonConverter (schemas.enable=true) writes for an update. */
function jsonConverterUpdate(before: Balance, after: Balance) {
  const int64 = (field: string, optional = false) => ({ type: 'int64', optional, field });
  const string = (field: string, optional = false) => ({ type: 'string', optional, field });
  return {
    schema: {
      type: 'struct',
      optional: false,
      name: 'erp.ErpDemo.dbo.InventoryBalance.Envelope',
      fields: [
        { ...BALANCE_SCHEMA, field: 'before' },
        { ...BALANCE_SCHEMA, field: 'after' },
        {
          type: 'struct',
          optional: false,
          name: 'io.debezium.connector.sqlserver.Source',
          field: 'source',
          fields: [
            string('version'),
            string('connector'),
            string('name'),
            int64('ts_ms'),
            { ...string('snapshot', true), name: 'io.debezium.data.Enum' },
            string('db'),
            string('schema'),
            string('table'),
            string('change_lsn', true),
            string('commit_lsn', true),
            int64('event_serial_no', true),
          ],
        },
        { type: 'struct', optional: true, field: 'transaction', fields: [] },
        string('op'),
        int64('ts_ms', true),
      ],
    },
    payload: {
      before: jsonRow(before),
      after: jsonRow(after),
      source: {
        version: '3.4.3.Final',
        connector: 'sqlserver',
        name: 'erp',
        ts_ms: 1_764_230_400_900,
        snapshot: 'false',
        db: 'ErpDemo',
        schema: 'dbo',
        table: 'InventoryBalance',
        change_lsn: '0000002a:00001f40:0002',
        commit_lsn: '0000002a:00001f40:0003',
        event_serial_no: 2,
      },
      transaction: null,
      op: 'u',
      ts_ms: 1_764_230_401_000,
    },
  };
}

function jsonConverterKey(row: Balance) {
  return {
    schema: {
      type: 'struct',
      optional: false,
      name: 'erp.ErpDemo.dbo.InventoryBalance.Key',
      fields: [
        { type: 'string', optional: false, field: 'Sku' },
        { type: 'string', optional: false, field: 'LocationCode' },
      ],
    },
    payload: { Sku: row.Sku, LocationCode: row.LocationCode },
  };
}
