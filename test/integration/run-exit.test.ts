import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeConfigFile } from './config-file.js';
import { isolatedPipelineConfig, kafkaFor, produceFixtures } from './pipeline-harness.js';

/** How long the worker may take to start, meet the failure and exit. */
const EXIT_WITHIN_MS = 90_000;

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
    // The broker refuses every canonical event on this topic: a failure kafkajs does not restart from.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: config.topics.inventory, configEntries: [{ name: 'max.message.bytes', value: '64' }] }],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
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
    const exit = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
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
    expect(fatal[0]!.err?.message).toMatch(
      new RegExp(
        `^The consumer of group ${config.transform.groupId} stopped after an error it does not restart from: `,
      ),
    );
  });
});
