import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../ops/pipeline-config.js';
import { ConfigError } from '../core/errors.js';
import { applyConnector, connectorStatus, restartConnector, snapshotTable } from './connectors-command.js';

const config = parsePipelineConfig(
  {
    source: { connector: 'postgresql', topicPrefix: 'erp', database: 'erp_demo', tables: ['public.refund'] },
    connector: { name: 'erp-pg', connectUrl: 'http://connect:8083' },
  },
  'the test',
  {},
);

function io(replies: { status: number; body?: unknown }[] = []) {
  const lines: string[] = [];
  const calls: string[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
    const reply = replies.shift()!;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status });
  }) as typeof globalThis.fetch;
  return {
    lines,
    calls,
    io: { env: { ERP_DB_PASSWORD: 'hunter2' }, write: (line: string) => lines.push(line), fetch },
  };
}

const failedStatus = {
  name: 'erp-pg',
  connector: { state: 'RUNNING', worker_id: '127.0.0.1:8083' },
  tasks: [
    {
      id: 0,
      state: 'FAILED',
      worker_id: '127.0.0.1:8083',
      trace: 'org.apache.kafka.connect.errors.ConnectException: boom\n\tat X',
    },
  ],
};

describe('cdc-sync connectors', () => {
  it('prints the dry-run config with the password redacted, without calling Connect or needing the password', async () => {
    const { lines, calls, io: base } = io();
    expect(await applyConnector(config, { ...base, env: {} }, { dryRun: true })).toBe('dry-run');
    expect(calls).toEqual([]);
    const printed = JSON.parse(lines.join('\n')) as { name: string; config: Record<string, string> };
    expect(printed.name).toBe('erp-pg');
    expect(printed.config['database.password']).toBe('********');
    expect(printed.config['table.include.list']).toBe('public.refund');
  });

  it('applies with the password from the environment, never printing it', async () => {
    const {
      lines,
      calls,
      io: test,
    } = io([
      { status: 404, body: { message: 'not found' } },
      { status: 201, body: {} },
    ]);
    expect(await applyConnector(config, test)).toBe('created');
    expect(calls).toEqual([
      'GET http://connect:8083/connectors/erp-pg/config',
      'PUT http://connect:8083/connectors/erp-pg/config',
    ]);
    expect(lines).toEqual(['Connector erp-pg created at http://connect:8083']);
  });

  it('fails to apply without the password variable', async () => {
    const { io: test } = io();
    await expect(applyConnector(config, { ...test, env: {} })).rejects.toThrow(ConfigError);
  });

  it("prints states and a failed task's trace", async () => {
    const { lines, io: test } = io([{ status: 200, body: failedStatus }]);
    await connectorStatus(config, test);
    expect(lines).toEqual([
      'Connector erp-pg: RUNNING on 127.0.0.1:8083',
      '  task 0: FAILED on 127.0.0.1:8083',
      '    org.apache.kafka.connect.errors.ConnectException: boom\n    \tat X',
    ]);
  });

  it.each([
    ['a failed task', failedStatus, ['task 0'], 'Connector erp-pg: restarting task 0', 2],
    [
      'nothing failed',
      { ...failedStatus, tasks: [{ id: 0, state: 'RUNNING' }] },
      [],
      'Connector erp-pg: nothing failed, nothing restarted',
      1,
    ],
  ])('restarts %s', async (_label, status, restarted, line, callCount) => {
    const { lines, calls, io: test } = io([{ status: 200, body: status }, { status: 202 }]);
    expect(await restartConnector(config, test)).toEqual(restarted);
    expect(lines).toEqual([line]);
    expect(calls).toHaveLength(callCount);
    if (callCount === 2)
      expect(calls[1]).toBe('POST http://connect:8083/connectors/erp-pg/restart?includeTasks=true&onlyFailed=true');
  });

  it('refuses to snapshot a table that is not captured', async () => {
    const { io: test } = io();
    await expect(snapshotTable(config, 'public.item', test)).rejects.toThrow(
      'Table public.item is not captured; source.tables lists public.refund',
    );
  });
});
