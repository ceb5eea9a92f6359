/**
 * The vLLM view of a /metrics scrape (V1 names, V0 fallbacks), per model_name: latency quantiles
 * (TTFT, ITL, TPOT, e2e, queue, prefill/decode), running/waiting requests, KV-cache usage,
 * preemptions, token throughput and prefix-cache hit rate, with flags for what stands out.
 * Series that differ only in other labels (engine, for data-parallel engines) are summed.
 */
import { counterWindow, histogramWindow, round, type Buckets, type HistogramWindow } from './quantiles.js';
import type { ParseResult } from './prometheus.js';
import { histogramSeries } from './view.js';

const HISTOGRAMS: Record<string, string[]> = {
  ttft: ['vllm:time_to_first_token_seconds'],
  itl: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
  tpot: ['vllm:request_time_per_output_token_seconds'],
  e2e: ['vllm:e2e_request_latency_seconds'],
  queue: ['vllm:request_queue_time_seconds'],
  prefill: ['vllm:request_prefill_time_seconds'],
  decode: ['vllm:request_decode_time_seconds'],
};

export interface VllmModelView {
  model_name: string;
  window: 'interval' | 'since_start';
  latency_s: Record<string, HistogramWindow | null>;
  requests_running: number | null;
  requests_waiting: number | null;
  kv_cache_usage: number | null;
  preemptions: { total: number | null; increase: number | null; rate_per_s: number | null };
  tokens_per_s: { prompt: number | null; generation: number | null };
  prefix_cache_hit_rate: number | null;
  finished_requests: Record<string, number>;
  flags: string[];
}

export function hasVllm(result: ParseResult): boolean {
  return [...result.families.keys()].some((n) => n.startsWith('vllm:'));
}

export function buildVllmView(later: ParseResult, earlier: ParseResult | null, seconds: number | undefined, qs: number[]): VllmModelView[] {
  // Models are the model_name values the scrape carries. Series without the label (info gauges such
  // as vllm:cache_config_info) describe the server, not a model: they make no model of their own,
  // unless no series names a model at all (an old vLLM without the label).
  const models = new Set<string>();
  for (const [name, f] of later.families) if (name.startsWith('vllm:')) for (const s of f.samples) if (s.labels.model_name !== undefined) models.add(s.labels.model_name);
  if (models.size === 0) models.add('');
  return [...models].sort().map((model) => {
    const window = earlier ? 'interval' : 'since_start';
    const latency: Record<string, HistogramWindow | null> = {};
    for (const [key, names] of Object.entries(HISTOGRAMS)) {
      const name = names.find((n) => later.families.has(n));
      const now = name ? summedHistogram(later, name, model) : null;
      latency[key] = now ? histogramWindow(now, earlier && name ? summedHistogram(earlier, name, model) : null, qs) : null;
    }
    const counter = (base: string) => {
      const total = counterTotal(later, base, model);
      const before = earlier ? counterTotal(earlier, base, model) : null;
      const w = total !== null && before !== null && seconds ? counterWindow(total, before, seconds) : null;
      return { total, w };
    };
    const preempt = counter('vllm:num_preemptions');
    const prompt = counter('vllm:prompt_tokens');
    const generation = counter('vllm:generation_tokens');
    const queries = counter('vllm:prefix_cache_queries');
    const hits = counter('vllm:prefix_cache_hits');
    const hitRate = queries.w && hits.w ? (queries.w.increase > 0 ? hits.w.increase / queries.w.increase : null) : queries.total && hits.total !== null ? hits.total / queries.total : null;
    const kv = gauge(later, ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'], model, 'max');
    const view: VllmModelView = {
      model_name: model,
      window,
      latency_s: latency,
      requests_running: gauge(later, ['vllm:num_requests_running'], model, 'sum'),
      requests_waiting: gauge(later, ['vllm:num_requests_waiting'], model, 'sum'),
      kv_cache_usage: kv,
      preemptions: { total: preempt.total, increase: preempt.w?.increase ?? null, rate_per_s: preempt.w?.rate_per_s ?? null },
      tokens_per_s: { prompt: prompt.w?.rate_per_s ?? null, generation: generation.w?.rate_per_s ?? null },
      prefix_cache_hit_rate: hitRate === null ? null : round(hitRate),
      finished_requests: finished(later, earlier, model),
      flags: [],
    };
    view.flags = vllmFlags(view);
    return view;
  });
}

function vllmFlags(v: VllmModelView): string[] {
  const flags: string[] = [];
  if (v.kv_cache_usage !== null && v.kv_cache_usage >= 0.9) flags.push(`KV cache ${Math.round(v.kv_cache_usage * 100)}% used: new sequences wait or preempt others`);
  if (v.preemptions.increase) flags.push(`${v.preemptions.increase} preemption(s) in the window (${v.preemptions.rate_per_s}/s): the KV cache is too small for the load`);
  else if (v.window === 'since_start' && v.preemptions.total) flags.push(`${v.preemptions.total} preemption(s) since start (scrape twice with interval_s for the current rate)`);
  if (v.requests_waiting && v.requests_waiting > 0) flags.push(`${v.requests_waiting} request(s) waiting with ${v.requests_running ?? '?'} running`);
  // Every request's time to first token is part of its end-to-end latency: a mean TTFT above the
  // mean e2e latency cannot come from one consistent window (counters from different processes or
  // restarts, a proxy merging scrapes, a histogram reset between the two families).
  const ttftMean = v.latency_s.ttft?.mean ?? null;
  const e2eMean = v.latency_s.e2e?.mean ?? null;
  if (ttftMean !== null && e2eMean !== null && v.latency_s.ttft!.count > 0 && v.latency_s.e2e!.count > 0 && ttftMean > e2eMean * 1.001) {
    flags.push(`inconsistent scrape: mean time to first token ${round(ttftMean)}s exceeds mean end-to-end latency ${round(e2eMean)}s, which no request can have; the latency figures of this scrape are not trustworthy (check for restarts, several engines behind one endpoint, or a proxy)`);
  }
  const p50 = (key: string) => v.latency_s[key]?.quantiles.find((q) => q.q === 0.5)?.value ?? null;
  const queue = p50('queue');
  const ttft = p50('ttft');
  // TTFT includes the queue time: a queue median above the TTFT median is bucket coarseness, not a finding.
  if (queue !== null && ttft !== null && ttft > 0 && queue >= 0.5 * ttft && queue <= ttft) flags.push(`median queue time ${queue}s is ${Math.round((queue / ttft) * 100)}% of median TTFT ${ttft}s: TTFT is dominated by waiting, not prefill`);
  return flags;
}

/** One histogram per model, summing the series of other label values (per le). */
function summedHistogram(result: ParseResult, name: string, model: string): Buckets | null {
  const family = result.families.get(name);
  if (!family) return null;
  const parts = [...histogramSeries(family).values()].filter((h) => (h.labels.model_name ?? '') === model);
  if (parts.length === 0) return null;
  const byLe = new Map<number, number>();
  let sum: number | null = 0;
  let count: number | null = 0;
  for (const p of parts) {
    p.buckets.le.forEach((le, i) => byLe.set(le, (byLe.get(le) ?? 0) + p.buckets.counts[i]));
    sum = sum !== null && p.buckets.sum !== null ? sum + p.buckets.sum : null;
    count = count !== null && p.buckets.count !== null ? count + p.buckets.count : null;
  }
  const le = [...byLe.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((b) => byLe.get(b)!), sum, count };
}

/** prometheus_client names a counter family `x_total` in text format; OpenMetrics calls it `x`. */
function counterSamples(result: ParseResult, base: string, model: string) {
  const family = result.families.get(`${base}_total`) ?? result.families.get(base);
  return (family?.samples ?? []).filter((s) => (s.name === `${base}_total` || s.name === base) && (s.labels.model_name ?? '') === model);
}

function counterTotal(result: ParseResult, base: string, model: string): number | null {
  const samples = counterSamples(result, base, model);
  return samples.length ? samples.reduce((n, s) => n + s.value, 0) : null;
}

function gauge(result: ParseResult, names: string[], model: string, combine: 'sum' | 'max'): number | null {
  const family = names.map((n) => result.families.get(n)).find(Boolean);
  const values = (family?.samples ?? []).filter((s) => (s.labels.model_name ?? '') === model).map((s) => s.value);
  if (values.length === 0) return null;
  return round(combine === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values));
}

function finished(later: ParseResult, earlier: ParseResult | null, model: string): Record<string, number> {
  const out: Record<string, number> = {};
  const before = new Map<string, number>();
  if (earlier) for (const s of counterSamples(earlier, 'vllm:request_success', model)) before.set(s.labels.finished_reason ?? '', (before.get(s.labels.finished_reason ?? '') ?? 0) + s.value);
  for (const s of counterSamples(later, 'vllm:request_success', model)) {
    const reason = s.labels.finished_reason ?? '';
    out[reason] = (out[reason] ?? 0) + s.value;
  }
  if (earlier) for (const [reason, v] of Object.entries(out)) out[reason] = v >= (before.get(reason) ?? 0) ? v - (before.get(reason) ?? 0) : v;
  return out;
}
