/**
 * nccl_sweep on the fake nccl-tests: it must find the model's best config in every message-size
 * band, beat the untuned default, confirm the winner statistically with repeats, and export a tuner
 * CSV and an nccl.conf that say what was measured.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../../helpers/runtime.js';
// @ts-expect-error: the fixture is plain JavaScript
import { simulate } from '../../fixtures/nccl/model.mjs';
import { FAKE_BIN } from '../fake.js';
import { getCollInfo, loadConfig } from './example-tuner.js';

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

  it('exports a tuner CSV from which the example plugin reproduces every measured choice, channels included', () => {
    const csv = r.exports.tuner_csv;
    expect(csv.body).toContain('# collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff\n');
    const lines = csv.body.split('\n').filter((l: string) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(csv.ranges);
    for (const line of lines) expect(line.split(',')[5]).not.toBe('-1');
    const plugin = loadConfig(csv.body);
    const expressible = candidates.filter((c) => !('NCCL_BUFFSIZE' in c));
    let tuned = 0;
    for (const size of sizes) {
      const at = (c: Record<string, string>) => simulate('all_reduce', c, [size], 2)[0];
      const best = expressible.map((c) => ({ c, row: at(c) })).sort((a, b) => b.row.busbw - a.row.busbw)[0];
      const wins = best.row.busbw / at({}).busbw - 1 >= 0.02;
      if (wins) tuned++;
      const expected = wins ? best.row : at({});
      expect(getCollInfo(plugin, { nNodes: 1, nRanks: 2 }, { collType: 'allreduce', nBytes: BigInt(size) }), `${size} B`).toEqual({
        algorithm: expected.algorithm.toLowerCase(),
        protocol: expected.protocol.toLowerCase(),
        nChannels: expected.channels,
      });
    }
    expect(tuned).toBeGreaterThan(0);
    // The default runs small messages on fewer channels than large ones: the CSV keeps that.
    expect(new Set(sizes.map((s) => getCollInfo(plugin, { nNodes: 1, nRanks: 2 }, { collType: 'allreduce', nBytes: BigInt(s) }).nChannels)).size).toBeGreaterThan(1);
    expect(lines[0]).toMatch(/^allreduce,0,/);
    expect(lines.at(-1)).toMatch(/,18446744073709551615,/);
    expect(r.exports.notes.join(' ')).toMatch(/runs every AllReduce size and every other collective it has no line for on ONE channel/);
    expect(r.per_size).toHaveLength(9);
  });

  it('sweeps up to 16 GiB into 64-bit ranges the plugin matches at every size', async () => {
    const big = await sweep({ ...test, min_bytes: '1G', max_bytes: '16G', step_factor: 2, grid: { NCCL_PROTO: ['LL128', 'Simple'], NCCL_MIN_CTAS: ['12', '16'] }, log_nccl_choices: true });
    const plugin = loadConfig(big.exports.tuner_csv.body);
    const bigSizes = [1, 2, 4, 8, 16].map((g) => g * 1024 ** 3);
    expect(big.per_size.map((p: { bytes: number }) => p.bytes)).toEqual(bigSizes);
    for (const line of big.exports.tuner_csv.body.split('\n').filter((l: string) => l && !l.startsWith('#'))) {
      const [, min, max] = line.split(',');
      expect(BigInt(min) <= BigInt(max), line).toBe(true);
    }
    for (const size of bigSizes) {
      const p = big.per_size.find((x: { bytes: number }) => x.bytes === size);
      const config = p.winner_index === 0 ? {} : Object.fromEntries(p.winner.split(' ').map((kv: string) => kv.split('=')));
      const row = simulate('all_reduce', config, [size], 2)[0];
      const got = getCollInfo(plugin, { nNodes: 1, nRanks: 2 }, { collType: 'allreduce', nBytes: BigInt(size) });
      expect(got, `${size}`).toEqual({ algorithm: row.algorithm.toLowerCase(), protocol: row.protocol.toLowerCase(), nChannels: row.channels });
    }
  });
});

describe('tuner CSV for an all-gather', () => {
  it('maps the per-rank bytes NCCL 2.24+ logs to row sizes, so each size gets its own channel count', async () => {
    const ag = await sweep({ ...test, collective: 'all_gather', gpus_per_process: 4, min_bytes: '64K', max_bytes: '16M', grid: { NCCL_PROTO: ['LL', 'Simple'] }, log_nccl_choices: true });
    const plugin = loadConfig(ag.exports.tuner_csv.body);
    for (const p of ag.per_size as { bytes: number; winner: string; winner_index: number; margin_vs_default: number }[]) {
      const config = p.winner_index !== 0 && p.margin_vs_default >= 0.02 ? Object.fromEntries(p.winner.split(' ').map((kv) => kv.split('='))) : {};
      const row = simulate('all_gather', config, [p.bytes], 4)[0];
      expect(getCollInfo(plugin, { nNodes: 1, nRanks: 4 }, { collType: 'allgather', nBytes: BigInt(p.bytes) }), `${p.bytes}`).toEqual({
        algorithm: 'ring',
        protocol: row.protocol.toLowerCase(),
        nChannels: row.channels,
      });
    }
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
