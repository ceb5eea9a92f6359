import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Most test files wait on child processes, timers and I/O rather than compute, so they run side by
 * side, cores + 1 at once (vitest's default in run mode, cores - 1, ran the suite one file at a time
 * on the 2-core CI machine). The Triton files are the exception: they run PyTorch processes that use
 * every core, and several of their verdicts come from timings, which neighbours would disturb; so they
 * run after the others, one file at a time, with a longer test timeout (a verify takes ~10 s on a
 * quiet machine and several times that on a loaded one).
 */
const workers = Math.min(8, availableParallelism() + 1);

export default defineConfig({
  test: {
    // Native SQLite and real child processes: isolate test files in forked processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A stray console.log in a test is fine; one from the server under test would fail the e2e checks.
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // The sched_ext guest suite (test/sched/vm) needs a built guest kernel: `npm run test:vm`.
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/triton/**', 'test/sched/vm/**'], maxWorkers: workers, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'triton', include: ['test/triton/**/*.test.ts'], fileParallelism: false, testTimeout: 120_000, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
