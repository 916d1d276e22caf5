import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** `cdc-sync test` from this folder, as the package's own CI runs it; resolves with its exit code and output. */
async function cdcSyncTest(...args: string[]): Promise<{ code: number; stdout: string }> {
  const cli = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)('npx', ['tsx', cli, 'test', ...args], { cwd: here });
    return { code: 0, stdout };
  } catch (error: unknown) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('the AdventureWorks stage package', () => {
  it('turns a trading day of captured records into exactly the expected events (cdc-sync test)', async () => {
    const { code, stdout } = await cdcSyncTest(
      'fixtures/trading-day.yaml',
      '--config',
      'pipeline.yaml',
      '--expect',
      'fixtures/trading-day.expected.yaml',
    );
    expect(stdout.split('\n').slice(0, 4)).toEqual([
      '11 records of fixtures/trading-day.yaml (fixture): 10 changes, 1 tombstone, 0 ignored, 0 read by no stage',
      '  aw_product_inventory: 4 in, 4 emitted, 0 skipped, 0 failed',
      '  aw_sales_order_header: 4 in, 5 emitted, 0 skipped, 0 failed',
      '  aw_sales_order_detail: 2 in, 2 emitted, 0 skipped, 0 failed',
    ]);
    expect(code).toBe(0);
  }, 60_000);
});
