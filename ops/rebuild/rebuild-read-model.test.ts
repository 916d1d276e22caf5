import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../pipeline-config.js';
import { ConfigError } from '../../core/errors.js';
import { silentProgress } from '../progress.js';
import { formatDiff, rebuildReadModel } from './rebuild-read-model.js';

const io = { write: () => undefined, progress: silentProgress, logger: pino({ level: 'silent' }) };

describe('rebuild', () => {
  it('refuses an unknown read model, naming the known ones, before connecting anywhere', async () => {
    const run = rebuildReadModel(parsePipelineConfig({}, 'the test'), 'orders', { swap: false, keepShadow: false }, io);
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow('Unknown read model "orders"; known: inventory_availability, order_view');
  });

  it('refuses a read model the config disables, naming the key and file', async () => {
    const config = parsePipelineConfig({ sinks: { order_view: false } }, 'pipeline.yaml');
    const run = rebuildReadModel(config, 'order_view', { swap: false, keepShadow: false }, io, 'pipeline.yaml');
    await expect(run).rejects.toThrow('Read model order_view is disabled at sinks.order_view in pipeline.yaml');
  });

  it('reports a diff with counts and samples of ids and paths', () => {
    const lines = formatDiff(
      {
        expected: { collection: 'order_view__rebuild_X', documents: 3 },
        actual: { collection: 'order_view', documents: 3 },
        identical: 1,
        missing: 1,
        extra: 1,
        different: 1,
        samples: [
          { kind: 'missing', id: 'SO-1', paths: [] },
          { kind: 'different', id: 'SO-2', paths: ['status', 'statusInfo.status'] },
          { kind: 'extra', id: 'SO-3', paths: [] },
        ],
      },
      { live: 'order_view', shadow: 'order_view__rebuild_X' },
    );
    expect(lines).toEqual([
      'Diff of order_view__rebuild_X (rebuilt, 3 documents) against order_view (live, 3 documents), ignoring ' +
        '_meta.appliedAt and _meta.pipelineVersion: 1 identical, 1 missing in live, 1 extra in live, 1 different',
      '  missing in live: SO-1',
      '  different: SO-2 (status, statusInfo.status)',
      '  extra in live: SO-3',
    ]);
  });
});
