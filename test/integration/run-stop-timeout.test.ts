import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDON_GRACE_MS } from '../../ops/pipeline.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createMongoWireService } from '../../stack/services/mongo-wire.js';
import { createStack } from '../../stack/stack.js';
import { writeConfigFile } from './config-file.js';
import {
  ERP_FIXTURES,
  groupProgress,
  isolatedPipelineConfig,
  kafkaFor,
  produceFixtures,
  readTopic,
  waitCaughtUp,
  waitCaughtUpTransactional,
} from './pipeline-harness.js';
import { freePort } from './services.js';

/** The test's bound on finishing in-flight batches at stop; the default is longer than a test wants to wait. */
const STOP_TIMEOUT_MS = 4_000;
/** How much later than the bound the process may exit: the grace to leave the groups, and the exit itself. */
const EXIT_SLACK_MS = ABANDON_GRACE_MS + 3_000;

// A MongoDB-wire server of this test's own, on a free port and in a state folder of its own, so that stopping it
// (SIGSTOP: it accepts connections and requests and answers none, like a server stalled on its disk) leaves the
// shared one alone.
const stackRoot = mkdtempSync(join(tmpdir(), 'cdc-sync-stop-timeout-'));
let mongoStack: ReturnType<typeof createStack> | undefined;
let mongoPid: number | undefined;
let mongoStopped = false;
let workerPid: number | undefined;
let config: ReturnType<typeof isolatedPipelineConfig>;

describe('cdc-sync run stopped while a sink write hangs on a stalled MongoDB', () => {
  beforeAll(async () => {
    const service = createMongoWireService({ ...process.env, CDC_SYNC_MONGO_PORT: String(await freePort()) });
    mongoStack = createStack([service], { cacheRoot: resolveStackPaths().cacheRoot, stackRoot });
    const [started] = await mongoStack.up((line) => process.stderr.write(`${line}\n`));
    mongoPid = started!.pid;
    config = isolatedPipelineConfig({
      logLevel: 'info',
      mongodb: { uri: service.endpoint },
      stopTimeoutMs: STOP_TIMEOUT_MS,
    });
  });

  afterAll(async () => {
    if (workerPid !== undefined) {
      try {
        process.kill(-workerPid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
    if (mongoStopped) process.kill(-mongoPid!, 'SIGCONT');
    await mongoStack?.down();
    rmSync(stackRoot, { recursive: true, force: true });
  });

  it('abandons the in-flight batch within the bound, exits 1, says what it abandoned and commits nothing of it', async () => {
    const kafka = kafkaFor(config);
    await produceFixtures(config, [ERP_FIXTURES.inventoryBurst]);
    const child = spawn(
      join('node_modules', '.bin', 'tsx'),
      ['cli/main.ts', 'run', '--config', writeConfigFile(config)],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    workerPid = child.pid;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const inventorySource = sourceTopic(config.source, 'dbo.InventoryBalance');
    await waitCaughtUp(kafka, config.transform.groupId, [inventorySource]);
    await waitCaughtUpTransactional(kafka, config.sink.groupId, [config.topics.inventory]);
    const before = await readTopic(kafka, config.topics.inventory);

    process.kill(-mongoPid!, 'SIGSTOP');
    mongoStopped = true;
    // The same stock changes again: the transform publishes their events, and the sink's write of them hangs.
    await produceFixtures(config, [ERP_FIXTURES.inventoryBurst]);
    await waitCaughtUp(kafka, config.transform.groupId, [inventorySource]);
    const inFlight = (await readTopic(kafka, config.topics.inventory)).slice(before.length);
    // Time for the sink to fetch the new events and send their write.
    await sleep(2_000);
    const committedBefore = (await groupProgress(kafka, config.sink.groupId, [config.topics.inventory])).committed;

    const signalledAt = Date.now();
    process.kill(-workerPid!, 'SIGTERM');
    const exit = await Promise.race([
      exited,
      sleep(STOP_TIMEOUT_MS + EXIT_SLACK_MS + 30_000, 'still running' as const),
    ]);
    const elapsedMs = Date.now() - signalledAt;

    expect(exit, output).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS);
    expect(elapsedMs).toBeLessThan(STOP_TIMEOUT_MS + EXIT_SLACK_MS);
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const abandoned = lines.filter(
      (line) => line['msg'] === 'Stop timed out: abandoned the in-flight batches without committing their offsets',
    );
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]).toMatchObject({
      level: 50,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      abandoned: [
        {
          groupId: config.sink.groupId,
          topic: config.topics.inventory,
          partition: 0,
          firstOffset: inFlight[0]!.offset,
          lastOffset: inFlight.at(-1)!.offset,
          records: inFlight.length,
        },
      ],
    });
    expect(inFlight).toHaveLength(22);
    // The group's offset stays where it was: the abandoned events are read again after a restart.
    const committedAfter = (await groupProgress(kafka, config.sink.groupId, [config.topics.inventory])).committed;
    expect(committedAfter).toEqual(committedBefore);
    expect(BigInt(committedAfter[`${config.topics.inventory}[0]`]!)).toBeLessThanOrEqual(BigInt(inFlight[0]!.offset));
  });
});
