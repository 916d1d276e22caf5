import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{core,ops,cli,stack,connectors,dba,devtools,transforms,stages,sinks,bench,test/unit}/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
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
