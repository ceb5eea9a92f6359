import { defineConfig } from 'vitest/config';

/** The host half of `npm run test:vm` (the guest half: test/sched/vm/guest/vitest.config.ts). */
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/sched/vm/*.test.ts'],
    pool: 'forks',
    // Each case boots a guest under TCG: tens of seconds.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
