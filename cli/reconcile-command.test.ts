import { describe, expect, it } from 'vitest';
import { formatReconcileReport, reconcileExitCode } from './reconcile-command.js';

describe('reconcile', () => {
  it('formats drift per comparison with samples, skipped comparisons and the verdict', () => {
    const report = {
      source: 'PostgreSQL database erp at 127.0.0.1:5432',
      view: 'MongoDB database cdc_sync',
      drift: 2,
      comparisons: [
        {
          subject: 'inventory balances',
          sourceRows: 12,
          viewDocuments: 12,
          inSync: 10,
          missingInView: 1,
          missingInSource: 0,
          different: 1,
          samples: [
            {
              kind: 'different' as const,
              key: 'MUG@WH',
              fields: [{ field: 'onHand', source: '955.000', view: '960.000' }],
            },
            {
              kind: 'missing-in-view' as const,
              key: 'TEE@WH',
              fields: [{ field: 'onHand', source: '1.000', view: null }],
              note: 'The view holds it as removed',
            },
          ],
        },
      ],
      skipped: [
        {
          subject: 'order statuses',
          reason: 'transform order_header is disabled at transforms.order_header in c.yaml',
        },
      ],
    };
    expect(formatReconcileReport(report)).toEqual([
      'Reconciled PostgreSQL database erp at 127.0.0.1:5432 with MongoDB database cdc_sync',
      'inventory balances: 12 source rows, 12 view documents; 10 in sync, 1 missing in view, 0 missing in source, 1 different',
      '  different: MUG@WH: onHand source 955.000 view 960.000',
      '  missing in view: TEE@WH: onHand source 1.000 view - (The view holds it as removed)',
      'order statuses: not compared, transform order_header is disabled at transforms.order_header in c.yaml',
      'Drift: 2 key(s) differ',
    ]);
    expect(reconcileExitCode(report)).toBe(1);
    expect(reconcileExitCode({ drift: 0 })).toBe(0);
  });
});
