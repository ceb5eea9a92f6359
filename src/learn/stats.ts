/**
 * The one statistics module. Every tool that says "faster", "better" or "noise" says it through
 * here, so the same numbers always get the same verdict.
 *
 * Method, chosen for small samples of benchmark timings (skewed, outliers, n often 5-20):
 * - location by the median, spread by the sample stdev and CV;
 * - a Mann-Whitney U test (no normality assumption): exact distribution for small samples without
 *   ties, normal approximation with tie and continuity correction otherwise;
 * - a percentile bootstrap 95% CI of the difference of medians, with a fixed seed so the same data
 *   always gives the same interval;
 * - a difference is called significant only when both agree (p < alpha and the CI excludes 0).
 */
import { errorFunction, mean, median, probit, sampleStandardDeviation } from 'simple-statistics';
import { xorshift32 } from './random.js';

export type Direction = 'lower' | 'higher';
export type Verdict = 'better' | 'worse' | 'no significant difference';

export interface Summary {
  n: number;
  mean: number | null;
  median: number | null;
  stdev: number | null;
  /** Coefficient of variation, stdev / |mean|. */
  cv: number | null;
  min: number | null;
  max: number | null;
}

export interface Comparison {
  metric: string;
  direction: Direction;
  a: Summary;
  b: Summary;
  /** median(b) - median(a). */
  difference: number | null;
  /** (median(b) - median(a)) / |median(a)|. */
  relative_change: number | null;
  /** Bootstrap 95% CI of median(b) - median(a). */
  ci95: [number, number] | null;
  p_value: number | null;
  test: 'mann-whitney exact' | 'mann-whitney normal' | 'none';
  verdict: Verdict;
  /** For b against a, honouring the direction: "b is 12.3% faster", "no significant difference". */
  explanation: string;
  /** When inconclusive: about how many more runs per group would detect the observed difference. */
  additional_runs_per_group: number | null;
}

export interface CompareOptions {
  metric?: string;
  alpha?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  seed?: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: null, median: null, stdev: null, cv: null, min: null, max: null };
  const m = mean(values as number[]);
  const sd = n > 1 ? sampleStandardDeviation(values as number[]) : null;
  return {
    n,
    mean: m,
    median: median(values as number[]),
    stdev: sd,
    cv: sd !== null && m !== 0 ? sd / Math.abs(m) : null,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** Compare group b against baseline a on a metric where `direction` says which way is better. */
export function compare(a: readonly number[], b: readonly number[], direction: Direction, options: CompareOptions = {}): Comparison {
  const alpha = options.alpha ?? 0.05;
  const metric = options.metric ?? 'value';
  const sa = summarize(a);
  const sb = summarize(b);
  const base: Omit<Comparison, 'verdict' | 'explanation' | 'additional_runs_per_group'> = {
    metric,
    direction,
    a: sa,
    b: sb,
    difference: null,
    relative_change: null,
    ci95: null,
    p_value: null,
    test: 'none',
  };
  if (sa.n === 0 || sb.n === 0) {
    return {
      ...base,
      verdict: 'no significant difference',
      explanation: `Nothing to compare: group ${sa.n === 0 ? 'a' : 'b'} has no runs with a value for ${metric}.`,
      additional_runs_per_group: null,
    };
  }
  const difference = sb.median! - sa.median!;
  const relative = sa.median !== 0 ? difference / Math.abs(sa.median!) : null;
  const mw = mannWhitneyU(a, b);
  const ci = bootstrapMedianDifferenceCI(a, b, options.resamples ?? 2000, options.seed ?? 0x5eed);
  const significant = mw.p < alpha && (ci[0] > 0 || ci[1] < 0);
  const improves = direction === 'lower' ? difference < 0 : difference > 0;
  const verdict: Verdict = significant ? (improves ? 'better' : 'worse') : 'no significant difference';
  const changeText = relative !== null ? `${(Math.abs(relative) * 100).toFixed(2)}%` : `${Math.abs(difference)}`;
  const word = direction === 'lower' ? (difference < 0 ? 'lower' : 'higher') : difference > 0 ? 'higher' : 'lower';
  let explanation: string;
  let additional: number | null = null;
  if (significant) {
    explanation = `b's median ${metric} is ${changeText} ${word} than a's (${improves ? 'better' : 'worse'}, ${direction} is better): p=${formatP(mw.p)}, 95% CI of the difference [${fmt(ci[0])}, ${fmt(ci[1])}] excludes 0.`;
  } else {
    additional = runsNeeded(a, b, difference, alpha);
    if (additional !== null) additional = Math.max(additional, 1);
    const reason =
      sa.n < 3 || sb.n < 3
        ? `too few runs (${sa.n} vs ${sb.n}) to tell`
        : `p=${formatP(mw.p)}, 95% CI [${fmt(ci[0])}, ${fmt(ci[1])}] ${ci[0] <= 0 && ci[1] >= 0 ? 'includes 0' : 'excludes 0 but the rank test disagrees'}`;
    explanation = `No significant difference in ${metric} (observed ${changeText} ${word}): ${reason}.${
      additional !== null ? ` About ${additional} more runs per group would settle a difference this size.` : ' The observed difference is too small to resolve with any practical number of runs.'
    }`;
  }
  return {
    ...base,
    difference,
    relative_change: relative,
    ci95: ci,
    p_value: mw.p,
    test: mw.exact ? 'mann-whitney exact' : 'mann-whitney normal',
    verdict,
    explanation,
    additional_runs_per_group: additional,
  };
}

/**
 * Whether a comparison shows the two groups practically equal: the whole 95% CI of the median
 * difference lies within ±margin (the metric's units). An equivalence check in the spirit of
 * TOST, conservative (a 95% rather than a 90% interval): "no significant difference" alone never
 * means equal, since it is also what too few runs give.
 */
export function withinMargin(c: Comparison, margin: number): boolean {
  return c.ci95 !== null && c.a.n >= MIN_RUNS_FOR_SIGNIFICANCE && c.b.n >= MIN_RUNS_FOR_SIGNIFICANCE && c.ci95[0] >= -margin && c.ci95[1] <= margin;
}

/** Two-sided Mann-Whitney U test. */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): { u: number; p: number; exact: boolean } {
  const n1 = a.length;
  const n2 = b.length;
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  let hasTies = false;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    if (t > 1) {
      hasTies = true;
      tieTerm += t * t * t - t;
    }
    i = j + 1;
  }
  let r1 = 0;
  all.forEach((x, i) => {
    if (x.g === 0) r1 += ranks[i];
  });
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.min(u1, n1 * n2 - u1);

  if (!hasTies && n1 * n2 <= 2500) {
    return { u, p: Math.min(1, 2 * exactLowerTail(n1, n2, u)), exact: true };
  }
  const n = n1 + n2;
  const meanU = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1, exact: false };
  const z = (Math.abs(u1 - meanU) - 0.5) / Math.sqrt(variance);
  const p = z <= 0 ? 1 : 1 - errorFunction(z / Math.SQRT2);
  return { u, p: Math.min(1, Math.max(0, p)), exact: false };
}

/** P(U <= u) under H0 for sample sizes n1, n2 without ties, by counting arrangements. */
function exactLowerTail(n1: number, n2: number, u: number): number {
  // counts[i][j] = distribution of U for sizes (i, j); built with f(i,j,k) = f(i-1,j,k-j) + f(i,j-1,k).
  const maxU = n1 * n2;
  let prev: Float64Array[] = [];
  for (let i = 0; i <= n1; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n2; j++) {
      const dist = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) dist[0] = 1;
      else {
        const left = prev[j];
        const down = row[j - 1];
        for (let k = 0; k < dist.length; k++) {
          dist[k] = (k - j >= 0 && k - j < left.length ? left[k - j] : 0) + (k < down.length ? down[k] : 0);
        }
      }
      row.push(dist);
    }
    prev = row;
  }
  const dist = prev[n2];
  let total = 0;
  let below = 0;
  for (let k = 0; k <= maxU; k++) {
    total += dist[k];
    if (k <= Math.floor(u + 1e-9)) below += dist[k];
  }
  return below / total;
}

/** Percentile bootstrap CI (95%) of median(b) - median(a), reproducible through `seed`. */
export function bootstrapMedianDifferenceCI(a: readonly number[], b: readonly number[], resamples: number, seed: number): [number, number] {
  const random = xorshift32(seed);
  const diffs = new Float64Array(resamples);
  const bufA = new Float64Array(a.length);
  const bufB = new Float64Array(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) bufA[i] = a[Math.floor(random() * a.length)];
    for (let i = 0; i < b.length; i++) bufB[i] = b[Math.floor(random() * b.length)];
    diffs[r] = sortedMedian(bufB.sort()) - sortedMedian(bufA.sort());
  }
  diffs.sort();
  const lo = diffs[Math.floor(0.025 * (resamples - 1))];
  const hi = diffs[Math.ceil(0.975 * (resamples - 1))];
  return [lo, hi];
}

/**
 * More runs per group for an 80%-power two-sided test at `alpha` to detect `difference`, from the
 * pooled stdev (normal approximation, inflated by 1/0.955 for the rank test's efficiency). At least
 * 4 runs per group are needed for the exact rank test to reach p < 0.05 at all.
 * null when there is no difference to detect or the answer would be absurd (> 10000 runs).
 */
export function runsNeeded(a: readonly number[], b: readonly number[], difference: number, alpha: number): number | null {
  if (difference === 0) return null;
  const sdA = a.length > 1 ? sampleStandardDeviation(a as number[]) : 0;
  const sdB = b.length > 1 ? sampleStandardDeviation(b as number[]) : 0;
  const pooled = Math.sqrt((sdA * sdA + sdB * sdB) / 2);
  const z = probit(1 - alpha / 2) + probit(0.8);
  const perGroup = pooled > 0 ? Math.ceil((2 * z * z * pooled * pooled) / (difference * difference) / 0.955) : 0;
  if (perGroup > 10000) return null;
  return Math.max(perGroup, MIN_RUNS_FOR_SIGNIFICANCE) - Math.min(a.length, b.length);
}

const MIN_RUNS_FOR_SIGNIFICANCE = 4;

function sortedMedian(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatP(p: number): string {
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString();
}
