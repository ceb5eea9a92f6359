/**
 * The vLLM view's model list and consistency flags (issue 12, section 5): info gauges without a
 * model_name (vllm:cache_config_info, as vLLM V1 exports it) make no phantom model "", and a TTFT
 * above the end-to-end latency, impossible per request, is flagged as an inconsistent scrape.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';

const VLLM = readFileSync(resolve(import.meta.dirname, '../fixtures/incidents/metrics/vllm-2.prom'), 'utf8');
// The cache-config info gauge as vLLM V1 exports it: server-wide labels, no model_name
// (quoted from a public benchmark report of vLLM with Qwen3-32B; see the fixture's SOURCES.md).
const CACHE_INFO = [
  '# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig',
  '# TYPE vllm:cache_config_info gauge',
  'vllm:cache_config_info{block_size="16",cache_dtype="auto",calculate_kv_scales="False",cpu_offload_gb="0",enable_prefix_caching="True",gpu_memory_utilization="0.82",is_attention_free="False",num_cpu_blocks="1024",num_gpu_blocks="573",num_gpu_blocks_override="None",sliding_window="None",swap_space_bytes="4294967296"} 1.0',
].join('\n');

type View = { vllm: { model_name: string; flags: string[]; latency_s: Record<string, { mean: number | null } | null> }[] };

describe('vLLM view', () => {
  it('lists only models that series name: an info gauge without model_name is no model ""', async () => {
    const { call } = await connectInMemory();
    const r = (await call('scrape_metrics', { text: `${VLLM}\n${CACHE_INFO}\n` })).structuredContent as View;
    expect(r.vllm.map((m) => m.model_name)).toEqual(['meta-llama/Llama-3.1-8B-Instruct']);
    // A scrape where no series names a model is still one (unnamed) model.
    const bare = (await call('scrape_metrics', { text: 'vllm:num_requests_running 3\nvllm:num_requests_waiting 1\n' })).structuredContent as View;
    expect(bare.vllm.map((m) => m.model_name)).toEqual(['']);
  });

  it('flags a mean TTFT above the mean end-to-end latency as an inconsistent scrape', async () => {
    const { call } = await connectInMemory();
    const histogram = (name: string, sum: number) =>
      [`# TYPE ${name} histogram`, `${name}_bucket{le="1.0",model_name="m"} 5`, `${name}_bucket{le="10.0",model_name="m"} 10`, `${name}_bucket{le="+Inf",model_name="m"} 10`, `${name}_count{model_name="m"} 10`, `${name}_sum{model_name="m"} ${sum}`].join('\n');
    const bad = (await call('scrape_metrics', { text: `${histogram('vllm:time_to_first_token_seconds', 40)}\n${histogram('vllm:e2e_request_latency_seconds', 20)}\n` })).structuredContent as View;
    expect(bad.vllm[0].flags.join('\n')).toMatch(/inconsistent scrape: mean time to first token 4s exceeds mean end-to-end latency 2s/);
    const good = (await call('scrape_metrics', { text: `${histogram('vllm:time_to_first_token_seconds', 4)}\n${histogram('vllm:e2e_request_latency_seconds', 20)}\n` })).structuredContent as View;
    expect(good.vllm[0].flags.join('\n')).not.toMatch(/inconsistent/);
  });
});
