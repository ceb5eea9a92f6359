import { describe, expect, it } from 'vitest';
import { bootstrapMedianDifferenceCI, compare, mannWhitneyU, runsNeeded, summarize, withinMargin } from '../../src/learn/stats.js';

describe('summarize', () => {
  it('computes n, mean, median, sample stdev, CV, min and max', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s).toMatchObject({ n: 8, mean: 5, median: 4.5, min: 2, max: 9 });
    expect(s.stdev).toBeCloseTo(2.138, 3);
    expect(s.cv).toBeCloseTo(2.138 / 5, 3);
  });

  it('has no spread for a single value and nothing for none', () => {
    expect(summarize([3])).toMatchObject({ n: 1, median: 3, stdev: null, cv: null });
    expect(summarize([])).toMatchObject({ n: 0, mean: null, median: null });
  });
});

describe('mannWhitneyU', () => {
  it('uses the exact distribution without ties (textbook values)', () => {
    // Completely separated 5 vs 5: two-sided p = 2 / C(10,5) = 2/252.
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toMatchObject({ u: 0, exact: true });
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p).toBeCloseTo(2 / 252, 10);
    // 4 vs 4 separated: 2 / C(8,4) = 2/70 — the smallest sizes that can reach p < 0.05.
    expect(mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]).p).toBeCloseTo(2 / 70, 10);
    // 3 vs 3 can never be significant: 2/20.
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6]).p).toBeCloseTo(0.1, 10);
  });

  it('is symmetric in its groups', () => {
    const a = [3.1, 2.9, 3.4, 3.0, 3.3, 2.8];
    const b = [3.6, 3.2, 3.9, 3.5, 3.7, 3.8];
    expect(mannWhitneyU(a, b).p).toBeCloseTo(mannWhitneyU(b, a).p, 12);
  });

  it('uses the normal approximation with tie and continuity correction when there are ties', () => {
    // R: wilcox.test(c(1,2,2,3), c(2,3,4,4), exact = FALSE, correct = TRUE) -> W = 2.5, p = 0.1341
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 4]);
    expect(r.exact).toBe(false);
    expect(r.u).toBe(2.5);
    expect(r.p).toBeCloseTo(0.1341, 3);
  });

  it('gives p = 1 when all values are equal', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).p).toBe(1);
  });
});

describe('bootstrapMedianDifferenceCI', () => {
  it('is reproducible for a seed and covers the true shift', () => {
    const a = Array.from({ length: 30 }, (_, i) => 100 + ((i * 7) % 11));
    const b = a.map((x) => x - 20);
    const ci1 = bootstrapMedianDifferenceCI(a, b, 2000, 42);
    const ci2 = bootstrapMedianDifferenceCI(a, b, 2000, 42);
    expect(ci1).toEqual(ci2);
    expect(ci1[0]).toBeLessThanOrEqual(-20);
    expect(ci1[1]).toBeGreaterThanOrEqual(-20);
    expect(ci1[1]).toBeLessThan(0);
  });
});

describe('compare', () => {
  const base = [10.2, 9.8, 10.1, 10.0, 9.9, 10.3, 10.1, 9.7];
  const faster = base.map((x) => x * 0.8);

  it('calls a clear improvement better, honouring lower-is-better', () => {
    const c = compare(base, faster, 'lower', { metric: 'wall_s' });
    expect(c.verdict).toBe('better');
    expect(c.relative_change).toBeCloseTo(-0.2, 2);
    expect(c.ci95![1]).toBeLessThan(0);
    expect(c.p_value).toBeLessThan(0.01);
    expect(c.additional_runs_per_group).toBeNull();
    expect(c.explanation).toMatch(/20\.00% lower/);
  });

  it('calls the same change worse when higher is better', () => {
    expect(compare(base, faster, 'higher').verdict).toBe('worse');
  });

  it('finds no significant difference between draws of the same thing, and says how many runs would settle it', () => {
    const c = compare([10.0, 10.4, 9.7, 10.1, 9.9], [10.2, 9.8, 10.3, 10.0, 9.95], 'lower');
    expect(c.verdict).toBe('no significant difference');
    expect(c.explanation).toMatch(/No significant difference/);
  });

  it('suggests more runs when the groups are too small to decide', () => {
    const c = compare([10, 11], [8, 9], 'lower');
    expect(c.verdict).toBe('no significant difference');
    expect(c.explanation).toMatch(/too few runs \(2 vs 2\)/);
    expect(c.additional_runs_per_group).toBeGreaterThanOrEqual(2);
  });

  it('handles an empty group without throwing', () => {
    const c = compare([], [1, 2, 3], 'lower');
    expect(c.verdict).toBe('no significant difference');
    expect(c.explanation).toMatch(/group a has no runs/);
  });
});

describe('runsNeeded', () => {
  it('grows as the effect shrinks relative to the noise', () => {
    const a = [10, 11, 9, 10.5, 9.5];
    const b = [9.5, 10.5, 9, 10, 9.2];
    const big = runsNeeded(a, b, -2, 0.05)!;
    const small = runsNeeded(a, b, -0.5, 0.05)!;
    expect(small).toBeGreaterThan(big);
  });

  it('is null when there is nothing to detect', () => {
    expect(runsNeeded([1, 2, 3], [1, 2, 3], 0, 0.05)).toBeNull();
  });
});

describe('withinMargin', () => {
  it('calls groups practically equal only when the whole CI of the difference is inside the margin', () => {
    const a = [100, 101, 99, 100.5, 99.5, 100];
    expect(withinMargin(compare(a, a.map((x) => x + 0.2), 'higher'), 2)).toBe(true);
    expect(withinMargin(compare(a, a.map((x) => x + 5), 'higher'), 2)).toBe(false);
    // Wide noise: "no significant difference" but not shown equal either.
    const noisy = [80, 120, 95, 110, 70, 130];
    const c = compare(a, noisy, 'higher');
    expect(c.verdict).toBe('no significant difference');
    expect(withinMargin(c, 2)).toBe(false);
  });

  it('needs 4 runs per side, as significance does', () => {
    expect(withinMargin(compare([100, 100, 100], [100, 100, 100], 'higher'), 1)).toBe(false);
    expect(withinMargin(compare([100, 100, 100, 100], [100, 100, 100, 100], 'higher'), 1)).toBe(true);
  });
});
