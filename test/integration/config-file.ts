import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PipelineConfig } from '../../ops/pipeline-config.js';

/** The folders this test process wrote configs to; removed when it exits. */
const written: string[] = [];
process.once('exit', () => {
  for (const folder of written) rmSync(folder, { recursive: true, force: true });
});

/**
 * Writes a parsed pipeline config back to a JSON file a command's `--config`
 * reads, so commands can be tested as users run them. The `stalled`
 * thresholds, parsed to milliseconds, are written back in seconds.
 */
export function writeConfigFile(config: PipelineConfig, name = 'pipeline.json'): string {
  const stalled = Object.fromEntries(
    Object.entries(config.stalled).map(([state, ms]) => {
      if (ms === false) return [state, false];
      if (ms % 1000 !== 0) throw new RangeError(`Threshold stalled.${state} of ${ms} ms is not whole seconds`);
      return [state, `${ms / 1000}s`];
    }),
  );
  const folder = mkdtempSync(join(tmpdir(), 'cdc-sync-config-'));
  written.push(folder);
  const path = join(folder, name);
  writeFileSync(path, JSON.stringify({ ...config, stalled }, null, 2));
  return path;
}
