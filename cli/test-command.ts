import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { SAMPLE_ERP_TABLE_DEFINITIONS, type SqlServerTableDefinition } from '../devtools/erp/sample-erp.js';
import { validateFixture } from '../devtools/fixtures/fixture-file.js';
import { fixtureWireRecords } from '../devtools/fixtures/wire-records.js';
import { type ProgressFactory } from '../ops/progress.js';
import {
  type DeadLetterDifference,
  diffStageTest,
  type EventDifference,
  isEqual,
  type StageTestDiff,
} from '../ops/stage-test/diff.js';
import { parseExpected, renderExpected } from '../ops/stage-test/expected.js';
import { type FixtureReader, readTestInput, type TestInput } from '../ops/stage-test/input.js';
import { runStageTest, type StageTestRun } from '../ops/stage-test/run.js';
import { configOption, loadCommandConfig } from './command-options.js';
import { stageCatalogOf } from '../ops/components.js';
import { createProgress } from './progress.js';

/** Exit status of `cdc-sync test`: the events match, they differ, or the input, the expected file or the config is bad. */
export const TEST_EXIT = { equal: 0, differ: 1, badInput: 2 } as const;

/** Where the command reads files and its environment and writes its output; tests replace these. */
export type TestCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  readonly writeFile: (path: string, text: string) => void;
  readonly exit: (code: number) => void;
  readonly progress: ProgressFactory;
  /** The tables fixture files may name (`devtools/fixtures/README.md`); the sample ERP's by default. */
  readonly fixtureTables: readonly SqlServerTableDefinition[];
  /** The schema registry's HTTP client, for ids captured records do not carry. */
  readonly fetch?: typeof fetch;
};

type TestOptions = { config?: string; expect: string; update?: boolean; verbose?: boolean };

/**
 * `cdc-sync test <input> --expect <events-file>`: runs the stages the config lists over a fixture file, captured
 * Debezium records (Confluent-framed Avro) or Debezium JSON documents, without Kafka, and prints how the canonical
 * events and dead letters differ from the expected file. `--update` writes what the stages made to the expected file
 * instead. Exits 0 when they match (and after `--update`), 1 when they differ, 2 on a bad input, expected file or
 * config, or a registry that cannot be reached.
 */
export function createTestCommand(overrides: Partial<TestCommandIo> = {}): Command {
  const io: TestCommandIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFileSync(path, 'utf8'),
    writeFile: (path, text) => writeFileSync(path, text),
    exit: (code) => {
      process.exitCode = code;
    },
    progress: createProgress,
    fixtureTables: SAMPLE_ERP_TABLE_DEFINITIONS,
    ...overrides,
  };
  return new Command('test')
    .description(
      'Run the configured stages over a fixture file, captured Debezium records or Debezium JSON documents, without ' +
        'Kafka, and diff the canonical events against an expected events file; exits 0 when equal, 1 when they ' +
        'differ, 2 on bad input',
    )
    .argument('<input>', 'fixture file (JSON or YAML), captured records or Debezium JSON documents (JSON Lines)')
    .requiredOption('--expect <file>', 'expected events file, YAML or JSON (a list of canonical events)')
    .addOption(configOption())
    .option('--update', 'write the events the stages made to the --expect file instead of comparing')
    .option('--verbose', 'also list every change a stage skipped, with its reason')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : TEST_EXIT.badInput))
    .action(async (inputPath: string, options: TestOptions) => {
      try {
        io.exit(await testStages(inputPath, options, io));
      } catch (error: unknown) {
        io.stderr(`cdc-sync test: ${redactText(error instanceof Error ? error.message : String(error))}\n`);
        io.exit(TEST_EXIT.badInput);
      }
    });
}

async function testStages(inputPath: string, options: TestOptions, io: TestCommandIo): Promise<number> {
  const { config, origin } = await loadCommandConfig(options.config, io.env);
  const readFixture: FixtureReader = (document, path) =>
    fixtureWireRecords(
      validateFixture(document, path, { tables: [...io.fixtureTables, ...stageCatalogOf(config).tables] }),
    );
  const input = readTestInput(inputPath, readText(io, inputPath, 'input'), readFixture);
  // The expected file is read before the run, so a bad one fails fast.
  const expected =
    options.update === true
      ? undefined
      : parseExpected(readText(io, options.expect, 'expected events'), options.expect);
  const run = await runStageTest(config, origin, input, {
    progress: io.progress,
    ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
  });
  io.stdout(`${formatRun(run, input, options.verbose === true).join('\n')}\n`);
  if (expected === undefined) {
    io.writeFile(options.expect, renderExpected(run, options.expect));
    io.stdout(
      `Wrote ${count(run.events.length, 'event')} and ${count(run.deadLetters.length, 'dead letter')} to ${options.expect}\n`,
    );
    return TEST_EXIT.equal;
  }
  const diff = diffStageTest(run, expected);
  io.stdout(`${formatDiff(diff, expected.path, run).join('\n')}\n`);
  return isEqual(diff) ? TEST_EXIT.equal : TEST_EXIT.differ;
}

function readText(io: TestCommandIo, path: string, what: string): string {
  try {
    return io.readFile(path);
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Cannot read ${what} file ${path}: ${detail}`, { cause: error });
  }
}

const KIND_TEXT = { fixture: 'fixture', captured: 'captured records', json: 'Debezium JSON documents' } as const;

/** What the stages did: records by kind, each configured stage's counts, the dead letters and (verbose) the skips. */
export function formatRun(run: StageTestRun, input: Pick<TestInput, 'path' | 'kind'>, verbose: boolean): string[] {
  const { records } = run;
  const lines = [
    `${count(records.total, 'record')} of ${input.path} (${KIND_TEXT[input.kind]}): ${count(records.changes, 'change')}, ` +
      `${count(records.tombstones, 'tombstone')}, ${records.ignored} ignored, ${records.unrouted} read by no stage`,
  ];
  for (const stage of run.stages) {
    lines.push(
      `  ${stage.name}: ${stage.in} in, ${stage.emitted} emitted, ${stage.skipped} skipped, ${stage.failed} failed`,
    );
  }
  if (run.deadLetters.length > 0) {
    lines.push('Dead letters:');
    for (const letter of run.deadLetters) lines.push(`  ${letter.stage} (${letter.where}): ${letter.message}`);
  }
  if (verbose && run.skips.length > 0) {
    lines.push('Skipped:');
    for (const skip of run.skips) lines.push(`  ${skip.stage} (${skip.where}): ${skip.reason}`);
  }
  return lines;
}

/** The differences as people read them, ending with the verdict. */
export function formatDiff(
  diff: StageTestDiff,
  expectedPath: string,
  run: Pick<StageTestRun, 'events' | 'deadLetters'>,
): string[] {
  if (isEqual(diff)) {
    return [
      `All ${count(run.events.length, 'event')} and ${count(run.deadLetters.length, 'dead letter')} match ${expectedPath}`,
    ];
  }
  const lines = [`Differences from ${expectedPath}:`];
  for (const difference of diff.events) lines.push(...formatEventDifference(difference));
  for (const difference of diff.deadLetters) lines.push(formatDeadLetterDifference(difference));
  const tally = (differences: readonly { kind: string }[]) =>
    (['missing', 'unexpected', 'changed'] as const)
      .map((kind) => `${differences.filter((d) => d.kind === kind).length} ${kind}`)
      .join(', ');
  lines.push(`Events: ${tally(diff.events)}; dead letters: ${tally(diff.deadLetters)}`);
  return lines;
}

function formatEventDifference(difference: EventDifference): string[] {
  switch (difference.kind) {
    case 'missing':
      return [`  missing    [${difference.index}] ${describe(difference.expected.meta)}`];
    case 'unexpected':
      return [`  unexpected ${describe(difference.actual.event.meta)} ${origin(difference.actual)}`];
    case 'changed':
      return [
        `  changed    [${difference.index}] ${describe(difference.actual.event.meta)} ${origin(difference.actual)}`,
        ...difference.fields.map(
          (field) => `      ${field.field}: expected ${show(field.expected)}, actual ${show(field.actual)}`,
        ),
      ];
  }
}

function formatDeadLetterDifference(difference: DeadLetterDifference): string {
  switch (difference.kind) {
    case 'missing':
      return `  missing dead letter    [${difference.index}] ${difference.expected.stage}: ${difference.expected.message}`;
    case 'unexpected':
      return `  unexpected dead letter ${difference.actual.stage} (${difference.actual.where}): ${difference.actual.message}`;
    case 'changed':
      return (
        `  changed dead letter    [${difference.index}] ${difference.actual.stage} (${difference.actual.where}): ` +
        `expected ${show(difference.expected.message)}, actual ${show(difference.actual.message)}`
      );
  }
}

function describe(meta: { readonly eventType: string; readonly aggregateKey: string }): string {
  return `${meta.eventType} ${meta.aggregateKey}`;
}

function origin(event: { readonly stage: string; readonly where: string }): string {
  return `(${event.stage}, from ${event.where})`;
}

function show(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
