import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { services } from './services.js';

/** Runs `cdc-sync demo --once` (what `npm start` runs, minus Ctrl-C) against the test services. */
function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { kafkaBrokers, schemaRegistryUrl, mongodbUri } = services();
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'demo', '--once'], {
    env: {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      MONGODB_URI: mongodbUri,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the quick-start demo', () => {
  it('replays ERP traffic through the pipeline and prints the read models once in sync', async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(stderr).toContain('4/4 Read models as they change');
    expect(stderr).toContain('The read models are in sync. Where to look next:');
    expect(code).toBe(0);
    const lastSnapshot = stdout.slice(stdout.lastIndexOf('inventory_availability\n')).trimEnd().split('\n');
    expect(lastSnapshot).toEqual([
      'inventory_availability',
      'SKU               LOCATION     ON HAND   RESERVED  AVAILABLE  FLAGS',
      'COFFEE-ESP-BULK   ST-DOWNTOWN  28.750    0.750     23.000',
      'COFFEE-ESP-BULK   WH-EAST      250.250   7.750     217.500',
      'ROPE-DYN-10MM     ST-DOWNTOWN  42.000    0.000     32.000     removed',
      'ROPE-DYN-10MM     WH-EAST      1315.000  60.000    1055.000',
      'TSHIRT-ORG-BLK-M  ST-DOWNTOWN  22.000    2.000     14.000',
      'TSHIRT-ORG-BLK-M  WH-EAST      597.000   12.000    535.000',
      '',
      'order_view',
      'ORDER      STATUS   LINES  PAYMENTS  SHIPMENTS  TRACKING              MILESTONES',
      'SO-100234  SHIPPED  2      1         1          00340434161094042557  accepted,paymentCaptured,shipped,returnReceived,refunded',
    ]);
  });
});
