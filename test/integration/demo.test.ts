import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import { services } from './services.js';

/** The read models as the demo printed them last. */
function lastSnapshotOf(stdout: string): string[] {
  return stdout.slice(stdout.lastIndexOf('inventory_availability\n')).trimEnd().split('\n');
}

/**
 * Runs `cdc-sync demo --once` (what `npm start` runs, minus Ctrl-C) against the test services; it starts
 * PostgreSQL and Kafka Connect itself unless they run, and stops what it started.
 */
function runDemo(...extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { kafkaBrokers, schemaRegistryUrl, mongodbUri } = services();
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'demo', '--once', ...extra], {
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
  it('runs the real chain: seeded ERP on PostgreSQL, Debezium, the pipeline, live ERP traffic, read models in sync', async () => {
    const { code, stdout, stderr } = await runDemo();
    const steps = stderr.split('\n').filter((line) => /^(\d\/5 |ERP: )/.test(line));
    expect(steps.map((line) => line.replace(/demo_[a-z0-9]+/g, 'demo_<run>'))).toEqual([
      '1/5 Bringing up the local stack with PostgreSQL and Kafka Connect (first run downloads and builds; later runs take seconds)',
      '2/5 Creating and seeding the sample ERP database erp_demo_<run> (devtools/sql/postgres)',
      `3/5 Registering the Debezium PostgreSQL connector demo_<run> at ${createKafkaConnectService().endpoint}`,
      '4/5 Starting the pipeline: Debezium topics → transforms → canonical topics → sinks → MongoDB',
      '5/5 Live ERP traffic, and the read models as they change (Ctrl-C stops everything the demo started)',
      'ERP: order SO-200101 placed on the web shop: 2 × TSHIRT-ORG-BLK-M, 1 × MUG-STONE-350 from WH-EAST',
      'ERP: order SO-200102 placed for store pickup: 1 × HOODIE-GRY-L, 1.5 kg COFFEE-ESP-BULK at ST-DOWNTOWN',
      'ERP: payment captured for SO-200101 (EUR 48.23), order accepted',
      'ERP: order SO-200103 placed by the sales desk: 30 m ROPE-DYN-10MM from WH-EAST',
      'ERP: stock moves: 240 × MUG-STONE-350 received at WH-EAST, 20 × TSHIRT-ORG-BLK-M moved WH-EAST → ST-AIRPORT',
      'ERP: order SO-200101 picked and shipped from WH-EAST with DHL, tracking 00340434161094042557',
      'ERP: return RMA-000901 received for SO-200101: 1 × TSHIRT-ORG-BLK-M, too small, back in stock at WH-EAST',
      'ERP: refund completed for SO-200101 (EUR 19.99 for RMA-000901)',
    ]);
    expect(stderr).toMatch(/Connector demo_[a-z0-9]+ created at /);
    expect(stderr).toContain('The read models are in sync. Where to look next:');
    // The connector, the replication slot and the database were removed without complaint.
    expect(stderr).not.toContain('Could not clean up');
    expect(code).toBe(0);
    // The seed as Debezium's snapshot read it, then every step of the traffic.
    expect(lastSnapshotOf(stdout)).toEqual([
      'inventory_availability',
      'SKU               LOCATION     ON HAND   RESERVED  AVAILABLE  FLAGS',
      'CABLE-USBC-2M     ST-DOWNTOWN  3.000     0.000     3.000',
      'CABLE-USBC-2M     WH-EAST      0.000     0.000     0.000      low',
      'COFFEE-ESP-BULK   ST-DOWNTOWN  18.250    2.250     11.000',
      'COFFEE-ESP-BULK   WH-EAST      212.750   3.500     184.250',
      'HOODIE-GRY-L      ST-DOWNTOWN  7.000     2.000     1.000',
      'HOODIE-GRY-L      WH-EAST      150.000   0.000     130.000',
      'MUG-STONE-350     ST-AIRPORT   36.000    0.000     24.000',
      'MUG-STONE-350     WH-EAST      1199.000  48.000    1051.000',
      'ROPE-DYN-10MM     WH-EAST      1250.500  90.000    960.500',
      'TSHIRT-ORG-BLK-M  ST-AIRPORT   29.000    0.000     23.000',
      'TSHIRT-ORG-BLK-M  ST-DOWNTOWN  24.000    2.000     16.000',
      'TSHIRT-ORG-BLK-M  WH-EAST      459.000   12.000    397.000',
      '',
      'order_view',
      'ORDER      STATUS   LINES  PAYMENTS  SHIPMENTS  TRACKING              MILESTONES',
      'SO-200101  SHIPPED  2      1         1          00340434161094042557  accepted,paymentCaptured,shipped,returnReceived,refunded',
      'SO-200102  PENDING  2      0         0                                accepted',
      'SO-200103  PENDING  1      0         0                                accepted',
    ]);
    // The tables were printed as they changed, not only at the end.
    expect(stdout.split('\norder_view\n').length - 1).toBeGreaterThan(3);
  });

  it('falls back to recorded Debezium records with --fixtures, without PostgreSQL or Connect', async () => {
    const { code, stdout, stderr } = await runDemo('--fixtures');
    const steps = stderr.split('\n').filter((line) => /^\d\/4 /.test(line));
    expect(steps.map((line) => line.replace(/demo_[a-z0-9]+/g, 'demo_<run>'))).toEqual([
      '1/4 Bringing up the local stack (first run downloads and builds; later runs take seconds)',
      '2/4 Replaying recorded ERP traffic as Debezium records on demo_<run>.ErpDemo.dbo.*',
      '3/4 Starting the pipeline: transforms → canonical topics → sinks → MongoDB',
      '4/4 Read models as they change (Ctrl-C stops everything the demo started)',
    ]);
    expect(stderr).toContain('The read models are in sync. Where to look next:');
    expect(stderr).not.toContain('Could not clean up');
    expect(code).toBe(0);
    expect(lastSnapshotOf(stdout)).toEqual([
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
