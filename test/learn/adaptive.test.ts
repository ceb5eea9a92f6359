/**
 * The adaptive search loop the execution tools share (src/learn/suggest/adaptive.ts), on small
 * in-process landscapes: what runs first, what it does with failures, when it stops and why, and
 * what settle() calls settled.
 */
import { describe, expect, it } from 'vitest';
import { proposalOf, runAdaptiveSearch, settle, type Proposal, type SearchOptions, type TrialOutcome } from '../../src/learn/suggest/adaptive.js';
import { explicitSpace, type Point } from '../../src/learn/suggest/space.js';
import { suggest } from '../../src/learn/suggest/suggester.js';

/** Higher is better: codec x threads, the best at zstd/4; xz fails to run. */
const space = explicitSpace([
  { name: 'codec', type: 'categorical', choices: ['gzip', 'xz', 'zstd'], default: 'gzip' },
  { name: 'threads', type: 'int', min: 1, max: 6, default: 1 },
]);
const value = (p: Point) => ({ gzip: 10, xz: 0, zstd: 20 })[p.codec as string]! - 2 * Math.abs((p.threads as number) - 4);
const baseline = proposalOf(space, { codec: 'gzip', threads: 1 }, 'baseline', 'the default');

async function search(overrides: Partial<SearchOptions> = {}, evaluate?: (p: Proposal) => TrialOutcome) {
  const evaluated: Proposal[] = [];
  const result = await runAdaptiveSearch({
    space,
    direction: 'higher',
    suggest: (count, extra) => suggest(space, extra, { direction: 'higher', count, seed: 7 }),
    maxTrials: 60,
    patience: 6,
    noiseFloor: 0.02,
    first: [baseline],
    confirm: { baselineKey: baseline.key, repeats: 4, maxRepeats: 8, margin: 0.02, alpha: 0.05, metric: 'score' },
    async evaluate(p) {
      evaluated.push(p);
      if (evaluate) return evaluate(p);
      return p.point.codec === 'xz' ? { status: 'failed', values: [], note: 'xz is not installed' } : { status: 'ok', values: [value(p.point)] };
    },
    ...overrides,
  });
  return { result, evaluated };
}

describe('runAdaptiveSearch', () => {
  it('measures the baseline first, never retries a failed config, finds the optimum and settles it with repeats', async () => {
    const { result, evaluated } = await search();
    expect(evaluated[0].key).toBe(baseline.key);
    const failedKeys = result.trials.filter((t) => t.outcome.status === 'failed').map((t) => t.proposal.key);
    expect(failedKeys.length).toBeGreaterThan(0);
    expect(new Set(failedKeys).size).toBe(failedKeys.length);
    expect(result.ranked[0].point).toEqual({ codec: 'zstd', threads: 4 });
    expect(result.stopped).toBe('settled');
    expect(result.settlement!.settled).toBe(true);
    expect(result.settlement!.vs_baseline!.verdict).toBe('better');
    // The best, the runner-up and the baseline each got the confirmation runs.
    const runs = (key: string) => result.ranked.find((e) => e.key === key)!.values.length;
    expect(runs(result.ranked[0].key)).toBeGreaterThanOrEqual(4);
    expect(runs(result.settlement!.runner_up!.key)).toBeGreaterThanOrEqual(4);
    expect(runs(baseline.key)).toBeGreaterThanOrEqual(4);
    expect(result.trials.filter((t) => t.proposal.kind === 'confirm').length).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', async () => {
    const a = await search();
    const b = await search();
    expect(b.evaluated.map((p) => p.key)).toEqual(a.evaluated.map((p) => p.key));
  });

  it('stops on the trial budget, with the evidence as it stands', async () => {
    const { result } = await search({ maxTrials: 3 });
    expect(result.stopped).toBe('budget');
    expect(result.trials).toHaveLength(3);
    expect(result.settlement).not.toBeNull();
    expect(result.settlement!.settled).toBe(false);
  });

  it('stops on the deadline and on a cancel before starting another trial', async () => {
    const past = await search({ deadline: Date.now() - 1 });
    expect(past.result.stopped).toBe('time');
    expect(past.result.trials).toHaveLength(0);
    const controller = new AbortController();
    const canceled = await search({ signal: controller.signal }, (p) => {
      controller.abort();
      return { status: 'ok', values: [value(p.point)] };
    });
    expect(canceled.result.stopped).toBe('canceled');
    expect(canceled.result.trials).toHaveLength(1);
  });

  it('without confirmation, stops when the best stops moving beyond the noise', async () => {
    const { result } = await search({ confirm: undefined, first: [] });
    expect(result.stopped).toBe('converged');
    expect(result.settlement).toBeNull();
  });

  it('a small space measured in full goes to confirmation, and "the default holds" settles too', async () => {
    const flat = explicitSpace([{ name: 'codec', type: 'categorical', choices: ['gzip', 'zstd'], default: 'gzip' }]);
    const base = proposalOf(flat, { codec: 'gzip' }, 'baseline', 'the default');
    const result = await runAdaptiveSearch({
      space: flat,
      direction: 'higher',
      suggest: (count, extra) => suggest(flat, extra, { direction: 'higher', count, seed: 1 }),
      maxTrials: 40,
      patience: 10,
      noiseFloor: 0.02,
      first: [base],
      confirm: { baselineKey: base.key, repeats: 4, maxRepeats: 8, margin: 0.02, alpha: 0.05, metric: 'score' },
      evaluate: async (p) => ({ status: 'ok', values: [p.point.codec === 'gzip' ? 10 : 9] }),
    });
    expect(result.stopped).toBe('settled');
    expect(result.ranked[0].key).toBe(base.key);
    expect(result.settlement!.vs_baseline).toBeNull();
    expect(result.settlement!.reason).toMatch(/is the baseline itself/);
  });
});

describe('settle', () => {
  const entry = (key: string, values: number[]) => ({ key, point: {}, config: {}, values, first_trial: 1 });
  const c = { baselineKey: 'base', repeats: 4, maxRepeats: 8, margin: 0.02, alpha: 0.05, metric: 'busbw' };

  it('calls a best that is practically equal to its runner-up settled (either will do)', () => {
    const s = settle(c, 'higher', [entry('a', [100, 100, 100, 100]), entry('b', [100, 100, 100, 100]), entry('base', [50, 50, 50, 50])], entry('base', [50, 50, 50, 50]));
    expect(s.settled).toBe(true);
    expect(s.reason).toMatch(/practically equal to the runner-up/);
  });

  it('is not settled while the runner-up is within noise but not shown equal', () => {
    const s = settle(c, 'higher', [entry('a', [110, 90, 120, 95]), entry('b', [100, 85, 115, 105]), entry('base', [50, 50, 50, 50])], entry('base', [50, 50, 50, 50]));
    expect(s.settled).toBe(false);
    expect(s.reason).toMatch(/not separated from the runner-up/);
  });
});
