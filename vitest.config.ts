import { availableParallelism } from 'node:os';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Most test files wait on child processes, timers and I/O rather than compute, so files run side by
 * side: cores + 1 at once (vitest's default in run mode, cores - 1, ran the suite one file at a time
 * on the 2-core CI machine). The Triton files are the exception: each runs PyTorch processes that
 * use every core. vitest starts the longest files first, which would put them all side by side, so
 * they are spread through the order instead and mostly run one at a time beside lighter files.
 */
class SpreadHeavyFiles extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const heavy = sorted.filter((f) => /[\\/]test[\\/]triton[\\/]/.test(f.moduleId));
    const light = sorted.filter((f) => !heavy.includes(f));
    if (heavy.length === 0) return sorted;
    const every = Math.max(1, Math.floor(light.length / heavy.length));
    const out: TestSpecification[] = [];
    light.forEach((f, i) => {
      if (i % every === 0 && heavy.length) out.push(heavy.shift()!);
      out.push(f);
    });
    return [...out, ...heavy];
  }
}

export default defineConfig({
  test: {
    // Native SQLite and real child processes: isolate test files in forked processes.
    pool: 'forks',
    maxWorkers: Math.min(8, availableParallelism() + 1),
    sequence: { sequencer: SpreadHeavyFiles },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A stray console.log in a test is fine; one from the server under test would fail the e2e checks.
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/triton/**'] } },
      // PyTorch processes on a loaded 2-core machine: a verify takes ~10 s quiet, several times that under load.
      { extends: true, test: { name: 'triton', include: ['test/triton/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
