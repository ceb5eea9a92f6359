/**
 * Slow: a real HTTP server whose metrics change between scrapes; rates need time between them.
 *
 * scrape_metrics end to end: a real HTTP server on 127.0.0.1 serves vLLM metrics that change
 * between requests, and the tool's rates and windowed quantiles match the hand computations in
 * prometheus.test.ts. Refusals (https, hosts not allowed, redirects) and failures (refused,
 * timeout, 404, oversize) each say what to do.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMetricsUrl } from '../../src/observe/metrics/scrape.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';

const METRICS = resolve(import.meta.dirname, '../fixtures/incidents/metrics');
const SCRAPES = ['vllm-1.prom', 'vllm-2.prom'].map((f) => readFileSync(resolve(METRICS, f), 'utf8'));

let server: Server;
let base = '';
let metricsHits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/metrics') {
      // Each scrape sees the next state; later scrapes stay at the last one.
      const body = SCRAPES[Math.min(metricsHits++, SCRAPES.length - 1)];
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    } else if (req.url === '/redirect') res.writeHead(302, { Location: 'http://example.com/metrics' }).end();
    else if (req.url === '/huge') res.writeHead(200).end('x 1\n'.repeat(2048));
    else if (req.url === '/hang') setTimeout(() => res.end('x 1\n'), 5000).unref();
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

type Result = {
  source: { scrapes: number; interval_s: number | null; kind: string };
  series_total: number;
  series_omitted: number;
  metrics: { name: string; type: string; series: { labels: Record<string, string>; value?: number; increase?: number; rate_per_s?: number; histogram?: { window: string; quantiles: { q: number; value: number | null; lower: number | null; upper: number | null }[] } }[] }[];
  vllm: { model_name: string; window: string; latency_s: Record<string, { count: number; mean: number | null; reset: boolean; quantiles: { q: number; value: number | null }[] } | null>; [k: string]: unknown }[] | null;
};

describe('scrape_metrics over HTTP', () => {
  it('scrapes twice and reports rates, windowed quantiles and the vLLM view', async () => {
    metricsHits = 0;
    const { call } = await connectInMemory();
    const r = await call('scrape_metrics', { url: `${base}/metrics`, interval_s: 0.5 });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as Result;
    expect(metricsHits).toBe(2);
    expect(s.source).toMatchObject({ kind: 'url', scrapes: 2 });
    const dt = s.source.interval_s!;
    expect(dt).toBeGreaterThanOrEqual(0.5);

    const [model] = s.vllm!;
    expect(model).toMatchObject({ model_name: 'meta-llama/Llama-3.1-8B-Instruct', window: 'interval', requests_running: 64, requests_waiting: 9, kv_cache_usage: 0.97 });
    expect(model.latency_s.ttft).toMatchObject({ count: 200, mean: 0.24, reset: false });
    expect(model.latency_s.ttft!.quantiles.map((q) => q.value)).toEqual([0.1375, 0.375, 0.4875]);
    expect(model.latency_s.itl).toMatchObject({ reset: true, count: 50 });
    expect(model.latency_s.e2e!.quantiles.map((q) => q.value)).toEqual([2, 5, 7680]);
    // Queue window: 0.8:50 1.0:100 1.5:200 -> p50 1.0, p90 1.0 + 0.5 x 80/100 = 1.4
    expect(model.latency_s.queue!.quantiles.map((q) => q.value)).toEqual([1, 1.4, 1.49]);
    expect(model.latency_s.tpot).toBeNull();
    const preemptions = model.preemptions as { total: number; increase: number; rate_per_s: number };
    expect(preemptions.total).toBe(25);
    expect(preemptions.increase).toBe(15);
    expect(preemptions.rate_per_s).toBeCloseTo(15 / dt, 6);
    expect((model.tokens_per_s as { prompt: number }).prompt).toBeCloseTo(60000 / dt, 3);
    expect(model.prefix_cache_hit_rate).toBe(0.75); // (35000-20000) / (70000-50000)
    expect(model.finished_requests).toEqual({ length: 10, stop: 190 });
    expect((model.flags as string[]).join('\n')).toMatch(/KV cache 97% used[\s\S]*15 preemption\(s\) in the window[\s\S]*9 request\(s\) waiting with 64 running/);

    const counter = s.metrics.find((m) => m.name === 'vllm:num_preemptions_total')!;
    expect(counter).toMatchObject({ type: 'counter', series: [{ value: 25, increase: 15 }] });
    expect(s.metrics.find((m) => m.name === 'vllm:time_to_first_token_seconds')!.series[0].histogram).toMatchObject({ window: 'interval', quantiles: [{ q: 0.5, value: 0.1375, lower: 0.1, upper: 0.25 }, {}, {}] });
    expect(textOf(r)).toMatch(/window 0\.\d+s[\s\S]*vLLM meta-llama\/Llama-3\.1-8B-Instruct: ttft p50 0\.1375s p90 0\.375s p99 0\.4875s/);
  });

  it('with one scrape, reports values since process start', async () => {
    metricsHits = 1;
    const { call } = await connectInMemory();
    const s = (await call('scrape_metrics', { url: `${base}/metrics` })).structuredContent as Result;
    expect(s.source.scrapes).toBe(1);
    expect(s.vllm![0].window).toBe('since_start');
    expect(s.vllm![0].latency_s.ttft!.quantiles[0].value).toBe(0.14);
    expect((s.vllm![0].flags as string[]).join()).toMatch(/25 preemption\(s\) since start/);
  });

  it('filters by name and labels and bounds the series returned', async () => {
    metricsHits = 1;
    const { call } = await connectInMemory();
    const s = (await call('scrape_metrics', { url: `${base}/metrics`, match: '^vllm:request_success_total$', labels: { finished_reason: 'stop' } })).structuredContent as Result;
    expect(s.metrics).toEqual([{ name: 'vllm:request_success_total', type: 'counter', help: 'Count of successfully processed requests.', series: [{ labels: { engine: '0', finished_reason: 'stop', model_name: 'meta-llama/Llama-3.1-8B-Instruct' }, value: 1090 }] }]);
    const bounded = (await call('scrape_metrics', { file: resolve(METRICS, 'vllm-2.prom'), max_series: 3 })).structuredContent as Result;
    expect(bounded.metrics.reduce((n, m) => n + m.series.length, 0)).toBe(3);
    expect(bounded.series_omitted).toBe(bounded.series_total - 3);
  });

  it.each([
    [{ url: 'https://127.0.0.1:8000/metrics' }, /only http:\/\/ is supported/],
    [{ url: 'http://10.1.2.3:8000/metrics' }, /host "10\.1\.2\.3" is not allowed[\s\S]*TUNELOOP_METRICS_HOSTS=10\.1\.2\.3/],
    [{ url: 'not a url' }, /url: "not a url" is not a URL/],
    [{}, /No metrics source given[\s\S]*exactly one of url, file or text/],
    [{ text: 'x 1', file: '/tmp/x.prom' }, /Give only one metrics source/],
    [{ text: 'x 1', interval_s: 1 }, /interval_s needs a source that can be read twice/],
    [{ text: 'x 1', match: '(' }, /match: invalid regex/],
    [{ file: 'metrics.prom' }, /file: "metrics.prom" is not an absolute path/],
  ])('refuses %j, saying what to do', async (args, message) => {
    const { call } = await connectInMemory();
    const r = await call('scrape_metrics', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });

  it.each([
    ['/nothing-here', {}, /answered HTTP 404[\s\S]*Check the path/],
    ['/redirect', {}, /redirects to http:\/\/example\.com\/metrics; redirects are not followed/],
    ['/huge', { max_bytes: 1024 }, /more than max_bytes \(1024\)/],
    ['/hang', { timeout_s: 1 }, /did not answer within 1s/],
  ])('fails clearly on %s', async (path, extra, message) => {
    const { call } = await connectInMemory();
    const r = await call('scrape_metrics', { url: `${base}${path}`, ...extra });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });

  it('says when nothing listens on the port', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const { call } = await connectInMemory();
    const r = await call('scrape_metrics', { url: `http://127.0.0.1:${port}/metrics` });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/connection refused \(nothing listens on 127\.0\.0\.1:\d+\)[\s\S]*Check that the server is running/);
  });

  it('allows loopback names and the configured hosts only', () => {
    expect(checkMetricsUrl('http://localhost:8000/metrics', []).host).toBe('localhost:8000');
    expect(checkMetricsUrl('http://[::1]:8000/metrics', []).hostname).toBe('[::1]');
    expect(checkMetricsUrl('http://gpu-node-7:8000/metrics', ['gpu-node-7']).hostname).toBe('gpu-node-7');
    expect(() => checkMetricsUrl('http://localhost.example.com/metrics', [])).toThrow(/not allowed/);
  });

  it('reads text passed in', async () => {
    const { call } = await connectInMemory();
    const s = (await call('scrape_metrics', { text: '# TYPE up gauge\nup{job="node"} 1\n' })).structuredContent as Result & { vllm: null };
    expect(s.metrics).toEqual([{ name: 'up', type: 'gauge', help: null, series: [{ labels: { job: 'node' }, value: 1 }] }]);
    expect(s.vllm).toBeNull();
  });
});
