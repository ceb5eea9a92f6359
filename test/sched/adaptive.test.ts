/**
 * Slow: every trial runs a real workload several times under GNU time, a fake scheduler attached for
 * the B runs.
 * benchmark_workload's adaptive mode (issue 13, item 1): the suggester proposes each next flag set
 * from the workload's history, trial 1 is an interleaved A/B, later trials run B only, the search
 * stops on its budget or when the best stops moving beyond the noise, and the verdict comes from an
 * interleaved A/B. A fake sched_ext host (test/fixtures/sched) plays the kernel.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { BenchmarkResult } from '../../src/sched/bench/benchmark.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { fakeHost } from './helpers.js';

type JobView = { job_id: string; status: string; error: string | null; result?: BenchmarkResult };

async function finish(call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>, first: CallToolResult): Promise<BenchmarkResult> {
  expect(first.isError, textOf(first)).toBeFalsy();
  let v = first.structuredContent as JobView;
  while (v.status === 'running') v = (await call('job_status', { job_id: v.job_id, wait_s: 50 })).structuredContent as JobView;
  expect(v.status, v.error ?? '').toBe('succeeded');
  return v.result!;
}

describe('adaptive benchmark_workload (fake host)', async () => {
  const host = fakeHost();
  const { call } = await connectInMemory(host.env);
  // Slower while any scheduler is attached, whatever its flags: every B config is equally worse.
  await call('workload', { action: 'create', name: 'wake', command: ['sh', '-c', 'if grep -q enabled "$TUNELOOP_SYSFS_ROOT/kernel/sched_ext/state"; then sleep 0.4; else sleep 0.05; fi'] });

  it('proposes configs one by one, stops when the best stops moving, and gives an A/B verdict', async () => {
    const r = await finish(call, await call('benchmark_workload', { workload: 'wake', scheduler: 'scx_lavd', adaptive_budget: 10, adaptive_variables: ['--per-cpu-dsq', '--preempt-shift'], repeats: 4, warmup: 0, wait_s: 50 }));
    const a = r.adaptive!;
    expect(a.space).toBe('sched:scx_lavd');
    expect(a.trials[0]).toMatchObject({ trial: 1, kind: 'default', config: { scheduler: 'scx_lavd', flags: [] }, ok_runs: 4 });
    // Trial 1 interleaves A and B; later trials run B only.
    expect(r.order.slice(0, 8)).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    const trialOf = (t: number) => r.runs.filter((x) => x.trial === t);
    expect(trialOf(2).map((x) => x.arm)).toEqual(['B', 'B', 'B', 'B']);
    // Distinct proposals, each a valid lavd flag set, measured under that scheduler.
    const measured = a.trials.filter((t) => t.kind !== 'rejected');
    expect(new Set(measured.map((t) => JSON.stringify(t.config.flags))).size).toBe(measured.length);
    for (const t of measured.slice(1)) expect(['space-filling', 'model', 'repeat', 'rule']).toContain(t.kind);
    // All configs are equally slow: the best stops moving beyond the noise and the search stops early.
    expect(a.stopped).toBe('converged');
    expect(measured.length).toBeLessThan(10);
    expect(r.verdict).toBe('worse');
    expect(r.arms.map((x) => x.config.scheduler)).toEqual(['default', 'scx_lavd']);
    if (a.confirmed_separately) expect(trialOf(a.budget + 1).map((x) => x.arm)).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    expect(host.read('state')).toBe('disabled');

    // Every measured run is in history with the config the suggester proposed: suggest_config sees them.
    const s = (await call('suggest_config', { space: 'sched:scx_lavd', variables: ['--per-cpu-dsq', '--preempt-shift'], workload: 'wake' })).structuredContent as { observations: { runs: number; configs: number } };
    expect(s.observations.configs).toBe(measured.length);
  }, 300_000);

  it.each([
    [{ command: ['true'], scheduler: 'scx_lavd', adaptive_budget: 3 }, 'learns from the workload\'s history'],
    [{ workload: 'wake', adaptive_budget: 3 }, 'tunes the flags of a catalog scheduler'],
    [{ workload: 'wake', scheduler: 'scx_lavd', flags: ['--performance'], adaptive_budget: 3 }, 'the suggester chooses the flags'],
    [{ workload: 'wake', scheduler: 'scx_lavd', adaptive_variables: ['--nope'], adaptive_budget: 3 }, 'has no tunable flag --nope'],
  ])('refuses %j before starting', async (args, message) => {
    const r = await call('benchmark_workload', { wait_s: 0, ...args });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(message);
  });
});
