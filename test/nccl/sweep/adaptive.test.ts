/**
 * Slow: every trial runs the fake nccl-tests as real processes through the job runner (dozens per
 * sweep), and the same-seed case runs one sweep twice.
 * nccl_sweep's adaptive mode through MCP against the fake nccl-tests family, whose numbers follow
 * a model of NCCL (test/fixtures/nccl/model.mjs). The model's optimum over a grid is known, so the
 * tests assert that the adaptive sweep reaches a config at least as good as the grid's winner in
 * fewer trials than the grid, the same way for the same seed; that it stops on its trial and time
 * budgets, and when the best is settled by compare(); that a config NCCL rejects is tried once;
 * that it exports what it measured; and that a later sweep of the same problem starts from what
 * history knows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../../helpers/runtime.js';
import { isAlive, waitFor } from '../../helpers/proc.js';
import { tempDir } from '../../helpers/tmp.js';
// @ts-expect-error: the fixture is plain JavaScript
import { simulate } from '../../fixtures/nccl/model.mjs';
import { FAKE_BIN } from '../fake.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as Json;

async function server() {
  const { call } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: FAKE_BIN });
  const sweep = async (args: Record<string, unknown>) => {
    const first = await call('nccl_sweep', { wait_s: 50, ...test, adaptive: true, ...args });
    if (first.isError) throw new Error(textOf(first));
    let view = sc(first);
    while (view.status === 'running') view = sc(await call('job_status', { job_id: view.job_id, wait_s: 50 }));
    expect(view.status, view.error ?? '').toBe('succeeded');
    return { result: view.result, text: textOf(first) };
  };
  return { call, sweep };
}

const test = { min_bytes: '1K', max_bytes: '64M', step_factor: 4, gpus_per_process: 2, iters: 1, warmup_iters: 0 };
const sizes = Array.from({ length: 9 }, (_, i) => 1024 * 4 ** i);
/** The sweep's objective under the model: mean busbw of the large band (>= 16 MiB) on 2 ranks. */
function truth(env: Record<string, string>): number {
  const rows = (simulate('all_reduce', env, sizes, 2) as { size: number; busbw: number }[]).filter((r) => r.size >= 16 << 20);
  return rows.reduce((s, r) => s + r.busbw, 0) / rows.length;
}
const settingsOf = (label: string): Record<string, string> => (label === 'default' ? {} : Object.fromEntries(label.split(' ').map((kv) => kv.split('=') as [string, string])));

const GRID = { NCCL_PROTO: ['LL', 'LL128', 'Simple'], NCCL_MIN_CTAS: [1, 2, 4, 8, 16, 32, 64], NCCL_BUFFSIZE: [1 << 20, 1 << 22, 1 << 24, 1 << 26] };
const gridConfigs = Object.entries(GRID).reduce<Record<string, string>[]>((combos, [name, values]) => combos.flatMap((c) => values.map((v) => ({ ...c, [name]: String(v) }))), [{}]);
const gridSize = gridConfigs.length + 1; // and the default
const gridBest = Math.max(truth({}), ...gridConfigs.map(truth));
const gridSpace = { adaptive_variables: Object.keys(GRID), adaptive_params: Object.entries(GRID).map(([name, choices]) => ({ name, choices })) };

describe('adaptive nccl_sweep against the grid', async () => {
  const { call, sweep } = await server();
  const { result: r } = await sweep({ ...gridSpace, adaptive_seed: 0, max_runs: gridSize, log_nccl_choices: true });
  const a = r.adaptive;

  it("reaches a config at least as good as the grid's winner in fewer trials than the grid", () => {
    expect(gridConfigs).toHaveLength(84);
    expect(truth(settingsOf(a.best.label))).toBeGreaterThanOrEqual(gridBest * (1 - 1e-9));
    expect(r.winner.label).toBe(a.best.label);
    expect(a.trajectory.length).toBeLessThan(gridSize);
    expect(r.trials.run).toBe(a.trajectory.length);
    expect(a.best.first_trial).toBeLessThan(a.trajectory.length);
  });

  it('starts from the untuned default, takes one run per new config, then confirms the best with repeats', () => {
    expect(a.trajectory[0]).toMatchObject({ trial: 1, kind: 'baseline', label: 'default', status: 'ok' });
    expect(r.default.env).toEqual({ NCCL_DEBUG: 'INFO', NCCL_DEBUG_SUBSYS: 'INIT,TUNING' });
    const explored = a.trajectory.filter((t: Json) => t.kind !== 'confirm' && t.kind !== 'repeat' && t.kind !== 'baseline');
    expect(new Set(explored.map((t: Json) => t.label)).size).toBe(explored.length);
    for (const t of a.trajectory) expect(['baseline', 'default', 'space-filling', 'model', 'repeat', 'confirm']).toContain(t.kind);
    expect(a.stopped).toBe('settled');
    expect(a.evidence.settled).toBe(true);
    expect(a.evidence.vs_default.verdict).toBe('better');
    expect(['better', 'no significant difference']).toContain(a.evidence.vs_runner_up.verdict);
    expect(a.best.n).toBeGreaterThanOrEqual(4);
    const runsOf = (label: string) => r.ranking.find((s: Json) => s.label === label).n;
    expect(runsOf('default')).toBeGreaterThanOrEqual(4);
    expect(runsOf(a.evidence.runner_up)).toBeGreaterThanOrEqual(4);
    // The winner the sweep reports is the settled best, confirmed by compare() against the default.
    expect(r.winner.verdict).toBe('better');
    expect(r.winner.margin_vs_default).toBeCloseTo(truth(settingsOf(a.best.label)) / truth({}) - 1, 2);
  });

  it('records every trial in history, and exports nccl.conf and the tuner CSV from its measurements', async () => {
    const history = sc(await call('get_history', { domain: 'nccl', limit: 200, include_context: true })).runs;
    const mine = history.filter((run: Json) => r.run_ids.includes(run.id));
    expect(mine).toHaveLength(r.trials.run);
    expect(mine.every((run: Json) => typeof run.context.adaptive_kind === 'string')).toBe(true);
    const conf = r.exports.nccl_conf.body;
    for (const [k, v] of Object.entries(settingsOf(r.winner.label))) expect(conf).toContain(`\n${k}=${v}\n`);
    expect(readFileSync(r.exports.nccl_conf.path, 'utf8')).toBe(conf);
    expect(r.exports.tuner_csv.body).toMatch(/^allreduce,0,\d+,(ring|tree),(ll|ll128|simple),\d+,1,2,-1,-1$/m);
  });

  it('takes the same trials for the same seed', async () => {
    const again = await server();
    const { result } = await again.sweep({ ...gridSpace, adaptive_seed: 0, max_runs: gridSize, log_nccl_choices: true });
    expect(result.adaptive.trajectory.map((t: Json) => [t.kind, t.label, t.status])).toEqual(a.trajectory.map((t: Json) => [t.kind, t.label, t.status]));
  });

  it('a later sweep of the same problem measures the best history knows right after the default', async () => {
    const { result } = await sweep({ ...gridSpace, adaptive_seed: 1, max_runs: 3 });
    expect(result.adaptive.trajectory.slice(0, 2).map((t: Json) => [t.kind, t.label])).toEqual([
      ['baseline', 'default'],
      ['history-best', a.best.label],
    ]);
  });
}, 600_000);

describe('adaptive nccl_sweep stops', async () => {
  const { call, sweep } = await server();

  it('on the trial budget, with the evidence so far', async () => {
    const { result: r, text } = await sweep({ ...gridSpace, max_runs: 5 });
    expect(r.adaptive.stopped).toBe('budget');
    expect(r.trials).toMatchObject({ planned: 5, run: 5 });
    expect(r.adaptive.trajectory).toHaveLength(5);
    expect(r.adaptive.evidence.settled).toBe(false);
    expect(text).toMatch(/stopped budget/);
  });

  it('on the time budget', async () => {
    // About 2.7 s per run (9 rows x 300 ms) against 6 s: no trial starts after the deadline.
    const { result: r } = await sweep({ ...gridSpace, max_runs: 50, max_minutes: 0.1, env: { FAKE_NCCL_TESTS_ROW_DELAY_MS: '300' } });
    expect(r.adaptive.stopped).toBe('time');
    expect(r.stopped_early).toMatch(/time budget/);
    expect(r.trials.run).toBeGreaterThanOrEqual(1);
    expect(r.trials.run).toBeLessThanOrEqual(4);
  });

  it('when settled under noise: a real gain confirmed by compare()', async () => {
    const { result: r } = await sweep({ adaptive_variables: ['NCCL_PROTO'], max_runs: 40, env: { FAKE_NCCL_TESTS_NOISE: '0.02' } });
    const a = r.adaptive;
    expect(a.stopped).toBe('settled');
    expect(a.best.label).toBe('NCCL_PROTO=Simple'); // 16% above the default's LL128 under the model
    expect(a.evidence.vs_default.verdict).toBe('better');
    expect(r.winner.label).toBe('NCCL_PROTO=Simple');
    expect(r.winner.verdict).toBe('better');
    expect(r.exports.nccl_conf.body).toMatch(/\nNCCL_PROTO=Simple\n$/);
  });

  it('when settled on the default: nothing beats it, nothing is exported', async () => {
    // 512 threads is the default and the model's best; 256 is as good: practically equal.
    const { result: r } = await sweep({ adaptive_variables: ['NCCL_NTHREADS'], max_runs: 40 });
    expect(r.adaptive.stopped).toBe('settled');
    expect(r.adaptive.best.label).toBe('default');
    expect(r.adaptive.evidence.vs_default).toBeNull();
    expect(r.adaptive.evidence.reason).toMatch(/baseline itself/);
    expect(r.winner).toBeNull();
    expect(r.exports.nccl_conf).toBeNull();
  });

  it('offers only the algorithms the release has for the collective, and tries a config NCCL rejects once', async () => {
    const { result: r } = await sweep({ adaptive_variables: ['NCCL_ALGO'], max_runs: 40, nccl_version: '2.27.3' });
    const labels = r.adaptive.trajectory.map((t: Json) => t.label);
    expect(labels.some((l: string) => l.includes('PAT'))).toBe(false); // allgather/reducescatter only
    const failed = r.adaptive.trajectory.filter((t: Json) => t.status === 'failed');
    expect(failed.length).toBeGreaterThan(0); // the fake has no CollNet or NVLS hardware
    expect(new Set(failed.map((t: Json) => t.label)).size).toBe(failed.length);
    expect(r.adaptive.stopped).toBe('settled');
    expect(r.adaptive.best.label).toMatch(/^(default|NCCL_ALGO=Ring)$/); // Ring is what NCCL picks here anyway
    expect(r.winner).toBeNull();
  });

  it('on job_cancel, leaving no process behind and nothing running', async () => {
    const marker = tempDir('tuneloop-adaptive-cancel-');
    const started = sc(await call('nccl_sweep', { ...test, adaptive: true, ...gridSpace, wait_s: 1, env: { FAKE_NCCL_TESTS_ROW_DELAY_MS: '1000', FAKE_NCCL_TESTS_RANK_DIR: marker } }));
    expect(started.status).toBe('running');
    expect(await waitFor(() => existsSync(join(marker, 'rank-0.json')), 10_000)).toBe(true);
    const { pid } = JSON.parse(readFileSync(join(marker, 'rank-0.json'), 'utf8'));
    const canceled = sc(await call('job_cancel', { job_id: started.job_id }));
    expect(canceled.status).toBe('canceled');
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    const runs = sc(await call('get_history', { domain: 'nccl', limit: 200, include_context: true })).runs.filter((x: Json) => x.context.sweep_job === started.job_id);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = sc(await call('get_history', { domain: 'nccl', limit: 200, include_context: true })).runs.filter((x: Json) => x.context.sweep_job === started.job_id);
    expect(later).toHaveLength(runs.length);
  });
}, 600_000);

describe('adaptive nccl_sweep refuses before starting', async () => {
  const { call } = await server();
  it.each([
    [{ grid: { NCCL_PROTO: ['LL'] } }, 'the suggester chooses the configs'],
    [{ repeats: 2 }, 'compare() needs 4 runs per side'],
    [{ adaptive_variables: ['NCCL_BOGUS'] }, 'not in the NCCL parameter table'],
    [{ adaptive_variables: ['NCCL_MIN_CTAS'], nccl_version: '2.16.5' }, 'Vary NCCL_MIN_NCHANNELS instead'],
    [{ adaptive_variables: ['NCCL_PROTO'], adaptive_params: [{ name: 'NCCL_PROTO', choices: ['LL256'] }] }, 'does not accept "LL256"'],
    [{ adaptive_params: [{ name: 'NCCL_PROTO', type: 'categorical', choices: ['LL'] }, { name: 'NCCL_MIN_CTAS', min: 2, max: 8 }] }, 'mixes an explicit space'],
    [{ adaptive_params: [{ name: 'NCCL_BOGUS', type: 'int', min: 1, max: 4 }] }, 'not a variable NCCL'],
  ])('%j', async (args, message) => {
    const r = await call('nccl_sweep', { ...test, adaptive: true, wait_s: 0, ...args });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(message);
  });
});
