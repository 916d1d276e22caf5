import { Command } from 'commander';
import { redactText } from '../core/redact.js';
import { configOption, loadCommandConfig, parseCount, parsePositiveInteger } from './command-options.js';
import { createProgress } from './progress.js';
import { type ReconcileReport, reconcileReadModels } from '../ops/reconcile/reconcile-read-models.js';

/** Exit status of `cdc-sync reconcile` on errors (bad config, unreachable databases). */
export const RECONCILE_ERROR_EXIT = 2;

/**
 * `cdc-sync reconcile`: compares the ERP source tables with the read models
 * and reports drift. Exits 0 without drift, 1 with drift, 2 on errors.
 */
export function createReconcileCommand(): Command {
  return new Command('reconcile')
    .description(
      'Compare the ERP source tables with the read models: inventory balances against inventory_availability, ' +
        'order statuses against order_view. Exits 0 without drift, 1 with drift, 2 on errors',
    )
    .addOption(configOption())
    .option('--page-size <n>', 'rows and documents per keyset page on each side', parsePositiveInteger, 500)
    .option('--samples <n>', 'most samples shown per drift kind and comparison', parseCount, 5)
    .option('--json', 'print the report as JSON on stdout')
    .option('--trust-server-certificate', "SQL Server only: accept the server's certificate without validating it")
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : RECONCILE_ERROR_EXIT))
    .action(
      async (options: {
        config?: string;
        pageSize: number;
        samples: number;
        json?: boolean;
        trustServerCertificate?: boolean;
      }) => {
        try {
          const { config, origin } = await loadCommandConfig(options.config);
          const report = await reconcileReadModels(
            config,
            {
              pageSize: options.pageSize,
              samples: options.samples,
              trustServerCertificate: options.trustServerCertificate === true,
            },
            { env: process.env, progress: createProgress },
            origin,
          );
          process.stdout.write(
            options.json === true
              ? `${JSON.stringify(report, null, 2)}\n`
              : `${formatReconcileReport(report).join('\n')}\n`,
          );
          process.exitCode = reconcileExitCode(report);
        } catch (error: unknown) {
          process.stderr.write(
            `cdc-sync reconcile: ${redactText(error instanceof Error ? error.message : String(error))}\n`,
          );
          process.exitCode = RECONCILE_ERROR_EXIT;
        }
      },
    );
}

/** 1 when the report found drift, 0 otherwise. */
export function reconcileExitCode(report: Pick<ReconcileReport, 'drift'>): 0 | 1 {
  return report.drift > 0 ? 1 : 0;
}

/** The report as people read it. */
export function formatReconcileReport(report: ReconcileReport): string[] {
  const lines = [`Reconciled ${report.source} with ${report.view}`];
  const label = {
    'missing-in-view': 'missing in view',
    'missing-in-source': 'missing in source',
    different: 'different',
  } as const;
  for (const comparison of report.comparisons) {
    lines.push(
      `${comparison.subject}: ${comparison.sourceRows} source rows, ${comparison.viewDocuments} view documents; ` +
        `${comparison.inSync} in sync, ${comparison.missingInView} missing in view, ` +
        `${comparison.missingInSource} missing in source, ${comparison.different} different`,
    );
    for (const sample of comparison.samples) {
      const fields = sample.fields
        .map((field) => `${field.field} source ${field.source ?? '-'} view ${field.view ?? '-'}`)
        .join('; ');
      lines.push(
        `  ${label[sample.kind]}: ${sample.key}: ${fields}${sample.note === undefined ? '' : ` (${sample.note})`}`,
      );
    }
  }
  for (const skipped of report.skipped) lines.push(`${skipped.subject}: not compared, ${skipped.reason}`);
  lines.push(report.drift === 0 ? 'No drift' : `Drift: ${report.drift} key(s) differ`);
  return lines;
}
