import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The public stage API by its package name, as stage packages import it (package.json exports), from source. */
const resolve = {
  alias: [
    { find: /^cdc-sync\/stages$/, replacement: fileURLToPath(new URL('./stages/index.ts', import.meta.url)) },
    {
      find: /^cdc-sync\/stages\/testing$/,
      replacement: fileURLToPath(new URL('./stages/testing.ts', import.meta.url)),
    },
  ],
};

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: [
            '{core,ops,cli,stack,connectors,dba,devtools,demo,transforms,stages,sinks,examples,bench,test/unit}/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/quiet-kafkajs-timers.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Tests share one broker, registry and database; isolation comes from unique topic and collection names.
          fileParallelism: false,
        },
      },
    ],
  },
});
