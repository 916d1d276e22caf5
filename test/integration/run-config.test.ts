import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConfigFile } from './config-file.js';
import { isolatedPipelineConfig, kafkaFor } from './pipeline-harness.js';
import { freePort } from './services.js';

/** Runs `cdc-sync run --config <file>` to its exit; resolves with the exit code and what it wrote to stderr. */
async function runToExit(file: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

describe('cdc-sync run with an invalid config', () => {
  it('names every problem at once and exits before it creates a topic', async () => {
    const config = isolatedPipelineConfig({ ops: { port: await freePort() } });
    const file = writeConfigFile({
      ...config,
      transforms: { order_header: { statusMap: { NW: 'SHIPPING' } }, stock_levels: {} },
      sinks: { order_view: { collection: '' } },
    });

    const { code, stderr } = await runToExit(file);

    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `cdc-sync: Invalid config in ${file}, 3 problems:`,
      '  at transforms.order_header.statusMap.NW: Invalid option: expected one of "PENDING"|"ACCEPTED"|"PICKING"|"SHIPPED"|"CLOSED"|"CANCELLED" (got "SHIPPING")',
      '  at transforms.stock_levels: Unknown transform "stock_levels"; known: stock_level, order_header, order_line, payment_captured, shipment_dispatched, return_received, refund_completed',
      '  at sinks.order_view.collection: Too small: expected string to have >=1 characters (got "")',
    ]);
    const admin = kafkaFor(config).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics.filter((topic) => topic.startsWith(config.source.topicPrefix))).toEqual([]);
      expect(topics).not.toContain(config.topics.inventory);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses to transform with no stage listed, naming the key, before it creates a topic', async () => {
    const config = isolatedPipelineConfig({ ops: { port: await freePort() } });
    const file = writeConfigFile({ ...config, transforms: {} });

    const { code, stderr } = await runToExit(file);

    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `cdc-sync: No stage to run in ${file}: a pipeline runs only the stages it lists under transforms, e.g. ` +
        "transforms: { stock_level: {} } (config/pipeline.example.yaml lists the sample ERP's); registered: " +
        'stock_level, order_header, order_line, payment_captured, shipment_dispatched, return_received, refund_completed',
    );
    const admin = kafkaFor(config).admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((topic) => topic.startsWith(config.source.topicPrefix))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
