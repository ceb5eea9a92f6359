import { defineConfig } from 'vitest/config';

/** The guest half of `npm run test:vm`: run by `tuneloop vm run` inside the sched_ext guest. */
export default defineConfig({
  // The host's root (node_modules included) is read-only in the guest: no cache writes there.
  cacheDir: '/tmp/vitest-cache',
  test: {
    root: new URL('../../../..', import.meta.url).pathname,
    include: ['test/sched/vm/guest/*.test.ts'],
    pool: 'forks',
    // One kernel, one scheduler at a time: files and tests run in order.
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
