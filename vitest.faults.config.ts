import { defineConfig } from 'vitest/config';

// The fault suite (`npm run test:faults`): kills, freezes and restarts the servers of a stack of its own, so it runs
// on its own, after `npm test`, never beside the integration tests. See README, "Fault suite".
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/faults/global-setup.ts'],
    setupFiles: ['test/quiet-kafkajs-timers.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One scenario at a time: each one breaks a server that every other scenario also uses.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
