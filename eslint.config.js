import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point inward (CONVENTIONS 1). Each driver has exactly one home, its adapter folder; elsewhere only its
// types may be named (they compile away), so every runtime use of a driver goes through the adapter.
const driverHomes = {
  kafkajs: 'connectors/',
  '@kafkajs/confluent-schema-registry': 'connectors/',
  avsc: 'connectors/',
  mssql: 'connectors/',
  pg: 'connectors/',
  mongodb: 'sinks/',
};

/**
 * Which top-level folders the production code of each folder may import (tests beside the code may import more).
 * core is the shared vocabulary and the runner; transforms, sinks and connectors are the stages and the adapters;
 * stack runs the local services through the adapters; dba is the SQL Server CDC tooling (preflight, enable, status,
 * drift) and devtools the sample ERP, its fixtures and their producer, both through the adapters; ops is the
 * application: the composition root and the operator features (dead letters, rebuild, reconcile, read-side queries,
 * dashboard); demo is the quick start's chain, composed of the local stack, the sample ERP, the SQL Server tooling
 * and the pipeline; cli parses arguments and formats output.
 * A folder no other entry lists, such as cli, is imported by nothing else but test/ and bench/.
 */
export const LAYERS = {
  core: [],
  transforms: ['core'],
  stages: ['core', 'transforms'],
  sinks: ['core'],
  connectors: ['core'],
  stack: ['core', 'connectors', 'sinks'],
  dba: ['core', 'connectors'],
  devtools: ['core', 'connectors'],
  ops: ['core', 'transforms', 'sinks', 'connectors'],
  demo: ['core', 'transforms', 'sinks', 'connectors', 'stack', 'dba', 'devtools', 'ops'],
  cli: ['core', 'transforms', 'sinks', 'connectors', 'stack', 'dba', 'devtools', 'ops', 'demo'],
};

/** The rule for one folder: no driver it is not home to, and no folder its layer does not allow. */
function layer(folder, allowed) {
  const forbidden = [...Object.keys(LAYERS), 'test', 'bench'].filter(
    (other) => other !== folder && !allowed.includes(other),
  );
  return {
    files: [`${folder}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: Object.entries(driverHomes)
            .filter(([, home]) => home !== `${folder}/`)
            .map(([name, home]) => ({ name, message: `Only ${home} imports ${name}`, allowTypeImports: true })),
          patterns: forbidden.map((other) => ({
            regex: `^(\\.\\./)+${other}/`,
            message: `${folder}/ may import only ${allowed.length === 0 ? 'itself' : allowed.map((name) => `${name}/`).join(', ')}, not ${other}/ (see docs/architecture.md)`,
          })),
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object instead of an enum' },
      ],
    },
  },
  ...Object.entries(LAYERS).map(([folder, allowed]) => layer(folder, allowed)),
  {
    // Example stage packages stand for packages outside the repository: they import cdc-sync only by its public
    // entry, cdc-sync/stages, and nothing else of it.
    files: ['examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./){2,}',
              message: 'A stage package imports cdc-sync only as cdc-sync/stages (see transforms/README.md)',
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard's browser modules: `tsc -p ops/dashboard/assets` checks their names against the DOM.
    files: ['ops/dashboard/assets/*.js'],
    rules: { 'no-undef': 'off' },
  },
);
