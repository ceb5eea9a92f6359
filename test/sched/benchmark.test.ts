/**
 * Slow: real workloads run repeatedly under GNU time, A/B pairs with a scheduler attached between runs.
 *
 * benchmark_workload on real workloads (real processes, GNU time, /proc sampler, SQLite history,
 * the stats module), plus an A/B trial whose B arm attaches a fake sched_ext scheduler.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { BenchmarkResult } from '../../src/sched/bench/benchmark.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { attachedPerSchedStatus, fakeHost } from './helpers.js';

type JobView = { status: string; error: string | null; result?: BenchmarkResult };

/** An arm with no successful run is a failed action (issue 9 section 4): an error that still carries the benchmark. */
async function bench(call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>, args: Record<string, unknown>): Promise<BenchmarkResult> {
  const r = await call('benchmark_workload', { wait_s: 50, ...args });
  const v = r.structuredContent as JobView;
  expect(v.result, textOf(r)).toBeDefined();
  const empty = v.result!.arms.find((a) => a.ok_runs === 0);
  expect(Boolean(r.isError), textOf(r)).toBe(Boolean(empty));
  expect(v.status, v.error ?? '').toBe(empty ? 'failed' : 'succeeded');
  if (empty) expect(textOf(r).split('\n')[0]).toMatch(new RegExp(`^arm ${empty.label} \\(${empty.config.scheduler}\\): no run succeeded; run 1 `));
  return v.result!;
}

// ~0.1 s of CPU in perl (essential on Debian): a real workload whose only noise is the machine's.
const CPU_WORK = ['perl', '-e', 'my $s = 0; $s += $_ for 1 .. 7000000; print "sum $s\\n"'];

describe('on this host', async () => {
  const { call } = await connectInMemory();

  it('default scheduler in both arms: no significant difference', async () => {
    // Both arms run the identical procedure, so any "significant" verdict is a false positive. At
    // alpha = 0.05 a correct test still reports one 5% of the time; at alpha = 0.001 (with the
    // stats module also requiring the bootstrap CI to exclude 0) that is below 1 in 1000, while a
    // real bias between the arms (e.g. B timed with its scheduler attach) would still be caught:
    // 10 runs per arm can reach p = 1e-5. Counterbalanced order keeps drift out of either arm.
    const r = await bench(call, { command: CPU_WORK, ab: true, repeats: 10, warmup: 1, alpha: 0.001 });
    expect(r.order).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A', 'A', 'B', 'B', 'A', 'A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    expect(r.arms.map((a) => [a.config.scheduler, a.ok_runs])).toEqual([
      ['default', 10],
      ['default', 10],
    ]);
    expect(r.comparison!.test).not.toBe('none');
    expect(r.verdict, r.comparison!.explanation).toBe('no significant difference');

    const run = r.runs[0];
    expect(run.status).toBe('ok');
    expect(run.metrics.wall_s).toBeGreaterThan(0);
    expect(run.metrics.user_s).toBeGreaterThan(0);
    expect(run.metrics.max_rss_mib).toBeGreaterThan(1);
    expect(run.metrics['sys.cpu_util_pct']).toBeGreaterThanOrEqual(0);
    expect(r.missing).toEqual([]);

    // Every measured run is in history (warmups are not), under the sched domain.
    const history = (await call('get_history', { domain: 'sched', limit: 50 })).structuredContent as { runs: { id: number; config: unknown; context: { arm: string } }[] };
    const ids = new Set(r.runs.map((x) => x.run_id));
    expect(history.runs.filter((h) => ids.has(h.id))).toHaveLength(20);
    expect(history.runs.find((h) => h.id === run.run_id)!.config).toEqual({ scheduler: 'default' });
  });

  it('runs a saved workload and reads a metric from its output', async () => {
    await call('workload', { action: 'create', name: 'echo-throughput', command: ['sh', '-c', 'echo "warming up"; echo "throughput: 42.5 ops/s"; echo \'{"lat": {"p99": 3.25}}\''] });
    const r = await bench(call, { workload: 'echo-throughput', repeats: 3, warmup: 0, metric_regex: 'throughput: ([0-9.]+)', metric_name: 'throughput', direction: 'higher' });
    expect(r.workload).toMatchObject({ name: 'echo-throughput' });
    expect(r.comparison).toBeNull();
    expect(r.domain).toBe('workload');
    expect(r.primary_metric).toBe('throughput');
    expect(r.arms[0].primary).toMatchObject({ n: 3, median: 42.5 });

    const json = await bench(call, { workload: 'echo-throughput', repeats: 2, warmup: 0, metric_json_key: 'lat.p99', metric_name: 'p99_ms', direction: 'lower' });
    expect(json.arms[0].primary.median).toBe(3.25);
  });

  it('records failing runs as failed, with the reason, and leaves them out of the statistics', async () => {
    const r = await bench(call, { command: ['sh', '-c', 'echo boom >&2; exit 2'], repeats: 2, warmup: 0 });
    expect(r.runs.map((x) => [x.status, x.exit_code, x.note])).toEqual([
      ['failed', 2, 'exit code 2: boom'],
      ['failed', 2, 'exit code 2: boom'],
    ]);
    expect(r.arms[0].ok_runs).toBe(0);
    const missing = await bench(call, { command: ['sh', '-c', 'echo nothing'], repeats: 1, warmup: 0, metric_regex: 'value=(\\d+)', direction: 'higher' });
    expect(missing.runs[0]).toMatchObject({ status: 'invalid', note: 'metric not found in the output (regex value=(\\d+))' });
  });

  it.each([
    [{}, 'Pass exactly one of workload (a saved workload) or command'],
    [{ command: ['true'], workload: 'x' }, 'Pass exactly one of workload'],
    [{ command: ['true'], metric_regex: '[0-9]+' }, 'metric_regex needs a capture group'],
    [{ command: ['true'], metric_regex: '(' }, 'metric_regex is not a valid regular expression'],
    [{ command: ['true'], metric_regex: '(\\d+)' }, 'direction is needed for the parsed metric "metric"'],
    [{ command: ['true'], primary_metric: 'p50' }, 'primary_metric "p50" is neither measured'],
    [{ command: ['true'], scheduler: 'scx_lavd' }, 'This kernel has no sched_ext'],
    [{ command: ['true'], flags: ['--slice-us', '5'] }, 'flags apply to a scheduler'],
    [{ workload: 'no-such-workload' }, 'No workload "no-such-workload"'],
  ])('refuses %j before starting', async (args, message) => {
    const r = await call('benchmark_workload', { wait_s: 0, ...args });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(message);
  });
});

describe('A/B with a sched_ext scheduler (fake host)', async () => {
  const host = fakeHost();
  const { call } = await connectInMemory(host.env);

  it('attaches B for each of its runs, detaches after, and finds a real difference', async () => {
    // The workload is slower while a scheduler is attached: a difference the trial must find.
    // 0.75 s of difference: even on a machine loaded enough to delay a run, the arms do not overlap.
    const slowWhenAttached = ['sh', '-c', 'if grep -q enabled "$TUNELOOP_SYSFS_ROOT/kernel/sched_ext/state"; then sleep 0.8; else sleep 0.05; fi'];
    const r = await bench(call, { command: slowWhenAttached, scheduler: 'scx_lavd', flags: ['--performance'], repeats: 5, warmup: 1 });
    expect(r.order).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A', 'A', 'B']);
    expect(r.arms[1].config).toEqual({ scheduler: 'scx_lavd', flags: ['--performance'] });
    expect(r.runs.filter((x) => x.arm === 'B').every((x) => x.execution_id && x.status === 'ok')).toBe(true);
    expect(r.runs.filter((x) => x.arm === 'A').every((x) => x.execution_id === null)).toBe(true);
    expect(r.verdict).toBe('worse');
    expect(r.comparison!.relative_change).toBeGreaterThan(1);
    expect(host.read('state')).toBe('disabled');
    expect(Number(host.read('enable_seq'))).toBe(6); // one attach per B run, warmup included

    const status = (await call('sched_status', { limit: 10 })).structuredContent as { executions: { status: string; stopped_by: string }[] };
    expect(status.executions.slice(0, 6).every((e) => e.status === 'stopped' && e.stopped_by === 'benchmark')).toBe(true);
  });

  it('validates the B arm before starting', async () => {
    const unknown = await call('benchmark_workload', { command: ['true'], scheduler: 'scx_nope' });
    expect(textOf(unknown)).toContain('Unknown scheduler "scx_nope"');
    const badFlag = await call('benchmark_workload', { command: ['true'], scheduler: 'scx_lavd', flags: ['--preempt-shift', '99'] });
    expect(textOf(badFlag)).toContain('--preempt-shift=99 is out of range: 0 to 10.');
    expect(host.read('state')).toBe('disabled');
  });

  it('does not count a B run during which the scheduler was ejected', async () => {
    const [r, ejected] = await Promise.all([
      bench(call, { command: ['sleep', '2'], scheduler: 'scx_lavd', repeats: 1, warmup: 0 }),
      host.ejectWhen(attachedPerSchedStatus(call), 'runnable task stall (perl[777] failed to run for 31.004s)'),
    ]);
    expect(ejected).toBe(true);
    const b = r.runs.find((x) => x.arm === 'B')!;
    expect(b.status).toBe('invalid');
    expect(b.note).toContain('did not stay attached');
    expect(r.arms[1].ok_runs).toBe(0);
    expect(r.verdict).toBe('no significant difference');
  });
});
