import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point inward (CONVENTIONS 1): each driver has exactly one home.
const driverHomes = {
  kafkajs: 'connectors/',
  '@kafkajs/confluent-schema-registry': 'connectors/',
  avsc: 'connectors/',
  mssql: 'connectors/',
  pg: 'connectors/',
  mongodb: 'sinks/',
};

/** Forbids every driver whose home is not the given folder. */
function driversOutside(folder) {
  return {
    files: [`${folder}**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: Object.entries(driverHomes)
            .filter(([, home]) => home !== folder)
            .map(([name, home]) => ({ name, message: `Only ${home} imports ${name}` })),
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
  driversOutside('core/'),
  driversOutside('transforms/'),
  driversOutside('sinks/'),
  driversOutside('connectors/'),
  {
    // The dashboard's browser modules: `tsc -p core/observability/dashboard` checks their names against the DOM.
    files: ['core/observability/dashboard/*.js'],
    rules: { 'no-undef': 'off' },
  },
);
