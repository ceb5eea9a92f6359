/**
 * Slow: every example case is verified and benchmarked in real PyTorch processes on the CPU.
 *
 * The example cases end to end on the CPU, through MCP: every pure-PyTorch candidate verifies and
 * is benchmarked, runs land in history, bundles in archives/, and profiles are readable as MCP
 * resources. Issue 5: "on a CPU-only CI machine the harness verifies and benchmarks the
 * pure-PyTorch candidates of every example case".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { BUILTIN_CASES, PYTHON, runJob, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call, client } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });

const EXAMPLES = [
  ['softmax', 'torch_softmax.py'],
  ['rmsnorm', 'torch_rmsnorm.py'],
  ['linear_bias_gelu', 'torch_addmm_gelu.py'],
] as const;

describe.skipIf(skip)('example cases: pure-PyTorch candidates verify and benchmark on the CPU', () => {
  it.each(EXAMPLES)('%s / %s is correct and timed, with CPU-labelled timings', async (name, file) => {
    const r = await verify(call, {
      case: name,
      candidate_path: join(BUILTIN_CASES, name, 'candidates', file),
      launch_params: { variant: 'pytorch' },
      bench_rounds: 5,
      rep_ms: 50,
    });
    expect(['correct_faster', 'correct_slower'], r.verdict_reasons.join('\n')).toContain(r.verdict);
    expect(r.checks.filter((c: { passed: boolean | null }) => c.passed !== true)).toEqual([]);
    expect(r.device).toBe('cpu');
    expect(r.notes.join(' ')).toMatch(/prefers CUDA.*CPU timings/);
    expect(r.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(r.timing).toMatchObject({ device: 'cpu', method: 'perf_counter loop', rounds: 5, label: expect.stringMatching(/^CPU timings/) });
    expect(r.timing.baseline.median).toBeGreaterThan(0);
    expect(r.outputs[0].max_abs_error).toBeLessThan(1e-3);
    expect(r.compile).toBeNull();

    for (const f of ['candidate.py', 'case/manifest.yaml', 'case/model.py', 'metrics.json', 'result.json', 'versions.json', 'harness/check.stdout.json', 'harness/check.stderr.txt', 'harness/judge.stdout.json', 'harness/bench.stdout.json']) {
      expect(existsSync(join(r.archive, f)), f).toBe(true);
    }
    const metrics = JSON.parse(readFileSync(join(r.archive, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ verdict: r.verdict, seeds: r.seeds, timing_label: r.timing.label, run_id: r.run_id });
    expect(metrics.variants.baseline.latency_ms_rounds).toHaveLength(5);
    expect(JSON.parse(readFileSync(join(r.archive, 'versions.json'), 'utf8')).torch).toMatch(/^\d/);

    const history = (await call('get_history', { domain: 'triton', workload: `triton.${name}` })).structuredContent as { runs: Record<string, any>[] };
    const run = history.runs.find((x) => x.id === r.run_id)!;
    expect(run).toMatchObject({ status: 'ok', primary_metric: 'candidate_ms', direction: 'lower', job_id: expect.stringMatching(/^job-/) });
    expect(run.config).toMatchObject({ case: name, candidate_sha256: r.candidate_sha256, device: 'cpu', launch_params: { variant: 'pytorch' } });
    expect(run.metrics.speedup).toBeCloseTo(r.timing.speedup, 3);
  });

  it('randomizes constant default weights so a kernel ignoring them fails (rmsnorm weight = ones)', async () => {
    const r = await verify(call, { case: 'rmsnorm', candidate: IGNORES_WEIGHT, bench: false });
    expect(r.reference.randomized_parameters).toEqual(['weight']);
    expect(r.reference.cached).toBe(true); // made by the test above
    expect(r.verdict).toBe('incorrect');
  });

  it('profiles the candidate on request and serves the trace and table as MCP resources', async () => {
    const view = await runJob(call, 'triton_verify', { case: 'softmax', candidate_path: join(BUILTIN_CASES, 'softmax/candidates/torch_softmax.py'), profile: true, bench: false });
    const r = view.result;
    expect(r.verdict).toBe('correct');
    expect(r.profile).toMatchObject({ variant: 'candidate', device: 'cpu', sort_by: 'self_cpu_time_total', trace_uri: `tuneloop://triton/jobs/${view.job_id}/trace` });
    expect(r.profile.top_operators.map((o: { name: string }) => o.name)).toContain('aten::exp');
    const trace = await client.readResource({ uri: r.profile.trace_uri });
    const doc = JSON.parse((trace.contents[0] as { text: string }).text);
    const events = Array.isArray(doc) ? doc : doc.traceEvents; // both Chrome trace formats (torch 1.13 on CPU writes the array)
    expect(events.some((e: { name: string }) => e.name === 'aten::exp')).toBe(true);
    const table = await client.readResource({ uri: `tuneloop://triton/jobs/${view.job_id}/table` });
    expect((table.contents[0] as { text: string }).text).toMatch(/Self CPU/);
    expect(existsSync(join(r.archive, 'profile', 'trace.json'))).toBe(true);
    const listed = await client.listResources();
    expect(listed.resources.map((x) => x.uri)).toContain(r.profile.trace_uri);
  });

  it('triton_profile profiles the baseline: top operators and a trace resource', async () => {
    const view = await runJob(call, 'triton_profile', { case: 'softmax', steps: 3, row_limit: 5 });
    expect(view.status, view.error).toBe('succeeded');
    expect(view.result.profile).toMatchObject({ variant: 'baseline', device: 'cpu', steps: 3 });
    expect(view.result.profile.top_operators.length).toBeLessThanOrEqual(5);
    expect(view.result.profile.top_operators[0].name).toMatch(/softmax/);
    expect(view.result.table_preview).toMatch(/aten::_softmax/);
    const trace = await client.readResource({ uri: view.result.profile.trace_uri });
    expect((trace.contents[0] as { text: string }).text).toContain('aten::_softmax');
  });

  it('refuses a trace resource for a job without a profile', async () => {
    const jobs = await call('triton_profile', { case: 'no_such_case' });
    expect(jobs.isError).toBe(true);
    expect(textOf(jobs)).toMatch(/No case named 'no_such_case'/);
    await expect(client.readResource({ uri: 'tuneloop://triton/jobs/job-abc-123456/trace' })).rejects.toThrow(/No job with id/);
  });
});

const IGNORES_WEIGHT = `
import torch
from torch import nn

class ModelNew(nn.Module):
    def __init__(self, hidden=1024, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)  # forgets self.weight
`;
