import { afterAll, describe, expect, it } from 'vitest';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { orderHeaderCreated, produceFixtures } from '../integration/pipeline-harness.js';
import { endCheck, type ExpectedDeadLetter, expectClean, readRaw, waitPipelineDone } from './harness/end-check.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 10: poison records end to end, mid-stream between good changes of the same partitions, into a running
// pipeline: bytes without Confluent framing, an unknown schema id, truncated Avro, a valid Debezium record of a table
// the pipeline does not capture (the same table of another database, on this table's topic), and a change a stage
// rejects (an order status the ERP map lacks). Each one must land in the dead-letter topic with its original key and
// value bytes and headers naming where it came from, the stage and the error, and every good change after it must be
// applied: the partition keeps moving.

const INVENTORY = 'dbo.InventoryBalance';
const KEY = { Sku: 'ROPE-DYN-10MM', LocationCode: 'WH-EAST' };

describe('scenario 10: poison records end to end', () => {
  const s = fixtureScenario();

  afterAll(() => s.dispose());

  it('dead-letters each one exactly, with its original bytes, and keeps every partition moving', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(5000, 4, 2)]);
    const transform = s.worker('transform', 'transform');
    const sink = s.worker('sink', 'sink');
    await Promise.all([transform.ready(), sink.ready()]);
    await waitPipelineDone(s.kafka, s.config);

    const topic = sourceTopic(s.config.source, INVENTORY);
    // A real record of this topic to cut short, and the same table's record from another database.
    const valid = (await readRaw(s.kafka, topic)).at(-1)!;
    const otherDatabase = await foreignRecord(s, s.erp.balances().get('ROPE-DYN-10MM@WH-EAST')!);

    const poison = [
      { table: INVENTORY, key: KEY, rawValueBase64: Buffer.from('not avro').toString('base64') },
      {
        table: INVENTORY,
        key: KEY,
        rawValueBase64: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 4, 6]).toString('base64'),
      },
      {
        table: INVENTORY,
        rawKeyBase64: valid.key!.toString('base64'),
        rawValueBase64: valid.value!.subarray(0, Math.floor(valid.value!.length / 2)).toString('base64'),
      },
      {
        table: INVENTORY,
        rawKeyBase64: otherDatabase.key!.toString('base64'),
        rawValueBase64: otherDatabase.value!.toString('base64'),
      },
      orderHeaderCreated({
        OrderNumber: 'SO-POISON-1',
        StatusCode: 'ZZ',
        RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C9999',
      }),
    ];
    const changes: Record<string, unknown>[] = [];
    for (const record of poison) changes.push(record, ...s.erp.stockMoves(40));
    const [produced] = await produceFixtures(s.config, [s.erp.fixture(changes, 'poison records')]);
    const at = poison.map((record) => produced!.records[changes.indexOf(record)]!);

    const expected: ExpectedDeadLetter[] = [];
    const stages = [
      ['decode', 'DecodeError'],
      ['decode', 'DecodeError'],
      ['decode', 'DecodeError'],
      ['decode', 'DecodeError'],
      ['order_header', 'TransformError'],
    ] as const;
    for (const [index, where] of at.entries()) {
      const original = (await readRaw(s.kafka, where.topic)).find((record) => record.offset === where.offset)!;
      expected.push({
        sourceTopic: where.topic,
        sourcePartition: String(where.partition),
        sourceOffset: where.offset,
        stage: stages[index]![0],
        errorClass: stages[index]![1],
        key: original.key?.toString('base64') ?? null,
        value: original.value?.toString('base64') ?? null,
      });
    }

    const result = await endCheck({
      report: {
        name: '10 poison records end to end',
        fault: 'no framing, unknown schema id, truncated Avro, a table of another database, a status the stage rejects',
        landed: at.map((where) => `${where.topic.split('.').at(-1)}[${where.partition}]@${where.offset}`).join(', '),
      },
      config: s.config,
      erp: s.erp,
      running: [transform, sink],
    });
    expectClean(result, expected);
    const messages = new Map(result.deadLetters.map((letter) => [letter.sourceOffset + letter.sourceTopic, letter]));
    expect(at.map((where) => messages.get(where.offset + where.topic)?.errorMessage)).toEqual([
      `Bad magic byte 0x6e in record ${at[0]!.topic}[0]@${at[0]!.offset}`,
      `Unknown schema id 2147483632 in record ${at[1]!.topic}[0]@${at[1]!.offset}`,
      expect.stringMatching(
        new RegExp(
          `^Truncated Avro body of \\d+ bytes for schema id \\d+ in record ${escape(at[2]!.topic)}\\[0\\]@${at[2]!.offset}$`,
        ),
      ),
      `Source table ArchiveDb.dbo.InventoryBalance is not the table ErpDemo.dbo.InventoryBalance of the topic in record ${at[3]!.topic}[0]@${at[3]!.offset}`,
      'Unknown StatusCode "ZZ" of order SO-POISON-1 in ErpDemo.dbo.SalesOrderHeader key {"OrderNumber":"SO-POISON-1"}; map it under transforms.order_header.statusMap in the pipeline config',
    ]);
  });
});

/**
 * A valid record of the same table captured from another database (ArchiveDb): a stock move setting the balance's
 * quantity to 1, written as Debezium writes it to that database's own topic, then read back.
 */
async function foreignRecord(s: ReturnType<typeof fixtureScenario>, row: Record<string, unknown>) {
  const archive = {
    ...s.config,
    source: { ...s.config.source, topicPrefix: `${s.config.source.topicPrefix}_archive` },
  };
  const fixture = s.erp.fixture([{ table: INVENTORY, op: 'u', before: row, after: { ...row, QtyOnHand: '1.000' } }]);
  const raw = { ...(fixture as { raw: Record<string, unknown> }).raw, database: 'ArchiveDb' };
  await produceFixtures(archive, [{ name: 'a change of ArchiveDb', raw }]);
  return (await readRaw(s.kafka, `${archive.source.topicPrefix}.ArchiveDb.${INVENTORY}`))[0]!;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
