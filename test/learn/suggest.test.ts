/**
 * The suggester (issue 13, item 1): quality on small noisy landscapes, determinism, repeats when
 * noise blurs the ranking, named spaces from the scheduler catalog and the NCCL table, and
 * suggest_config through MCP over recorded history.
 */
import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../src/learn/random.js';
import { explicitSpace, type ParamSpec, type Point } from '../../src/learn/suggest/space.js';
import { suggest, type ConfigObservation } from '../../src/learn/suggest/suggester.js';
import { namedSpace } from '../../src/learn/suggest/named-spaces.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';

/** A compressor-like landscape: time (lower is better) over threads x level x codec, one best corner. */
const params: ParamSpec[] = [
  { name: 'codec', type: 'categorical', choices: ['gzip', 'xz', 'zstd'], default: 'gzip' },
  { name: 'threads', type: 'int', min: 1, max: 16, default: 1 },
  { name: 'level', type: 'int', min: 1, max: 19, default: 6 },
];
function truth(p: Point): number {
  const base = { gzip: 10, xz: 14, zstd: 6 }[p.codec as string]!;
  const threads = p.codec === 'gzip' ? 1 : Math.min(p.threads as number, 6);
  return base / Math.sqrt(threads) + 0.15 * ((p.level as number) - 3) ** 2 + (p.codec === 'zstd' && (p.threads as number) > 6 ? 0.3 * ((p.threads as number) - 6) : 0);
}
const optimum = Math.min(...['gzip', 'xz', 'zstd'].flatMap((codec) => Array.from({ length: 16 }, (_, t) => Array.from({ length: 19 }, (_, l) => truth({ codec, threads: t + 1, level: l + 1 }))).flat()));

function tune(seed: number, budget: number): { bestTruth: number; trials: number } {
  const space = explicitSpace(params);
  const noise = seededRandom(seed, 'noise');
  const observations: ConfigObservation[] = [];
  let bestTruth = Infinity;
  for (let t = 0; t < budget; t++) {
    const s = suggest(space, observations, { direction: 'lower', count: 1, seed, seeds: [{ point: { codec: 'gzip', threads: 1, level: 6 }, kind: 'default', reason: 'defaults' }] });
    const point = s.candidates[0].point;
    const v = truth(point);
    bestTruth = Math.min(bestTruth, v);
    if (v <= optimum * 1.02) return { bestTruth, trials: t + 1 };
    observations.push({ point, values: [v * (1 + 0.03 * gaussian(noise))], run_ids: [t] });
  }
  return { bestTruth, trials: budget + 1 };
}

describe('suggester', () => {
  it('finds a config within 2% of the optimum of a noisy 3-parameter landscape in a few dozen trials', () => {
    // 912 configs; random search needs about 300 trials for the best few. Deterministic per seed.
    const trials = [1, 2, 3, 4, 5].map((seed) => tune(seed, 120).trials);
    trials.sort((a, b) => a - b);
    expect(trials[2]).toBeLessThanOrEqual(60);
    expect(trials[4]).toBeLessThanOrEqual(120);
  });

  it('is deterministic for a seed and history, and the seed matters', () => {
    const space = explicitSpace(params);
    const obs: ConfigObservation[] = [
      { point: { codec: 'gzip', threads: 1, level: 6 }, values: [12], run_ids: [1] },
      { point: { codec: 'zstd', threads: 4, level: 3 }, values: [3.1], run_ids: [2] },
      { point: { codec: 'xz', threads: 8, level: 9 }, values: [14], run_ids: [3] },
    ];
    const a = suggest(space, obs, { direction: 'lower', count: 5, seed: 7 });
    const b = suggest(space, obs, { direction: 'lower', count: 5, seed: 7 });
    const c = suggest(space, obs, { direction: 'lower', count: 5, seed: 8 });
    expect(a).toEqual(b);
    expect(a.candidates.map((x) => x.point)).not.toEqual(c.candidates.map((x) => x.point));
    // Five distinct candidates, none already measured.
    const keys = a.candidates.map((x) => JSON.stringify(x.point));
    expect(new Set(keys).size).toBe(5);
    for (const o of obs) expect(keys).not.toContain(JSON.stringify(o.point));
  });

  it('gives model candidates a prediction and an uncertainty once it has data', () => {
    const space = explicitSpace(params);
    const random = seededRandom(3);
    const obs: ConfigObservation[] = Array.from({ length: 12 }, (_, i) => {
      const point = { codec: ['gzip', 'xz', 'zstd'][i % 3], threads: 1 + Math.floor(random() * 16), level: 1 + Math.floor(random() * 19) };
      return { point, values: [truth(point)], run_ids: [i] };
    });
    const s = suggest(space, obs, { direction: 'lower', count: 3, seed: 1 });
    expect(s.phase).toBe('model');
    const model = s.candidates.filter((c) => c.kind === 'model');
    expect(model.length).toBeGreaterThan(0);
    for (const c of model) {
      expect(c.predicted).toBeTypeOf('number');
      expect(c.uncertainty).toBeGreaterThan(0);
    }
    expect(s.best!.point).toEqual(obs.reduce((b, o) => (o.values[0] < b.values[0] ? o : b)).point);
    expect(s.coverage.distinct_configs).toBe(12);
    expect(s.coverage.per_param.codec).toBe(1);
  });

  it('repeats a leader measured once before building on it, and contenders within noise', () => {
    const space = explicitSpace(params);
    const obs: ConfigObservation[] = Array.from({ length: 8 }, (_, i) => ({ point: { codec: 'xz', threads: i + 1, level: 9 }, values: [20 - i * 0.1], run_ids: [i] }));
    obs.push({ point: { codec: 'zstd', threads: 4, level: 3 }, values: [3], run_ids: [99] });
    const first = suggest(space, obs, { direction: 'lower', count: 2, seed: 1 });
    expect(first.candidates[0]).toMatchObject({ kind: 'repeat', point: { codec: 'zstd', threads: 4, level: 3 } });
    expect(first.candidates[0].rationale).toMatch(/measured once/);
    // Two leaders 1% apart with about 5% run-to-run noise: one of them gets another run.
    const noisy: ConfigObservation[] = [
      ...obs.slice(0, 8),
      { point: { codec: 'zstd', threads: 4, level: 3 }, values: [3, 3.3], run_ids: [99, 100] },
      { point: { codec: 'zstd', threads: 5, level: 3 }, values: [3.1, 3.25], run_ids: [102, 103] },
    ];
    const second = suggest(space, noisy, { direction: 'lower', count: 1, seed: 1 });
    expect(second.candidates[0]).toMatchObject({ kind: 'repeat', point: { codec: 'zstd', threads: 4, level: 3 } });
    expect(second.candidates[0].rationale).toMatch(/within noise/);
  });

  it('repeats the leaders once a small space is fully measured', () => {
    const space = explicitSpace([{ name: 'j', type: 'int', min: 1, max: 3 }]);
    const obs = [1, 2, 3].map((j) => ({ point: { j }, values: [10 / j, 10 / j + 0.1], run_ids: [j] }));
    const s = suggest(space, obs, { direction: 'lower', count: 2, seed: 0 });
    expect(s.candidates.map((c) => c.kind)).toEqual(['repeat', 'repeat']);
    expect(s.candidates[0].point).toEqual({ j: 3 });
    expect(s.coverage.fraction_of_configs).toBe(1);
  });
});

describe('named spaces', () => {
  it('sched:<scheduler> comes from the catalog: flags, exclusive groups as one choice, configs as benchmark_workload records them', () => {
    const MODES = '--autopilot|--autopower|--performance|--powersave|--balanced';
    const space = namedSpace('sched:scx_lavd', ['--slice-max-us', '--per-cpu-dsq', MODES], []);
    // In the catalog's order, whatever the order of variables.
    expect(space.params.map((p) => p.name)).toEqual([MODES, '--slice-max-us', '--per-cpu-dsq']);
    expect(space.params[0].choices).toEqual(['none', '--autopilot', '--autopower', '--performance', '--powersave', '--balanced']);
    const point = { '--slice-max-us': 2000, '--per-cpu-dsq': true, [MODES]: '--performance' };
    const config = space.toConfig(point);
    expect(config).toEqual({ scheduler: 'scx_lavd', flags: ['--performance', '--slice-max-us', '2000', '--per-cpu-dsq'] });
    expect(space.fromConfig(config)).toEqual(point);
    expect(space.fromConfig({ scheduler: 'scx_lavd', flags: ['--slice-max-us=2000', '--per-cpu-dsq', '--performance'] })).toEqual(point);
    // The default is {scheduler, flags: []}; other schedulers, flags outside the space, or two modes are not in it.
    expect(space.toConfig({ '--slice-max-us': 5000, '--per-cpu-dsq': false, [MODES]: 'none' })).toEqual({ scheduler: 'scx_lavd', flags: [] });
    expect(space.fromConfig({ scheduler: 'scx_bpfland', flags: [] })).toBeNull();
    expect(space.fromConfig({ scheduler: 'scx_lavd', flags: ['--no-freq-scaling'] })).toBeNull();
    expect(space.fromConfig({ scheduler: 'scx_lavd', flags: ['--performance', '--powersave'] })).toBeNull();
  });

  it('never suggests flags the scheduler refuses together', () => {
    const MODES = '--autopilot|--autopower|--performance|--powersave|--balanced';
    const space = namedSpace('sched:scx_lavd', ['--no-core-compaction', MODES], []);
    expect(space.isValid!({ '--no-core-compaction': true, [MODES]: '--autopilot' })).toBe(false);
    expect(space.isValid!({ '--no-core-compaction': true, [MODES]: '--performance' })).toBe(true);
    // 2 x 6 points, 4 of them refused: a full sweep proposes only the 8 valid ones.
    const s = suggest(space, [], { direction: 'lower', count: 12, seed: 0, startup: 12 });
    expect(s.candidates).toHaveLength(8);
    for (const c of s.candidates) expect(space.isValid!(c.point)).toBe(true);
  });

  it('narrows a huge flag range around its default unless bounds are given', () => {
    const wide = namedSpace('sched:scx_lavd', ['--slice-max-us'], []);
    expect(wide.params[0]).toMatchObject({ min: 500, max: 50000, log: true, default: 5000 });
    const narrowed = namedSpace('sched:scx_lavd', ['--slice-max-us'], [{ name: '--slice-max-us', min: 1000, max: 8000 }]);
    expect(narrowed.params[0]).toMatchObject({ min: 1000, max: 8000 });
  });

  it('nccl comes from the parameter table, and the untuned default {} is its default point', () => {
    const space = namedSpace('nccl', undefined, []);
    expect(space.params.map((p) => p.name)).toEqual(['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_MIN_CTAS', 'NCCL_NTHREADS', 'NCCL_BUFFSIZE']);
    expect(space.params.find((p) => p.name === 'NCCL_NTHREADS')!.choices).toEqual([64, 128, 256, 512]);
    expect(space.fromConfig({})).toEqual({ NCCL_ALGO: 'none', NCCL_PROTO: 'none', NCCL_MIN_CTAS: undefined, NCCL_NTHREADS: 512, NCCL_BUFFSIZE: 4194304 });
    expect(space.toConfig({ NCCL_ALGO: 'Ring', NCCL_PROTO: 'none', NCCL_MIN_CTAS: 16, NCCL_NTHREADS: 512, NCCL_BUFFSIZE: 1 << 21 })).toEqual({ NCCL_ALGO: 'Ring', NCCL_MIN_CTAS: '16', NCCL_BUFFSIZE: '2097152' });
    expect(space.fromConfig({ NCCL_ALGO: 'ring', NCCL_MIN_CTAS: '16' })).toMatchObject({ NCCL_ALGO: 'Ring', NCCL_MIN_CTAS: 16 });
    // Per-collective rules and variables outside the space are not points of it.
    expect(space.fromConfig({ NCCL_ALGO: 'allreduce:ring;broadcast:tree' })).toBeNull();
    expect(space.fromConfig({ NCCL_SOCKET_IFNAME: 'eth0' })).toBeNull();
  });

  it('nccl offers what the given release reads, with its ranges, defaults and algorithms', () => {
    const old = namedSpace('nccl', undefined, [], { ncclVersion: '2.16.5' });
    // NCCL_MIN_CTAS came in 2.17: the default space varies the variable it replaced.
    expect(old.params.map((p) => p.name)).toEqual(['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_MIN_NCHANNELS', 'NCCL_NTHREADS', 'NCCL_BUFFSIZE']);
    expect(old.notes.join(' ')).toMatch(/NCCL_MIN_CTAS is not read by NCCL 2.16.5: NCCL_MIN_NCHANNELS is varied instead/);
    expect(old.params[0].choices).toEqual(['none', 'Tree', 'Ring', 'CollnetDirect', 'CollnetChain']); // no NVLS (2.17), no PAT (2.23)
    expect(namedSpace('nccl', ['NCCL_ALGO'], [], { ncclVersion: '2.12.12' }).params[0].choices).toEqual(['none', 'Tree', 'Ring', 'CollNet']);
    expect(namedSpace('nccl', ['NCCL_MIN_CTAS'], [], { ncclVersion: '2.20.3' }).params[0]).toMatchObject({ min: 1, max: 32 }); // 64 from 2.25
    expect(namedSpace('nccl', ['NCCL_MIN_CTAS'], []).params[0]).toMatchObject({ min: 1, max: 64 });
    expect(namedSpace('nccl', ['NCCL_IB_TIMEOUT'], [], { ncclVersion: '2.20.3' }).params[0]).toMatchObject({ min: 0, max: 31, default: 18 }); // 20 from 2.23
    expect(() => namedSpace('nccl', ['NCCL_MIN_CTAS'], [], { ncclVersion: '2.16.5' })).toThrow(/not read by NCCL 2.16.5 \(read since 2.17\)/);
    expect(() => namedSpace('nccl', ['NCCL_LL_THRESHOLD'], [])).toThrow(/not read by NCCL/);
  });

  it('nccl narrows NCCL_ALGO to the collective, and refuses an algorithm with a protocol it does not run', () => {
    const gather = namedSpace('nccl', ['NCCL_ALGO', 'NCCL_PROTO'], [], { collective: 'all_gather' });
    expect(gather.params[0].choices).toEqual(['none', 'Ring', 'CollnetDirect', 'NVLS', 'PAT']);
    expect(namedSpace('nccl', ['NCCL_ALGO'], [], { collective: 'AllReduce' }).params[0].choices).not.toContain('PAT');
    expect(gather.isValid!({ NCCL_ALGO: 'NVLS', NCCL_PROTO: 'LL' })).toBe(false);
    expect(gather.isValid!({ NCCL_ALGO: 'Ring', NCCL_PROTO: 'LL' })).toBe(true);
    expect(gather.isValid!({ NCCL_ALGO: 'NVLS', NCCL_PROTO: 'none' })).toBe(true);
  });

  it('choices narrow a named parameter to values it accepts; a numeric one becomes a choice among them', () => {
    const s = namedSpace('nccl', ['NCCL_PROTO', 'NCCL_MIN_CTAS'], [{ name: 'NCCL_PROTO', choices: ['simple', 'LL'] }, { name: 'NCCL_MIN_CTAS', choices: [8, 16, 32] }]);
    expect(s.params[0].choices).toEqual(['Simple', 'LL']);
    expect(s.params[1]).toMatchObject({ type: 'categorical', choices: [8, 16, 32] });
    expect(s.toConfig({ NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: 16 })).toEqual({ NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' });
    expect(s.fromConfig({ NCCL_MIN_CTAS: '16' })).toEqual({ NCCL_PROTO: undefined, NCCL_MIN_CTAS: 16 }); // "none" is no longer a choice: unset
    expect(() => namedSpace('nccl', ['NCCL_PROTO'], [{ name: 'NCCL_PROTO', choices: ['LL256'] }])).toThrow(/does not accept "LL256"/);
    expect(() => namedSpace('nccl', ['NCCL_MIN_CTAS'], [{ name: 'NCCL_MIN_CTAS', choices: [16, 128] }])).toThrow(/does not accept 128/);
  });

  it('refuses what it cannot search, saying what to do', () => {
    expect(() => namedSpace('sched:scx_nope', undefined, [])).toThrow(/No scheduler "scx_nope"/);
    expect(() => namedSpace('nccl', ['NCCL_SOCKET_IFNAME'], [])).toThrow(/not a value the suggester can vary/);
    expect(() => namedSpace('nccl', ['NCCL_BOGUS'], [])).toThrow(/not in the NCCL parameter table/);
    expect(() => namedSpace('slurm', undefined, [])).toThrow(/Unknown named space/);
  });
});

describe('suggest_config through MCP', async () => {
  const { call } = await connectInMemory();
  const space = [
    { name: 'codec', type: 'categorical', choices: ['gzip', 'zstd'], default: 'gzip' },
    { name: 'threads', type: 'int', min: 1, max: 8, default: 1 },
  ];

  it('starts from the defaults with no history, then reads recorded runs, reports the best with its evidence and coverage', async () => {
    const empty = await call('suggest_config', { params: space, count: 3 });
    expect(empty.isError).toBeFalsy();
    const first = empty.structuredContent as { candidates: { kind: string; config: unknown }[]; phase: string; best: null };
    expect(first.candidates[0]).toMatchObject({ kind: 'default', config: { codec: 'gzip', threads: 1 } });
    expect(first.candidates.slice(1).every((c) => c.kind === 'space-filling')).toBe(true);
    expect(first.best).toBeNull();

    await call('workload', { action: 'create', name: 'squash', classification: 'batch', tags: ['compress'] });
    const record = (config: object, wall: number) => call('record_run', { domain: 'workload', workload: 'squash', config, metrics: { wall_s: wall }, primary_metric: 'wall_s', direction: 'lower' });
    for (const w of [10.1, 10.3, 9.9, 10.2, 10.0]) await record({ codec: 'gzip', threads: 1 }, w);
    for (const w of [4.1, 4.0, 4.2, 4.05, 3.95]) await record({ codec: 'zstd', threads: 4 }, w);
    await record({ codec: 'zstd', threads: 2 }, 6);
    await record({ other: 'x' }, 1); // not in the space: ignored, and never "best"
    const r = await call('suggest_config', { params: space, workload: 'squash', count: 2, seed: 3 });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as {
      observations: { runs: number; configs: number; ignored_runs: number };
      best: { config: unknown; n: number; median: number; vs_default: { verdict: string } };
      coverage: { distinct_configs: number; space_size: number };
      candidates: { config: { codec: string; threads: number }; config_key: string }[];
      objective: { metric: string; direction: string };
    };
    expect(s.objective).toEqual({ metric: 'wall_s', direction: 'lower' });
    expect(s.observations).toEqual({ runs: 11, configs: 3, ignored_runs: 1 });
    expect(s.best).toMatchObject({ config: { codec: 'zstd', threads: 4 }, n: 5, median: 4.05, vs_default: { verdict: 'better' } });
    expect(s.coverage).toMatchObject({ distinct_configs: 3, space_size: 16 });
    expect(s.candidates).toHaveLength(2);
    for (const c of s.candidates) expect(['gzip', 'zstd']).toContain(c.config.codec);
    expect(textOf(r)).toMatch(/Best so far: \{"codec":"zstd","threads":4\} median 4.05/);
    // Same seed, same history: same answer.
    const again = await call('suggest_config', { params: space, workload: 'squash', count: 2, seed: 3 });
    expect(again.structuredContent).toEqual(r.structuredContent);
  });

  it('seeds the search with the patches of matching rules', async () => {
    await call('rules', { action: 'add', domain: 'workload', context: { classification: 'batch', tags: ['compress'] }, patch: { codec: 'zstd', threads: 8 }, gain: 0.5, confidence: 0.9 });
    const r = await call('suggest_config', { params: space, workload: 'squash', count: 3 });
    const s = r.structuredContent as { candidates: { kind: string; config: unknown; rationale: string }[]; rules_used: { id: number }[] };
    expect(s.rules_used.length).toBe(1);
    const rule = s.candidates.find((c) => c.kind === 'rule');
    expect(rule).toMatchObject({ config: { codec: 'zstd', threads: 8 } });
    expect(rule!.rationale).toMatch(/Rule \d+/);
  });

  it('says what is wrong with a bad space', async () => {
    const none = await call('suggest_config', {});
    expect(none.isError).toBe(true);
    expect(textOf(none)).toMatch(/No space: pass space/);
    const untyped = await call('suggest_config', { params: [{ name: 'x', min: 1, max: 2 }] });
    expect(textOf(untyped)).toMatch(/Parameter "x" has no type/);
    const inverted = await call('suggest_config', { params: [{ name: 'x', type: 'int', min: 5, max: 2 }] });
    expect(textOf(inverted)).toMatch(/min 5 is above max 2/);
    const extra = await call('suggest_config', { params: [{ name: 'x', type: 'int', min: 1, max: 2, step: 1 }] });
    expect(extra.isError).toBe(true);
    expect(textOf(extra)).toMatch(/step/);
  });
});
