/**
 * Histogram and counter arithmetic between two scrapes, as Prometheus does it:
 * per-`le` differences (a drop means the process restarted: the later scrape is the window),
 * rank = q x count(+Inf), the first bucket whose cumulative count reaches the rank, linear
 * interpolation inside it, and the highest finite bound when the rank falls in +Inf. The bucket
 * bounds come with every value: its precision is one bucket width.
 */

export interface Buckets {
  /** Upper bounds ascending, the last one +Infinity. */
  le: number[];
  /** Cumulative counts per bound. */
  counts: number[];
  sum: number | null;
  count: number | null;
}

export interface QuantileValue {
  q: number;
  value: number | null;
  /** The bucket the value lies in; upper null = +Inf. */
  lower: number | null;
  upper: number | null;
  note?: string;
}

export interface HistogramWindow {
  count: number;
  sum: number | null;
  mean: number | null;
  reset: boolean;
  quantiles: QuantileValue[];
}

/** The window between two scrapes of one series (or since process start with one scrape). */
export function histogramWindow(later: Buckets, earlier: Buckets | null, qs: number[]): HistogramWindow {
  let counts = later.counts;
  let sum = later.sum;
  let reset = false;
  if (earlier) {
    const before = new Map(earlier.le.map((le, i) => [le, earlier.counts[i]]));
    reset = later.le.some((le, i) => (before.get(le) ?? 0) > later.counts[i]) || (earlier.count ?? 0) > (later.count ?? 0);
    if (!reset) {
      counts = later.le.map((le, i) => later.counts[i] - (before.get(le) ?? 0));
      sum = later.sum !== null && earlier.sum !== null ? later.sum - earlier.sum : null;
    }
  }
  const window: Buckets = { le: later.le, counts, sum, count: counts.at(-1) ?? 0 };
  const count = window.count ?? 0;
  return {
    count,
    sum: sum === null ? null : round(sum),
    mean: sum !== null && count > 0 ? round(sum / count) : null,
    reset,
    quantiles: qs.map((q) => quantile(q, window)),
  };
}

export function quantile(q: number, b: Buckets): QuantileValue {
  if (b.le.at(-1) !== Infinity) return { q, value: null, lower: null, upper: null, note: 'no +Inf bucket: not a complete histogram' };
  // Cumulative counts must not decrease; float noise or a racy scrape can break that.
  const cum: number[] = [];
  for (const c of b.counts) cum.push(Math.max(c, cum.at(-1) ?? 0));
  const total = cum.at(-1)!;
  if (!(total > 0)) return { q, value: null, lower: null, upper: null, note: 'no observations in the window' };
  const rank = q * total;
  let i = cum.findIndex((c) => c >= rank);
  if (i < 0) i = cum.length - 1;
  const upper = b.le[i];
  if (upper === Infinity) {
    const highest = b.le.length >= 2 ? b.le[b.le.length - 2] : null;
    return { q, value: highest, lower: highest, upper: null, note: 'in the +Inf bucket: the highest finite bound is returned (a lower bound on the true value)' };
  }
  const lower = i === 0 ? (upper > 0 ? 0 : upper) : b.le[i - 1];
  const below = i === 0 ? 0 : cum[i - 1];
  const inBucket = cum[i] - below;
  const value = i === 0 && upper <= 0 ? upper : lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1);
  return { q, value: round(value), lower, upper };
}

/** A counter's increase and rate over the window; a drop is a restart (the later value is the increase). */
export function counterWindow(later: number, earlier: number, seconds: number): { increase: number; rate_per_s: number; reset: boolean } {
  const reset = later < earlier;
  const increase = reset ? later : later - earlier;
  return { increase: round(increase), rate_per_s: round(seconds > 0 ? increase / seconds : 0), reset };
}

export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}
