/**
 * From one or two parsed scrapes to per-series values: gauges as read, counters with their
 * increase and rate, histograms with windowed quantiles, summaries with the exporter's quantiles.
 * Filters by name and labels; the number of series returned is bounded.
 */
import { counterWindow, histogramWindow, type Buckets, type HistogramWindow } from './quantiles.js';
import { labelKey, parseValue, type MetricFamily, type MetricType, type ParseResult } from './prometheus.js';

export interface SeriesView {
  labels: Record<string, string>;
  value?: number | null;
  timestamp_ms?: number;
  increase?: number;
  rate_per_s?: number;
  reset?: boolean;
  histogram?: HistogramWindow & { window: 'interval' | 'since_start'; buckets: number };
  summary?: { count: number | null; sum: number | null; quantiles: { q: number; value: number | null }[] };
}

export interface MetricView {
  name: string;
  type: MetricType;
  help: string | null;
  series: SeriesView[];
}

export interface ViewOptions {
  nameFilter?: RegExp;
  labels: Record<string, string>;
  quantiles: number[];
  maxSeries: number;
  /** Seconds between the scrapes, when there are two. */
  seconds?: number;
}

export function buildViews(later: ParseResult, earlier: ParseResult | null, options: ViewOptions): { metrics: MetricView[]; series_total: number; series_omitted: number } {
  const metrics: MetricView[] = [];
  let total = 0;
  let budget = options.maxSeries;
  for (const family of [...later.families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (options.nameFilter && !options.nameFilter.test(family.name)) continue;
    const before = earlier?.families.get(family.name) ?? null;
    const series = familySeries(family, before, options).filter((s) => Object.entries(options.labels).every(([k, v]) => s.labels[k] === v));
    if (series.length === 0) continue;
    total += series.length;
    const kept = series.slice(0, Math.max(0, budget));
    budget -= kept.length;
    if (kept.length) metrics.push({ name: family.name, type: family.type, help: family.help ?? null, series: kept });
  }
  return { metrics, series_total: total, series_omitted: total - metrics.reduce((n, m) => n + m.series.length, 0) };
}

function familySeries(family: MetricFamily, before: MetricFamily | null, options: ViewOptions): SeriesView[] {
  if (family.type === 'histogram') {
    const earlier = before ? histogramSeries(before) : null;
    return [...histogramSeries(family)].map(([key, h]) => {
      const prev = earlier?.get(key)?.buckets ?? null;
      const w = histogramWindow(h.buckets, prev, options.quantiles);
      return { labels: h.labels, histogram: { ...w, window: prev ? ('interval' as const) : ('since_start' as const), buckets: h.buckets.le.length } };
    });
  }
  if (family.type === 'summary') return summarySeries(family);
  const previous = new Map((before ? plainSamples(before) : []).map((s) => [labelKey(s.labels), s.value]));
  return plainSamples(family).map((s) => {
    const view: SeriesView = { labels: s.labels, value: Number.isFinite(s.value) ? s.value : null };
    if (s.timestampMs !== undefined) view.timestamp_ms = s.timestampMs;
    const prev = previous.get(labelKey(s.labels));
    if (family.type === 'counter' && prev !== undefined && options.seconds !== undefined) Object.assign(view, counterWindow(s.value, prev, options.seconds));
    return view;
  });
}

/** Counter/gauge/untyped samples: the family's own samples, never its _created timestamps. */
function plainSamples(family: MetricFamily) {
  return family.samples.filter((s) => !s.name.endsWith('_created') || s.name === family.name);
}

export function histogramSeries(family: MetricFamily): Map<string, { labels: Record<string, string>; buckets: Buckets }> {
  const out = new Map<string, { labels: Record<string, string>; le: Map<number, number>; sum: number | null; count: number | null }>();
  for (const s of family.samples) {
    const key = labelKey(s.labels, ['le']);
    let entry = out.get(key);
    if (!entry) {
      const { le: _le, ...labels } = s.labels;
      out.set(key, (entry = { labels, le: new Map(), sum: null, count: null }));
    }
    if (s.name === `${family.name}_bucket` && s.labels.le !== undefined) entry.le.set(parseValue(s.labels.le), s.value);
    else if (s.name === `${family.name}_sum`) entry.sum = s.value;
    else if (s.name === `${family.name}_count`) entry.count = s.value;
  }
  return new Map(
    [...out].map(([key, e]) => {
      const le = [...e.le.keys()].sort((a, b) => a - b);
      return [key, { labels: e.labels, buckets: { le, counts: le.map((b) => e.le.get(b)!), sum: e.sum, count: e.count } }];
    }),
  );
}

function summarySeries(family: MetricFamily): SeriesView[] {
  const out = new Map<string, SeriesView & { summary: NonNullable<SeriesView['summary']> }>();
  for (const s of family.samples) {
    const key = labelKey(s.labels, ['quantile']);
    let entry = out.get(key);
    if (!entry) {
      const { quantile: _q, ...labels } = s.labels;
      out.set(key, (entry = { labels, summary: { count: null, sum: null, quantiles: [] } }));
    }
    if (s.name === family.name && s.labels.quantile !== undefined) entry.summary.quantiles.push({ q: parseValue(s.labels.quantile), value: Number.isFinite(s.value) ? s.value : null });
    else if (s.name === `${family.name}_sum`) entry.summary.sum = s.value;
    else if (s.name === `${family.name}_count`) entry.summary.count = s.value;
  }
  return [...out.values()];
}
