import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { silentProgress } from '../ops/progress.js';
import { createTestCommand, TEST_EXIT, type TestCommandIo } from './test-command.js';

const FIXTURE = 'test/fixtures/erp/order-lifecycle.json';
const EXPECTED = 'test/fixtures/erp/order-lifecycle.expected.yaml';

const SUMMARY = [
  `17 records of ${FIXTURE} (fixture): 17 changes, 0 tombstones, 0 ignored, 0 read by no stage`,
  '  stock_level: 0 in, 0 emitted, 0 skipped, 0 failed',
  '  order_header: 5 in, 5 emitted, 0 skipped, 0 failed',
  '  order_line: 3 in, 3 emitted, 0 skipped, 0 failed',
  '  payment_captured: 3 in, 1 emitted, 2 skipped, 0 failed',
  '  shipment_dispatched: 2 in, 1 emitted, 1 skipped, 0 failed',
  '  return_received: 2 in, 1 emitted, 1 skipped, 0 failed',
  '  refund_completed: 2 in, 1 emitted, 1 skipped, 0 failed',
];

/** Runs `cdc-sync test` with captured output; `files` replaces the content of files the command reads. */
async function runTest(
  args: string[],
  files: Record<string, string | undefined> = {},
  io: Partial<TestCommandIo> = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const written: Record<string, string> = {};
  let code: number | undefined;
  await createTestCommand({
    env: {},
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readFile: (path) => files[path] ?? readFileSync(path, 'utf8'),
    writeFile: (path, text) => {
      written[path] = text;
    },
    exit: (exitCode) => {
      code = exitCode;
    },
    progress: silentProgress,
    ...io,
  }).parseAsync(args, { from: 'user' });
  return { code, stdout: out.join(''), stderr: err.join(''), written };
}

describe('cdc-sync test', () => {
  it('passes the committed sample ERP example: the order lifecycle fixture against its expected events', async () => {
    const result = await runTest([FIXTURE, '--expect', EXPECTED]);
    expect(result).toEqual({
      code: TEST_EXIT.equal,
      stdout: [...SUMMARY, `All 12 events and 0 dead letters match ${EXPECTED}`, ''].join('\n'),
      stderr: '',
      written: {},
    });
  });

  it('--update writes exactly the committed expected file, so it is current', async () => {
    const result = await runTest([FIXTURE, '--expect', EXPECTED, '--update']);
    expect(result.code).toBe(TEST_EXIT.equal);
    expect(result.written).toEqual({ [EXPECTED]: readFileSync(EXPECTED, 'utf8') });
    expect(result.stdout.endsWith(`Wrote 12 events and 0 dead letters to ${EXPECTED}\n`)).toBe(true);
  });

  it('exits 1 and prints the missing, unexpected and changed events with their differing fields', async () => {
    const events = parseYaml(readFileSync(EXPECTED, 'utf8')) as {
      meta: Record<string, unknown>;
      payload: Record<string, unknown>;
    }[];
    // A hand-written file: no optional meta fields; one total changed, the OrderLineChanged events dropped.
    const edited = events
      .filter(({ meta }) => meta['eventType'] !== 'OrderLineChanged')
      .map(({ meta, payload }) => ({
        meta: { eventType: meta['eventType'], aggregateKey: meta['aggregateKey'] },
        payload: meta['eventType'] === 'OrderAccepted' ? { ...payload, orderTotal: '48.23' } : payload,
      }));
    edited.push({
      meta: { eventType: 'OrderDeleted', aggregateKey: 'SO-100234' },
      payload: { orderNumber: 'SO-100234' },
    });
    const result = await runTest([FIXTURE, '--expect', 'edited.yaml'], { 'edited.yaml': stringifyYaml(edited) });
    expect(result.code).toBe(TEST_EXIT.differ);
    expect(result.stdout).toBe(
      [
        ...SUMMARY,
        'Differences from edited.yaml:',
        `  changed    [0] OrderAccepted SO-100234 (order_header, from ${FIXTURE} changes[0])`,
        '      payload.orderTotal: expected "48.23", actual "48.2300"',
        '  missing    [9] OrderDeleted SO-100234',
        `  unexpected OrderLineChanged SO-100234 (order_line, from ${FIXTURE} changes[1])`,
        `  unexpected OrderLineChanged SO-100234 (order_line, from ${FIXTURE} changes[2])`,
        `  unexpected OrderLineChanged SO-100234 (order_line, from ${FIXTURE} changes[3])`,
        'Events: 1 missing, 3 unexpected, 1 changed; dead letters: 0 missing, 0 unexpected, 0 changed',
        '',
      ].join('\n'),
    );
  });

  it("reads fixtures against the table definitions it is given instead of the sample ERP's", async () => {
    const customer = {
      schema: 'Sales',
      table: 'Customer',
      primaryKey: ['CustomerID'],
      columns: [
        { name: 'CustomerID', type: 'int', nullable: false },
        { name: 'AccountNumber', type: 'varchar(10)', nullable: false },
      ],
    };
    const fixture = JSON.stringify({
      server: 'erp',
      database: 'ErpDemo',
      changes: [{ table: 'Sales.Customer', op: 'c', after: { CustomerID: 1, AccountNumber: 'AW00000001' } }],
    });
    const result = await runTest(
      ['in.json', '--expect', 'e.yaml'],
      { 'in.json': fixture, 'e.yaml': '[]\n' },
      {
        fixtureTables: [customer],
      },
    );
    expect(result.code).toBe(TEST_EXIT.equal);
    expect(result.stdout.split('\n')[0]).toBe(
      '1 record of in.json (fixture): 1 change, 0 tombstones, 0 ignored, 1 read by no stage',
    );
  });

  it('lists the skipped changes with --verbose', async () => {
    const result = await runTest([FIXTURE, '--expect', EXPECTED, '--verbose']);
    expect(result.stdout).toContain(`Skipped:\n  payment_captured (${FIXTURE} changes[5]): TxnType AUT is not CAP\n`);
  });

  it.each([
    {
      given: 'an input of none of the kinds',
      files: { 'in.jsonl': '{"topic": "t", "value": "AA=="}\n[1, 2]\n' },
      args: ['in.jsonl', '--expect', EXPECTED],
      message:
        'in.jsonl line 2: neither a captured record ({"topic", "key", "value"} with base64 bytes), a schema ({"schemaId", "schema"}) nor a Debezium JSON document (an envelope with op and source, {"schema", "payload"}, or {"key", "value"} of them)',
    },
    {
      given: 'a fixture naming a table the fixture tables lack',
      files: {
        'in.json': '{"server": "erp", "database": "ErpDemo", "changes": [{"table": "Sales.Customer", "op": "c"}]}',
      },
      args: ['in.json', '--expect', EXPECTED],
      message:
        'in.json changes[0].table: expected one of dbo.Item, dbo.Location, dbo.InventoryBalance, dbo.SalesOrderHeader, dbo.SalesOrderLine, dbo.PaymentTransaction, dbo.Shipment, dbo.ShipmentLine, dbo.ReturnAuthorization, dbo.Refund, got "Sales.Customer"',
    },
    {
      given: 'an expected file that cannot be read',
      files: {},
      args: [FIXTURE, '--expect', 'no/such/expected.yaml'],
      message:
        "Cannot read expected events file no/such/expected.yaml: ENOENT: no such file or directory, open 'no/such/expected.yaml'",
    },
    {
      given: 'an invalid expected file',
      files: { 'e.yaml': '- meta: { eventType: OrderAccepted }\n  payload: {}\n' },
      args: [FIXTURE, '--expect', 'e.yaml'],
      message: 'e.yaml [0].meta.aggregateKey: expected a string',
    },
  ])('exits 2 on $given, naming the file and where in it', async ({ files, args, message }) => {
    const result = await runTest(args, files);
    expect(result).toEqual({
      code: TEST_EXIT.badInput,
      stdout: '',
      stderr: `cdc-sync test: ${message}\n`,
      written: {},
    });
  });
});
