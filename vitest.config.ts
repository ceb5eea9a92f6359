import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Most test files wait on child processes, timers and I/O rather than compute. vitest's default in run
// mode is cores - 1 files at a time, which on a 2-core CI machine runs the suite one file after
// another; a worker more than the cores keeps them busy (at most 8, so big machines do not fork-bomb).
const workers = Math.min(8, availableParallelism() + 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native SQLite and real child processes: isolate test files in forked processes.
    pool: 'forks',
    maxWorkers: workers,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A stray console.log in a test is fine; one from the server under test would fail the e2e checks.
    reporters: ['default'],
  },
});
