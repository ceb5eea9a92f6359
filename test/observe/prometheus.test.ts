/**
 * The exposition-format parser on tricky input, and histogram quantiles checked against hand
 * computations on the vLLM fixtures (test/fixtures/incidents/metrics/vllm-{1,2}.prom).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/observe/metrics/prometheus.js';
import { counterWindow, histogramWindow, quantile } from '../../src/observe/metrics/quantiles.js';
import { histogramSeries } from '../../src/observe/metrics/view.js';

const METRICS = resolve(import.meta.dirname, '../fixtures/incidents/metrics');
const load = (name: string) => parsePrometheusText(readFileSync(resolve(METRICS, name), 'utf8'));

describe('Prometheus text parser', () => {
  const { families, errors } = load('tricky.prom');

  it('reads HELP and TYPE, with HELP escapes', () => {
    expect(families.get('http_requests_total')).toMatchObject({ type: 'counter', help: 'The total number of HTTP requests.' });
    expect(families.get('help_escapes')!.help).toBe('First line\nsecond line with a \\ backslash');
  });

  it('unescapes label values and keeps commas, braces and equals inside them', () => {
    expect(families.get('msdos_file_access_time_seconds')!.samples[0].labels).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
    expect(families.get('help_escapes')!.samples[0]).toEqual({ name: 'help_escapes', labels: { tricky: 'a,b}c=d', empty: '' }, value: -0.5 });
    expect(families.get('spaced')!.samples[0]).toEqual({ name: 'spaced', labels: { a: '1', b: '2' }, value: 7 });
  });

  it('reads special values and timestamps, and the last line without a newline', () => {
    expect(families.get('http_requests_total')!.samples.map((s) => [s.labels.code, s.value, s.timestampMs])).toEqual([['200', 1027, 1395066363000], ['400', 3, 1395066363000]]);
    expect(families.get('something_weird')!.samples[0]).toMatchObject({ value: Infinity, timestampMs: -3982045 });
    expect(families.get('not_a_number')!.samples[0].value).toBeNaN();
    expect(families.get('negative_infinity')!.samples[0].value).toBe(-Infinity);
    expect(families.get('metric_without_timestamp_and_labels')).toMatchObject({ type: 'untyped', samples: [{ value: 12.47 }] });
    expect(families.get('last_line_without_newline')!.samples[0]).toMatchObject({ labels: { a: 'b' }, value: 42 });
  });

  it('groups labelled histogram and summary series with their _sum and _count', () => {
    const h = histogramSeries(families.get('http_request_duration_seconds')!);
    expect([...h.values()]).toEqual([
      { labels: { handler: '/a' }, buckets: { le: [0.05, 0.1, 0.2, 0.5, 1, Infinity], counts: [24054, 33444, 100392, 129389, 133988, 144320], sum: 53423, count: 144320 } },
      { labels: { handler: '/b' }, buckets: { le: [0.05, 0.1, 0.2, 0.5, 1, Infinity], counts: [1, 2, 3, 4, 4, 4], sum: 0.6, count: 4 } },
    ]);
    const summary = families.get('rpc_duration_seconds')!;
    expect(summary.type).toBe('summary');
    expect(summary.samples.filter((s) => s.labels.service === 'y').map((s) => [s.name, s.value])).toEqual([['rpc_duration_seconds', 10], ['rpc_duration_seconds_sum', 100], ['rpc_duration_seconds_count', 9]]);
  });

  it('puts OpenMetrics counter samples (x_total, x_created) in the counter family', () => {
    expect(families.get('om_requests')!.samples.map((s) => s.name)).toEqual(['om_requests_total', 'om_requests_created']);
    expect(families.has('om_requests_total')).toBe(false);
  });

  it('reports bad lines with their numbers and goes on', () => {
    expect(errors).toEqual([
      { line: 49, message: 'broken_line: unterminated value of label unterminated' },
      { line: 50, message: 'also: "broken" is not a number' },
      { line: 53, message: 'TYPE for late_type after its samples' },
    ]);
    expect(families.get('late_type')!.type).toBe('gauge');
  });
});

describe('histogram quantiles (Prometheus histogram_quantile)', () => {
  const one = load('vllm-1.prom');
  const two = load('vllm-2.prom');
  const series = (r: ReturnType<typeof load>, name: string) => [...histogramSeries(r.families.get(name)!).values()][0].buckets;

  it('TTFT over the window: per-le differences, rank = q x count, linear interpolation', () => {
    const w = histogramWindow(series(two, 'vllm:time_to_first_token_seconds'), series(one, 'vllm:time_to_first_token_seconds'), [0.5, 0.9, 0.99]);
    // Window buckets (le: cumulative): 0.04:10 0.06:30 0.08:50 0.1:80 0.25:160 0.5:200, count 200, sum 88-40.
    // p50: rank 100 in (0.1, 0.25]: 0.1 + 0.15 x (100-80)/(160-80) = 0.1375
    // p90: rank 180 in (0.25, 0.5]: 0.25 + 0.25 x (180-160)/(200-160) = 0.375
    // p99: rank 198 in (0.25, 0.5]: 0.25 + 0.25 x (198-160)/40 = 0.4875
    expect(w).toEqual({
      count: 200,
      sum: 48,
      mean: 0.24,
      reset: false,
      quantiles: [
        { q: 0.5, value: 0.1375, lower: 0.1, upper: 0.25 },
        { q: 0.9, value: 0.375, lower: 0.25, upper: 0.5 },
        { q: 0.99, value: 0.4875, lower: 0.25, upper: 0.5 },
      ],
    });
  });

  it('TTFT since process start from one scrape', () => {
    // count 400; p50 rank 200 in (0.1, 0.25] with cumulative 160 -> 310: 0.1 + 0.15 x 40/150 = 0.14
    expect(histogramWindow(series(two, 'vllm:time_to_first_token_seconds'), null, [0.5]).quantiles).toEqual([{ q: 0.5, value: 0.14, lower: 0.1, upper: 0.25 }]);
  });

  it('returns the highest finite bound when the rank falls in +Inf', () => {
    const w = histogramWindow(series(two, 'vllm:e2e_request_latency_seconds'), series(one, 'vllm:e2e_request_latency_seconds'), [0.5, 0.9, 0.99]);
    // 100 requests, 5 above 7680 s: p50 rank 50 ends bucket (1.5, 2.0] exactly -> 2.0; p90 rank 90 ends (2.5, 5.0] -> 5.0.
    expect(w.quantiles[0]).toEqual({ q: 0.5, value: 2, lower: 1.5, upper: 2 });
    expect(w.quantiles[1]).toEqual({ q: 0.9, value: 5, lower: 2.5, upper: 5 });
    expect(w.quantiles[2]).toMatchObject({ q: 0.99, value: 7680, lower: 7680, upper: null, note: expect.stringMatching(/\+Inf bucket/) });
    expect(w.mean).toBe(4);
  });

  it('takes the later scrape as the window when counts went down (restart)', () => {
    const w = histogramWindow(series(two, 'vllm:inter_token_latency_seconds'), series(one, 'vllm:inter_token_latency_seconds'), [0.5]);
    // After the reset: 0.01:10 0.025:40 0.05:50; p50 rank 25 in (0.01, 0.025]: 0.01 + 0.015 x 15/30 = 0.0175
    expect(w).toMatchObject({ reset: true, count: 50, sum: 1.2, quantiles: [{ q: 0.5, value: 0.0175, lower: 0.01, upper: 0.025 }] });
  });

  it('interpolates from 0 in the first bucket and says when there is nothing to measure', () => {
    expect(quantile(0.5, { le: [1, Infinity], counts: [4, 4], sum: null, count: 4 })).toEqual({ q: 0.5, value: 0.5, lower: 0, upper: 1 });
    expect(quantile(0.5, { le: [1, Infinity], counts: [0, 0], sum: 0, count: 0 })).toMatchObject({ value: null, note: 'no observations in the window' });
    expect(quantile(0.5, { le: [1, 2], counts: [1, 2], sum: null, count: 2 })).toMatchObject({ value: null, note: expect.stringMatching(/no \+Inf bucket/) });
  });

  it('computes counter increases and rates, treating a drop as a restart', () => {
    expect(counterWindow(25, 10, 5)).toEqual({ increase: 15, rate_per_s: 3, reset: false });
    expect(counterWindow(4, 10, 2)).toEqual({ increase: 4, rate_per_s: 2, reset: true });
  });
});

describe('vLLM view flags', () => {
  const hist = (name: string, le: number[], counts: number[]) =>
    [`# TYPE ${name} histogram`, ...le.map((b, i) => `${name}_bucket{le="${b === Infinity ? '+Inf' : b}",model_name="m"} ${counts[i]}`), `${name}_count{model_name="m"} ${counts.at(-1)}`, `${name}_sum{model_name="m"} 1`].join('\n');

  it('says when queueing dominates TTFT, and not when bucket coarseness puts the queue median above it', async () => {
    const { buildVllmView } = await import('../../src/observe/metrics/vllm.js');
    const text = (queue: number[]) => `${hist('vllm:time_to_first_token_seconds', [1, 2, Infinity], [0, 10, 10])}\n${hist('vllm:request_queue_time_seconds', [1, 2, Infinity], queue)}\n`;
    // TTFT p50: rank 5 in (1, 2] -> 1.5. Queue all in (0, 1]: p50 0.5 = 33 % of TTFT: no flag.
    expect(buildVllmView(parsePrometheusText(text([10, 10, 10])), null, undefined, [0.5])[0].flags).toEqual([]);
    // Queue 2 of 10 in (0, 1], 8 in (1, 2]: p50 rank 5 -> 1 + 3/8 = 1.375, 92 % of TTFT: flagged.
    expect(buildVllmView(parsePrometheusText(text([2, 10, 10])), null, undefined, [0.5])[0].flags).toEqual([
      'median queue time 1.375s is 92% of median TTFT 1.5s: TTFT is dominated by waiting, not prefill',
    ]);
  });
});
