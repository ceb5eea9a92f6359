import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The sched_ext guest suite needs a built guest kernel: `npm run test:vm`.
    exclude: ['test/sched/vm/**', '**/node_modules/**'],
    // Native SQLite and real child processes: isolate test files in forked processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A stray console.log in a test is fine; one from the server under test would fail the e2e checks.
    reporters: ['default'],
  },
});
