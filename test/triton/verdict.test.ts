/** The verdict rules and the noise-aware speedup, on synthetic inputs (no processes). */
import { describe, expect, it } from 'vitest';
import { archiveName } from '../../src/triton/archive.js';
import { summarizeTiming, type BenchResult } from '../../src/triton/timing.js';
import { benchFlags, decideVerdict, type Check, type Flag } from '../../src/triton/verdict.js';

const pass = (name: string): Check => ({ name, passed: true, detail: 'ok' });
const fail = (name: string, detail = 'bad'): Check => ({ name, passed: false, detail });
const suspicious: Flag = { code: 'patched_functions', severity: 'suspicious', source: 'runtime', detail: 'time.perf_counter' };
const warning: Flag = { code: 'randomness', severity: 'warning', source: 'static', detail: 'torch.rand' };

function bench(baseline: number[], candidate: number[], extra: Partial<BenchResult> = {}): BenchResult {
  return {
    device: 'cpu', method: 'perf_counter loop', label: 'CPU timings: ...', rounds: baseline.length, warmup_ms: 25, rep_ms: 100,
    baseline_ms: baseline, candidate_ms: candidate, torch_threads: 1, memory: null, host_check: null, late_writes: false, patched: [], settings_changed: [],
    ...extra,
  };
}

describe('decideVerdict', () => {
  const faster = summarizeTiming(bench([2.0, 2.1, 2.05, 1.98, 2.02, 2.07, 2.01], [1.0, 1.02, 0.99, 1.01, 1.03, 0.98, 1.0]));

  it('puts compile errors first, then failed checks, then suspicious flags, then speed', () => {
    expect(decideVerdict({ compileError: true, checks: [fail('runs', 'SyntaxError')], flags: [suspicious], timing: null, failures: [] })).toEqual({ verdict: 'compile_error', reasons: ['SyntaxError'] });
    expect(decideVerdict({ compileError: false, checks: [pass('runs'), fail('allclose', 'off by 1')], flags: [suspicious], timing: faster, failures: [] })).toEqual({ verdict: 'incorrect', reasons: ['allclose: off by 1'] });
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags: [suspicious, warning], timing: faster, failures: [] }).verdict).toBe('suspicious');
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags: [warning], timing: faster, failures: [] }).verdict).toBe('correct_faster');
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags: [], timing: null, failures: [] }).verdict).toBe('correct');
  });

  it('fails a candidate that passed the checks but crashed while being timed', () => {
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags: [], timing: null, failures: ['bench: the bench process was killed by SIGSEGV'] })).toEqual({
      verdict: 'incorrect',
      reasons: ['bench: the bench process was killed by SIGSEGV'],
    });
  });

  it('treats checks that did not run (null) as neither passed nor failed', () => {
    expect(decideVerdict({ compileError: false, checks: [pass('runs'), { name: 'sensitive', passed: null, detail: 'skipped' }], flags: [], timing: faster, failures: [] }).verdict).toBe('correct_faster');
  });
});

describe('summarizeTiming', () => {
  it('claims "faster" only when the rounds say so: a 2x speedup over tight rounds is faster', () => {
    const t = summarizeTiming(bench([2.0, 2.1, 2.05, 1.98, 2.02, 2.07, 2.01], [1.0, 1.02, 0.99, 1.01, 1.03, 0.98, 1.0]));
    expect(t).toMatchObject({ verdict: 'faster', over_10x: false });
    expect(t.speedup).toBeCloseTo(2.02 / 1.0, 2);
    expect(t.p_value).toBeLessThan(0.01);
    expect(t.baseline).toMatchObject({ n: 7, median: 2.02, calls_per_s: 495.05 });
  });

  it('calls a small difference inside the noise no significant difference (so correct_slower)', () => {
    const t = summarizeTiming(bench([1.0, 1.3, 0.9, 1.2, 1.05, 0.95, 1.25], [0.98, 1.28, 0.92, 1.18, 1.0, 0.97, 1.2]));
    expect(t.verdict).toBe('no significant difference');
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags: [], timing: t, failures: [] }).verdict).toBe('correct_slower');
  });

  it('flags a speedup above 10x for review instead of celebrating it', () => {
    const t = summarizeTiming(bench([10, 10.2, 9.9, 10.1, 10], [0.5, 0.51, 0.49, 0.5, 0.52]));
    expect(t.over_10x).toBe(true);
    const flags = benchFlags(t, { patched: [], late_writes: false, settings_changed: [] });
    expect(flags).toEqual([expect.objectContaining({ code: 'speedup_over_10x', severity: 'suspicious', source: 'bench' })]);
    expect(decideVerdict({ compileError: false, checks: [pass('runs')], flags, timing: t, failures: [] }).verdict).toBe('suspicious');
  });

  it('flags a host-timed cross-check that disagrees with the event timing, late writes and patches', () => {
    const t = summarizeTiming(bench([1, 1, 1, 1, 1], [0.1, 0.1, 0.1, 0.1, 0.1], { device: 'cuda', host_check: { baseline_ms: 1.05, candidate_ms: 0.9, disagrees: true } }));
    const codes = benchFlags(t, { patched: ['triton.testing.do_bench'], late_writes: true, settings_changed: ['cuda.matmul.allow_tf32: False -> True'] }).map((f) => `${f.code}:${f.severity}`);
    expect(codes).toEqual(['patched_functions:suspicious', 'late_writes:suspicious', 'timing_mismatch:suspicious', 'global_settings_changed:warning']);
  });
});

describe('archiveName', () => {
  it('is <UTC timestamp>-<experiment>-<speedup>x, with nax when untimed and unsafe characters replaced', () => {
    const at = new Date('2025-03-04T05:06:07.890Z');
    expect(archiveName('softmax-1a2b', 1.9349, at)).toBe('20250304T050607Z-softmax-1a2b-1.93x');
    expect(archiveName('my exp/../x', null, at)).toBe('20250304T050607Z-my_exp_.._x-nax');
  });
});
