import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../eslint.config.js';
import config from '../../vitest.config.js';

// The import direction of docs/architecture.md is enforced by eslint.config.js; these cases prove a wrong-way import
// fails `npm run lint`, and that the allowed directions pass.

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The messages `npm run lint` reports for `source` placed at `file` (relative to the repository). */
async function lint(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}${file}` });
  return result!.messages.map((message) => message.message);
}

describe('import boundaries', () => {
  it.each([
    [
      'core/wrong-way.ts',
      "import { buildProgram } from '../cli/program.js';\nexport const p = buildProgram;\n",
      "'../cli/program.js' import is restricted from being used by a pattern. core/ may import only itself, not cli/ (see docs/architecture.md)",
    ],
    [
      'sinks/mongo/wrong-way.ts',
      "import { transforms } from '../../transforms/index.js';\nexport const t = transforms;\n",
      "'../../transforms/index.js' import is restricted from being used by a pattern. sinks/ may import only core/, not transforms/ (see docs/architecture.md)",
    ],
    [
      'transforms/wrong-way.ts',
      "import { connectMongo } from '../sinks/mongo/connect.js';\nexport const c = connectMongo;\n",
      "'../sinks/mongo/connect.js' import is restricted from being used by a pattern. transforms/ may import only core/, not sinks/ (see docs/architecture.md)",
    ],
    [
      'stack/services/wrong-way.ts',
      "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n",
      "'kafkajs' import is restricted from being used. Only connectors/ imports kafkajs",
    ],
    [
      'cli/wrong-way.ts',
      "import { MongoClient } from 'mongodb';\nexport const m = MongoClient;\n",
      "'mongodb' import is restricted from being used. Only sinks/ imports mongodb",
    ],
    [
      'connectors/wrong-way.ts',
      "import { services } from '../test/integration/services.js';\nexport const s = services;\n",
      "'../test/integration/services.js' import is restricted from being used by a pattern. connectors/ may import only core/, not test/ (see docs/architecture.md)",
    ],
    [
      'sinks/mongo/wrong-way.ts',
      "import { buildRuntime } from '../../ops/runtime.js';\nexport const b = buildRuntime;\n",
      "'../../ops/runtime.js' import is restricted from being used by a pattern. sinks/ may import only core/, not ops/ (see docs/architecture.md)",
    ],
    [
      'connectors/kafka/wrong-way.ts',
      "import { replayDeadLetters } from '../../ops/dlq/replay.js';\nexport const r = replayDeadLetters;\n",
      "'../../ops/dlq/replay.js' import is restricted from being used by a pattern. connectors/ may import only core/, not ops/ (see docs/architecture.md)",
    ],
    [
      'stack/wrong-way.ts',
      "import { stalledReport } from '../ops/read-side/stalled-report.js';\nexport const s = stalledReport;\n",
      "'../ops/read-side/stalled-report.js' import is restricted from being used by a pattern. stack/ may import only core/, connectors/, sinks/, not ops/ (see docs/architecture.md)",
    ],
    [
      'ops/rebuild/wrong-way.ts',
      "import { formatTable } from '../../cli/table.js';\nexport const f = formatTable;\n",
      "'../../cli/table.js' import is restricted from being used by a pattern. ops/ may import only core/, transforms/, sinks/, connectors/, not cli/ (see docs/architecture.md)",
    ],
    [
      'ops/rebuild/wrong-way.ts',
      "import { BSON } from 'mongodb';\nexport const b = BSON;\n",
      "'mongodb' import is restricted from being used. Only sinks/ imports mongodb",
    ],
    [
      'devtools/fixtures/wrong-way.ts',
      "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n",
      "'kafkajs' import is restricted from being used. Only connectors/ imports kafkajs",
    ],
    [
      'dba/sqlserver/wrong-way.ts',
      "import { createFixtureProducer } from '../../devtools/fixtures/producer.js';\nexport const c = createFixtureProducer;\n",
      "'../../devtools/fixtures/producer.js' import is restricted from being used by a pattern. dba/ may import only core/, connectors/, not devtools/ (see docs/architecture.md)",
    ],
    [
      'demo/wrong-way.ts',
      "import { formatTable } from '../cli/table.js';\nexport const f = formatTable;\n",
      "'../cli/table.js' import is restricted from being used by a pattern. demo/ may import only core/, transforms/, sinks/, connectors/, stack/, dba/, devtools/, ops/, not cli/ (see docs/architecture.md)",
    ],
    [
      'ops/wrong-way.ts',
      "import { runDemo } from '../demo/run.js';\nexport const r = runDemo;\n",
      "'../demo/run.js' import is restricted from being used by a pattern. ops/ may import only core/, transforms/, sinks/, connectors/, not demo/ (see docs/architecture.md)",
    ],
    [
      'demo/wrong-way.ts',
      "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n",
      "'kafkajs' import is restricted from being used. Only connectors/ imports kafkajs",
    ],
  ])('refuses %s importing the wrong way', async (file, source, message) => {
    expect(await lint(file, source)).toEqual([message]);
  });

  it.each([
    ['cli/right-way.ts', "import { connectMongo } from '../sinks/mongo/connect.js';\nexport const c = connectMongo;\n"],
    [
      'stack/right-way.ts',
      "import { countBrokersAt } from '../connectors/kafka/probe.js';\nexport const c = countBrokersAt;\n",
    ],
    ['cli/types-only.ts', "import { type Db } from 'mongodb';\nexport type D = Db;\n"],
    ['sinks/mongo/right-way.ts', "import { MongoClient } from 'mongodb';\nexport const m = MongoClient;\n"],
    ['cli/right-way.ts', "import { buildRuntime } from '../ops/runtime.js';\nexport const b = buildRuntime;\n"],
    [
      'ops/reconcile/right-way.ts',
      "import { createMssqlExecutor } from '../../connectors/mssql/executor.js';\nexport const c = createMssqlExecutor;\n",
    ],
    ['ops/types-only.ts', "import { type Db } from 'mongodb';\nexport type D = Db;\n"],
    [
      'devtools/right-way.ts',
      "import { createToolKafkaClient } from '../connectors/kafka/tool-client.js';\nexport const c = createToolKafkaClient;\n",
    ],
    ['cli/right-way.ts', "import { runDemo } from '../demo/run.js';\nexport const r = runDemo;\n"],
    [
      'demo/right-way.ts',
      "import { startPipeline } from '../ops/pipeline.js';\nimport { createStack } from '../stack/stack.js';\nimport { resolveCdcTarget } from '../dba/sqlserver/target.js';\nexport const d = [startPipeline, createStack, resolveCdcTarget];\n",
    ],
  ])('allows %s', async (file, source) => {
    expect(await lint(file, source)).toEqual([]);
  });
});

describe('every layer', () => {
  const folders = Object.keys(LAYERS);
  const tsconfig = (file: string) =>
    (JSON.parse(readFileSync(`${root}${file}`, 'utf8')) as { include: readonly string[] }).include;

  it('has its unit tests run by the unit project, so a new folder cannot drop out of `npm test`', () => {
    const unit = config.test?.projects?.find(
      (project) => typeof project === 'object' && 'test' in project && project.test?.name === 'unit',
    );
    const include = (unit as { test: { include: readonly string[] } }).test.include.join(' ');
    for (const folder of folders) expect(include, folder).toMatch(new RegExp(`[{,]${folder}[,}]`));
  });

  it.each(['tsconfig.json', 'tsconfig.build.json'])('is compiled by %s', (file) => {
    expect(tsconfig(file)).toEqual(expect.arrayContaining(folders));
  });
});
