import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { type FixtureReader, readTestInput } from './input.js';

/** A fixture reader that records what it was handed and gives one record. */
const oneRecordFixture: FixtureReader = () => ({
  records: [{ index: 0, topic: 'erp.ErpDemo.dbo.Shipment', key: Buffer.from([0]), value: null }],
  schemas: new Map([[1, '"string"']]),
});

const envelope = { before: null, after: { Id: 1 }, source: { connector: 'sqlserver' }, op: 'c', ts_ms: 1 };

describe('readTestInput', () => {
  it.each([
    { given: 'a JSON fixture', path: 'case.json', text: '{"server":"erp","database":"ErpDemo","changes":[]}' },
    { given: 'a YAML fixture', path: 'case.yaml', text: 'server: erp\ndatabase: ErpDemo\nchanges: []\n' },
  ])('reads $given through the fixture reader', ({ path, text }) => {
    expect(readTestInput(path, text, oneRecordFixture)).toEqual({
      path,
      kind: 'fixture',
      schemas: new Map([[1, '"string"']]),
      records: [
        {
          where: `${path} changes[0]`,
          topic: 'erp.ErpDemo.dbo.Shipment',
          partition: 0,
          offset: '0',
          encoding: 'avro',
          key: Buffer.from([0]),
          value: null,
        },
      ],
    });
  });

  it('reads captured records with embedded schemas, tombstones and default places', () => {
    const text = [
      '{"schemaId": 7, "schema": {"type": "string"}}',
      '',
      '{"topic": "erp.ErpDemo.dbo.Shipment", "partition": 2, "offset": "41", "key": "AAAAAAc=", "value": "AAAAAAcCYQ=="}',
      '{"topic": "erp.ErpDemo.dbo.Shipment", "key": "AAAAAAc=", "value": null}',
    ].join('\n');
    expect(readTestInput('capture.jsonl', text, oneRecordFixture)).toEqual({
      path: 'capture.jsonl',
      kind: 'captured',
      schemas: new Map([[7, '{"type":"string"}']]),
      records: [
        {
          where: 'capture.jsonl line 3',
          topic: 'erp.ErpDemo.dbo.Shipment',
          partition: 2,
          offset: '41',
          encoding: 'avro',
          key: Buffer.from('AAAAAAc=', 'base64'),
          value: Buffer.from('AAAAAAcCYQ==', 'base64'),
        },
        {
          where: 'capture.jsonl line 4',
          topic: 'erp.ErpDemo.dbo.Shipment',
          partition: 0,
          offset: '1',
          encoding: 'avro',
          key: Buffer.from('AAAAAAc=', 'base64'),
          value: null,
        },
      ],
    });
  });

  it('reads Debezium JSON documents: bare, wrapped in schema and payload, and with their key', () => {
    const wrapped = { schema: { type: 'struct', fields: [] }, payload: envelope };
    const text = [
      JSON.stringify(envelope),
      JSON.stringify(wrapped),
      JSON.stringify({ topic: 'erp.ErpDemo.dbo.T', key: { Id: 1 }, value: envelope }),
      '{"value": {"op": "c", "source": {}, "after": {"Big": 9007199254740993}}}',
    ].join('\n');
    const input = readTestInput('docs.jsonl', text, oneRecordFixture);
    expect(input.kind).toBe('json');
    expect(input.records).toEqual([
      {
        where: 'docs.jsonl line 1',
        topic: '',
        partition: 0,
        offset: '0',
        encoding: 'json',
        key: null,
        value: envelope,
      },
      { where: 'docs.jsonl line 2', topic: '', partition: 0, offset: '1', encoding: 'json', key: null, value: wrapped },
      {
        where: 'docs.jsonl line 3',
        topic: 'erp.ErpDemo.dbo.T',
        partition: 0,
        offset: '2',
        encoding: 'json',
        key: { Id: 1 },
        value: envelope,
      },
      {
        where: 'docs.jsonl line 4',
        topic: '',
        partition: 0,
        offset: '3',
        encoding: 'json',
        key: null,
        value: { op: 'c', source: {}, after: { Big: 9007199254740993n } },
      },
    ]);
  });

  it('reads one pretty-printed JSON document as a file of one record', () => {
    const input = readTestInput('one.json', JSON.stringify(envelope, null, 2), oneRecordFixture);
    expect(input.kind).toBe('json');
    expect(input.records.map(({ where }) => where)).toEqual(['one.json line 1']);
  });

  it.each([
    {
      given: 'an empty file',
      path: 'x.jsonl',
      text: '\n\n',
      message: 'x.jsonl: empty; expected a fixture file, captured records or Debezium JSON documents',
    },
    {
      given: 'a line that is not JSON',
      path: 'x.jsonl',
      text: '{"topic": "t", "key": null, "value": null}\nnot json\n',
      message:
        'x.jsonl line 2: not JSON (Unexpected token \'o\', "not json" is not valid JSON); expected a fixture file, captured records or Debezium JSON documents, one per line',
    },
    {
      given: 'a line of none of the kinds',
      path: 'x.jsonl',
      text: '\n{"hello": "world"}\n',
      message:
        'x.jsonl line 2: neither a captured record ({"topic", "key", "value"} with base64 bytes), a schema ({"schemaId", "schema"}) nor a Debezium JSON document (an envelope with op and source, {"schema", "payload"}, or {"key", "value"} of them)',
    },
    {
      given: 'a JSON document among captured records',
      path: 'x.jsonl',
      text: `{"topic": "t", "key": null, "value": "AA=="}\n${JSON.stringify(envelope)}\n`,
      message: 'x.jsonl line 2: a Debezium JSON document in a file of captured records (line 1)',
    },
    {
      given: 'bytes that are not base64',
      path: 'x.jsonl',
      text: '{"topic": "t", "key": "not base64!", "value": "AA=="}',
      message: 'x.jsonl line 1: key: expected base64 bytes or null, got "not base64!"',
    },
    {
      given: 'a bad offset',
      path: 'x.jsonl',
      text: '{"topic": "t", "offset": -1, "value": "AA=="}\n{"topic": "t", "value": "AA=="}',
      message: 'x.jsonl line 1: offset: expected a whole number, got -1',
    },
    {
      given: 'a schema id given twice, differently',
      path: 'x.jsonl',
      text: '{"schemaId": 1, "schema": "string"}\n{"schemaId": 1, "schema": "long"}',
      message: 'x.jsonl line 2: schema id 1 differs from line 1',
    },
    {
      given: 'schemas without records',
      path: 'x.jsonl',
      text: '{"schemaId": 1, "schema": "string"}\n',
      message: 'x.jsonl: schemas only, no records',
    },
    {
      given: 'a YAML file that is no fixture',
      path: 'x.yaml',
      text: '- a\n- b\n',
      message: 'x.yaml: expected a fixture file (an object with server, database and changes)',
    },
  ])('refuses $given, naming the file and line', ({ path, text, message }) => {
    const read = () => readTestInput(path, text, oneRecordFixture);
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
    try {
      read();
    } catch (error: unknown) {
      expect((error as Error).message).toBe(message);
    }
  });
});
