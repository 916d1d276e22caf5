import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

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
  ])('allows %s', async (file, source) => {
    expect(await lint(file, source)).toEqual([]);
  });
});
