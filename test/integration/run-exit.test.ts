import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeConfigFile } from './config-file.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { isolatedPipelineConfig, kafkaFor, produceFixtures, waitCaughtUp } from './pipeline-harness.js';

/** How long the worker may take to meet the failure and exit, once it has it. */
const EXIT_WITHIN_MS = 60_000;

describe('cdc-sync run with a worker that stops for good', () => {
  const config = isolatedPipelineConfig({ logLevel: 'info' });
  const kafka = kafkaFor(config);
  let pid: number | undefined;

  afterAll(() => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  });

  it('exits 1 and says why instead of staying up with a stopped consumer', async () => {
    await produceFixtures(config, ['test/fixtures/erp/inventory-burst.json']);
    const child = spawn(
      join('node_modules', '.bin', 'tsx'),
      ['cli/main.ts', 'run', '--role', 'transform', '--config', writeConfigFile(config)],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    pid = child.pid;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The fixture's topic; the worker creates the other source topics itself.
    await waitCaughtUp(kafka, config.transform.groupId, [sourceTopic(config.source, 'dbo.InventoryBalance')]);

    // A second producer with the worker's transactional id fences it: the broker refuses the worker's next
    // transaction for good (INVALID_PRODUCER_EPOCH), a failure kafkajs does not restart the consumer from.
    const fencing = kafka.producer({
      transactionalId: config.transform.transactionalId!,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await fencing.connect();
    try {
      await (await fencing.transaction()).abort();
    } finally {
      await fencing.disconnect();
    }
    await produceFixtures(config, ['test/fixtures/erp/inventory-burst.json']);
    const exit = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => setTimeout(resolve, EXIT_WITHIN_MS, 'still running')),
    ]);

    expect(exit, output).toBe(1);
    const fatal = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } })
      .filter((line) => line.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toBe('A worker stopped for good; exiting so that the process is restarted');
    expect(fatal[0]!.err?.message).toBe(
      `The consumer of group ${config.transform.groupId} stopped after an error it does not restart from: ` +
        "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker",
    );
  });
});
