/** scrape_metrics: Prometheus metrics with rates, windowed histogram quantiles and a vLLM view. */
import { z } from 'zod';
import { UserError, quoteInput } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { parsePrometheusText, type ParseResult } from './metrics/prometheus.js';
import { checkMetricsUrl, fetchMetrics, readMetricsFile } from './metrics/scrape.js';
import { buildVllmView, hasVllm } from './metrics/vllm.js';
import { buildViews } from './metrics/view.js';

const quantileValue = z.object({
  q: z.number(),
  value: z.number().nullable(),
  lower: z.number().nullable().describe('Bucket lower bound.'),
  upper: z.number().nullable().describe('Bucket upper bound; null = +Inf.'),
  note: z.string().optional(),
});
const histogramWindow = z.object({ count: z.number(), sum: z.number().nullable(), mean: z.number().nullable(), reset: z.boolean().describe('A counter went down between scrapes (restart): the later scrape is the window.'), quantiles: z.array(quantileValue) });
const series = z.object({
  labels: z.record(z.string(), z.string()),
  value: z.number().nullable().optional(),
  timestamp_ms: z.number().optional(),
  increase: z.number().optional(),
  rate_per_s: z.number().optional(),
  reset: z.boolean().optional(),
  histogram: histogramWindow.extend({ window: z.enum(['interval', 'since_start']), buckets: z.number().int() }).optional(),
  summary: z.object({ count: z.number().nullable(), sum: z.number().nullable(), quantiles: z.array(z.object({ q: z.number(), value: z.number().nullable() })) }).optional(),
});
const vllmModel = z.object({
  model_name: z.string(),
  window: z.enum(['interval', 'since_start']),
  latency_s: z.record(z.string(), histogramWindow.nullable()).describe('ttft, itl, tpot, e2e, queue, prefill, decode.'),
  requests_running: z.number().nullable(),
  requests_waiting: z.number().nullable(),
  kv_cache_usage: z.number().nullable().describe('0-1.'),
  preemptions: z.object({ total: z.number().nullable(), increase: z.number().nullable(), rate_per_s: z.number().nullable() }),
  tokens_per_s: z.object({ prompt: z.number().nullable(), generation: z.number().nullable() }),
  prefix_cache_hit_rate: z.number().nullable(),
  finished_requests: z.record(z.string(), z.number()),
  flags: z.array(z.string()),
});

export const scrapeMetricsTool = defineTool({
  name: 'scrape_metrics',
  toolset: 'observe',
  title: 'Scrape Prometheus metrics',
  description:
    'Read Prometheus text metrics from a URL (plain http; loopback and the hosts in TUNELOOP_METRICS_HOSTS), a file, or text. ' +
    'With interval_s, scrapes twice and returns counter rates and histogram quantiles over that window (Prometheus histogram_quantile, with the bucket bounds); ' +
    'otherwise values since process start. When vllm:* metrics are present, adds a per-model vLLM view: TTFT/ITL/TPOT/e2e/queue quantiles, running/waiting, ' +
    'KV-cache usage, preemption rate, token throughput and prefix-cache hit rate. Filter by metric name (regex) and labels; output is bounded by max_series.',
  annotations: { ...READ_ONLY, openWorldHint: true },
  input: z.object({
    url: z.string().optional().describe('e.g. http://127.0.0.1:8000/metrics (vLLM). Other hosts need TUNELOOP_METRICS_HOSTS.'),
    file: z.string().optional().describe('Absolute path of a file in the text exposition format.'),
    text: z.string().max(16 * 1024 * 1024).optional().describe('Metrics text passed in.'),
    interval_s: z.number().min(0).max(60).default(0).describe('Scrape url/file again after this many seconds for rates and windowed quantiles (0: one scrape, values since start).'),
    match: z.string().max(500).optional().describe('JavaScript regex on metric names, e.g. "^vllm:(time_to_first|e2e)".'),
    labels: z.record(z.string(), z.string()).default({}).describe('Keep only series with these exact label values, e.g. {"model_name": "llama"}.'),
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).max(10).default([0.5, 0.9, 0.99]).describe('Quantiles to compute from histograms.'),
    max_series: z.number().int().min(1).max(2000).default(100).describe('Series returned at most (the count left out is reported).'),
    timeout_s: z.number().min(1).max(60).default(10).describe('HTTP timeout per scrape.'),
    max_bytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024).describe('Largest metrics body accepted.'),
  }),
  output: z.object({
    source: z.object({ kind: z.enum(['url', 'file', 'text']), location: z.string().nullable(), scrapes: z.number().int(), interval_s: z.number().nullable().describe('Measured time between the scrapes.'), bytes: z.number().int() }),
    families: z.number().int(),
    series_total: z.number().int(),
    series_omitted: z.number().int(),
    parse_errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
    metrics: z.array(z.object({ name: z.string(), type: z.enum(['counter', 'gauge', 'histogram', 'summary', 'untyped']), help: z.string().nullable(), series: z.array(series) })),
    vllm: z.array(vllmModel).nullable().describe('Present when vllm:* metrics are.'),
  }),
  async handler(args, { runtime, signal }) {
    const given = [args.url, args.file, args.text].filter((v) => v !== undefined).length;
    if (given !== 1) throw new UserError(given === 0 ? 'No metrics source given.' : 'Give only one metrics source.', 'Pass exactly one of url, file or text.');
    if (args.interval_s > 0 && args.text !== undefined) throw new UserError('interval_s needs a source that can be read twice.', 'Use url or file with interval_s, or drop interval_s for text.');
    let nameFilter: RegExp | undefined;
    if (args.match !== undefined) {
      try {
        nameFilter = new RegExp(args.match);
      } catch (error) {
        throw new UserError(`match: invalid regex: ${(error as Error).message}`, 'Use a JavaScript regular expression, e.g. "^vllm:".');
      }
    }
    const url = args.url !== undefined ? checkMetricsUrl(args.url, runtime.config.metricsHosts) : null;
    const read = async (): Promise<string> => {
      if (url) return fetchMetrics(url, { timeoutMs: args.timeout_s * 1000, maxBytes: args.max_bytes, signal });
      if (args.file !== undefined) return readMetricsFile(args.file, args.max_bytes);
      return args.text!;
    };

    let text = await read();
    const at = performance.now();
    let earlier: ParseResult | null = null;
    let seconds: number | undefined;
    if (args.interval_s > 0) {
      earlier = parsePrometheusText(text);
      await sleep(args.interval_s * 1000, signal);
      text = await read();
      // Rates use the measured interval, rounded as reported, so rate x interval_s = increase.
      seconds = Math.round(performance.now() - at) / 1000;
    }
    const later = parsePrometheusText(text);
    const views = buildViews(later, earlier, { nameFilter, labels: args.labels, quantiles: args.quantiles, maxSeries: args.max_series, seconds });
    return {
      source: {
        kind: url ? ('url' as const) : args.file !== undefined ? ('file' as const) : ('text' as const),
        location: url?.href ?? args.file ?? null,
        scrapes: earlier ? 2 : 1,
        interval_s: seconds ?? null,
        bytes: Buffer.byteLength(text),
      },
      families: later.families.size,
      ...views,
      parse_errors: later.errors,
      vllm: hasVllm(later) ? buildVllmView(later, earlier, seconds, args.quantiles) : null,
    };
  },
  summarize(r) {
    const lines = [`${r.source.location ?? 'text'}: ${r.families} families, ${r.series_total} series${r.series_omitted ? ` (${r.series_omitted} not returned)` : ''}${r.source.scrapes === 2 ? `, window ${r.source.interval_s}s` : ', values since process start'}.`];
    if (r.parse_errors.length) lines.push(`${r.parse_errors.length} line(s) could not be parsed, first: line ${r.parse_errors[0].line}: ${quoteInput(r.parse_errors[0].message)}`);
    for (const m of r.vllm ?? []) {
      const q = (key: string) => {
        const h = m.latency_s[key];
        if (!h || h.count === 0) return `${key} n/a`;
        return `${key} ${h.quantiles.map((x) => `p${Math.round(x.q * 100)} ${x.value ?? '?'}s`).join(' ')}`;
      };
      lines.push(`vLLM ${m.model_name || '(no model_name)'}: ${q('ttft')}; ${q('itl')}; ${q('e2e')}`);
      lines.push(`  running ${m.requests_running ?? '?'}, waiting ${m.requests_waiting ?? '?'}, KV cache ${m.kv_cache_usage === null ? '?' : `${Math.round(m.kv_cache_usage * 100)}%`}, prefix-cache hit rate ${m.prefix_cache_hit_rate ?? '?'}`);
      for (const f of m.flags) lines.push(`  ! ${f}`);
    }
    return lines.join('\n');
  },
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', abort);
      resolve();
    }
    function abort(): void {
      clearTimeout(timer);
      reject(new UserError('scrape_metrics was cancelled.'));
    }
    signal.addEventListener('abort', abort, { once: true });
  });
}
