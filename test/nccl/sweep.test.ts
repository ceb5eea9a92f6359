/**
 * nccl_sweep on the fake nccl-tests: it must find the model's best config in every message-size
 * band, beat the untuned default, confirm the winner statistically with repeats, and export a tuner
 * CSV and an nccl.conf that say what was measured.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';
// @ts-expect-error: the fixture is plain JavaScript
import { simulate } from '../fixtures/nccl/model.mjs';
import { FAKE_BIN } from './fake.js';

const { call } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: FAKE_BIN });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as any;
const sweep = async (args: Record<string, unknown>) => {
  const r = await call('nccl_sweep', { wait_s: 50, ...args });
  if (r.isError) throw new Error(textOf(r));
  expect(sc(r).status, textOf(r)).toBe('succeeded');
  return sc(r).result;
};

const test = { min_bytes: '1K', max_bytes: '64M', step_factor: 4, gpus_per_process: 2, iters: 1, warmup_iters: 0 };
const sizes = Array.from({ length: 9 }, (_, i) => 1024 * 4 ** i);
const grid = { NCCL_PROTO: ['LL', 'LL128', 'Simple'], NCCL_MIN_CTAS: ['8', '16'] };
const configs = [
  { NCCL_MAX_CTAS: '2', NCCL_PROTO: 'LL' },
  { NCCL_BUFFSIZE: '8388608', NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' },
];
const band = (size: number) => (size < 64 * 1024 ? 'small' : size < 16 << 20 ? 'medium' : 'large');
const label = (c: Record<string, string>) => Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ') || 'default';

/** The model's truth: mean busbw per band of every config, on 2 ranks. */
function modelBands(config: Record<string, string>): Record<string, number> {
  const sums: Record<string, number[]> = {};
  for (const row of simulate('all_reduce', config, sizes, 2)) (sums[band(row.size)] ??= []).push(row.busbw);
  return Object.fromEntries(Object.entries(sums).map(([b, v]) => [b, v.reduce((x, y) => x + y, 0) / v.length]));
}

describe('a sweep over a grid and explicit configs', async () => {
  const r = await sweep({ ...test, grid, configs, log_nccl_choices: true, save_profile: 'sweep-winner' });
  const candidates = [{}, ...configs, ...grid.NCCL_PROTO.flatMap((p) => grid.NCCL_MIN_CTAS.map((c) => ({ NCCL_MIN_CTAS: c, NCCL_PROTO: p })))];

  it('measures the default and every config once, recording each trial', async () => {
    expect(r.trials).toEqual({ planned: 9, run: 9, ok: 9, failed: 0 });
    expect(r.default.env).toEqual({ NCCL_DEBUG: 'INFO', NCCL_DEBUG_SUBSYS: 'INIT,TUNING' });
    expect(r.ranking).toHaveLength(9);
    const history = sc(await call('get_history', { domain: 'nccl', limit: 50, include_context: true })).runs;
    expect(history.filter((run: { context: { sweep_job?: string } }) => r.run_ids.includes((run as unknown as { id: number }).id) && run.context.sweep_job)).toHaveLength(9);
  });

  it("finds the model's best config in every band, and beats the default there", () => {
    for (const b of ['small', 'medium', 'large']) {
      const truth = candidates.map((c) => ({ label: label(c), value: modelBands(c)[b] })).sort((x, y) => y.value - x.value);
      const found = r.bands.find((x: { band: string }) => x.band === b);
      expect(found.best.label, b).toBe(truth[0].label);
      expect(found.best.median_gbps, b).toBeCloseTo(truth[0].value, 3);
      expect(found.best.margin_vs_default, b).toBeGreaterThan(0);
      expect(found.default_median_gbps, b).toBeCloseTo(modelBands({})[b], 3);
    }
  });

  it('names the overall winner by the objective (large messages) and exports it as nccl.conf and a profile', async () => {
    const best = candidates.map((c) => ({ label: label(c), value: modelBands(c).large })).sort((x, y) => y.value - x.value)[0];
    expect(r.winner.label).toBe(best.label);
    expect(r.winner.margin_vs_default).toBeCloseTo(best.value / modelBands({}).large - 1, 3);
    expect(r.winner.verdict).toBe('no significant difference'); // one run each: compare() cannot confirm
    expect(r.exports.nccl_conf.body).toMatch(/\nNCCL_BUFFSIZE=8388608\nNCCL_MIN_CTAS=16\nNCCL_PROTO=Simple\n$/);
    expect(r.exports.nccl_conf.body).not.toMatch(/NCCL_DEBUG/);
    expect(readFileSync(r.exports.nccl_conf.path, 'utf8')).toBe(r.exports.nccl_conf.body);
    expect(r.exports.saved_profile).toBe('sweep-winner');
    const profile = sc(await call('nccl_env', { action: 'show', name: 'sweep-winner' })).profile;
    expect(profile.env).toEqual({ NCCL_BUFFSIZE: '8388608', NCCL_MIN_CTAS: '16', NCCL_PROTO: 'Simple' });
  });

  it('exports per-size winners in the example tuner CSV format, with what NCCL actually ran', () => {
    const csv = r.exports.tuner_csv;
    expect(csv.body).toContain('# collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff\n');
    const lines = csv.body.split('\n').filter((l: string) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(csv.ranges);
    let previousMax = -1;
    for (const line of lines) {
      const [coll, min, max, algo, proto, channels, nNodes, nRanks, pipe, reg] = line.split(',');
      expect([coll, nNodes, nRanks, pipe, reg]).toEqual(['allreduce', '1', '2', '-1', '-1']);
      expect(Number(min)).toBeGreaterThan(previousMax);
      previousMax = Number(max);
      expect(['tree', 'ring']).toContain(algo);
      expect(['ll', 'll128', 'simple']).toContain(proto);
      // The line's choice is what the model runs for the per-size winner at the range's top size.
      const size = Number(max) === 4294967295 ? sizes.at(-1)! : Number(max);
      const winner = r.per_size.find((p: { bytes: number }) => p.bytes === size);
      if (winner.winner_index !== 0 && !winner.winner.includes('BUFFSIZE')) {
        const cfg = candidates.find((c) => label(c) === winner.winner)!;
        const modelRow = simulate('all_reduce', cfg, [size], 2)[0];
        expect([algo, proto, Number(channels)]).toEqual([modelRow.algorithm.toLowerCase(), modelRow.protocol.toLowerCase(), Number(channels) === -1 ? -1 : modelRow.channels]);
      }
    }
    expect(lines[0]).toMatch(/^allreduce,0,/);
    expect(r.per_size).toHaveLength(9);
  });
});

describe('statistics, budgets and invalid configs', () => {
  it('with 4 repeats, compare() confirms the winner against the default', async () => {
    const r = await sweep({ ...test, max_bytes: '64M', min_bytes: '16M', grid: { NCCL_PROTO: ['Simple'], NCCL_MIN_CTAS: ['16'] }, repeats: 4, env: { FAKE_NCCL_TESTS_NOISE: '0.02' } });
    expect(r.trials).toMatchObject({ planned: 8, run: 8, ok: 8 });
    expect(r.winner).toMatchObject({ label: 'NCCL_MIN_CTAS=16 NCCL_PROTO=Simple', n: 4, verdict: 'better' });
    expect(r.winner.explanation).toMatch(/p=/);
    expect(r.ranking.find((s: { label: string }) => s.label === 'default')).toMatchObject({ n: 4, verdict: 'baseline' });
  });

  it('keeps to max_runs and skips invalid configs with the reason', async () => {
    const r = await sweep({ ...test, max_bytes: '4K', configs: [{ NCCL_ALGO: 'Rnig' }, { NCCL_PROTO: 'LL' }, { NCCL_PROTO: 'LL128' }, { NCCL_PROTO: 'Simple' }], max_runs: 3 });
    expect(r.trials.run).toBe(3);
    expect(r.skipped).toEqual([
      { label: 'NCCL_ALGO=Rnig', reason: expect.stringMatching(/^invalid: Unrecognized element "Rnig"/) },
      { label: 'NCCL_PROTO=Simple', reason: 'over the run budget (max_runs 3, repeats 1)' },
    ]);
  });

  it('a config NCCL rejects fails once and its repeats are skipped', async () => {
    const r = await sweep({ ...test, max_bytes: '4K', configs: [{ NCCL_ALGO: 'NVLS' }, { NCCL_PROTO: 'LL' }], repeats: 2 });
    expect(r.trials).toMatchObject({ planned: 6, run: 5, failed: 1 });
    expect(r.exports.notes.join(' ')).toMatch(/NCCL_ALGO=NVLS failed on its first run \(NCCL error\)/);
    expect(r.ranking.find((s: { label: string }) => s.label === 'NCCL_ALGO=NVLS')).toMatchObject({ n: 0, median_gbps: null });
  });

  it('a sweep whose default never runs is an error (issue 9 section 4), the default\'s own failure line first, the result kept', async () => {
    const r = await call('nccl_sweep', { ...test, max_bytes: '4K', grid: { NCCL_PROTO: ['LL', 'Simple'] }, env: { FAKE_NCCL_TESTS_FAIL: 'cuda' }, wait_s: 50 });
    expect(r.isError).toBe(true);
    expect(textOf(r).split('\n')[0]).toMatch(/^The default never produced a bus bandwidth \(.*Test CUDA failure common\.cu:\d+ 'out of memory'.*\): margins cannot be computed/);
    expect(sc(r)).toMatchObject({ status: 'failed', result: { default: { median_gbps: null }, winner: null } });
  });

  it('refuses a sweep with nothing to try, or a base with errors', async () => {
    expect(textOf(await call('nccl_sweep', { ...test }))).toMatch(/needs configs or grid/);
    expect(textOf(await call('nccl_sweep', { ...test, grid: { NCCL_PROTO: ['LL'] }, env: { NCCL_IB_TIMEOUT: '99' } }))).toMatch(/above the maximum 31/);
    expect(textOf(await call('nccl_sweep', { ...test, configs: [{ NCCL_ALGO: 'Bad' }] }))).toMatch(/No config is left to try: NCCL_ALGO=Bad: invalid/);
  });
});
