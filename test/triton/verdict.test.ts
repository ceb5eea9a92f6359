/** The verdict rules, the noise-aware speedup, the timer cross-check and history status, on synthetic inputs (no processes). */
import { describe, expect, it } from 'vitest';
import { archiveName } from '../../src/triton/archive.js';
import { runStatus } from '../../src/triton/record.js';
import { summarizeTiming, timerCheck, type RoundSample } from '../../src/triton/timing.js';
import { benchFlags, decideVerdict, isolationFlag, type Check, type Flag } from '../../src/triton/verdict.js';

const pass = (name: string): Check => ({ name, passed: true, detail: 'ok' });
const fail = (name: string, detail = 'bad'): Check => ({ name, passed: false, detail });
const suspicious: Flag = { code: 'patched_functions', severity: 'suspicious', source: 'runtime', detail: 'time.perf_counter' };
const warning: Flag = { code: 'randomness', severity: 'warning', source: 'static', detail: 'torch.rand' };
const META = { device: 'cpu', method: 'perf_counter per call', label: 'CPU timings: ...', n: 10 };

/** A round of 10 calls of `ms` each, whose wall is the calls plus `overhead` ms per call. */
function round(ms: number, overhead = 0.5, hidden = 0): RoundSample {
  return { times_ms: Array(10).fill(ms), host_ms: null, wall_ms: 10 * (ms + overhead + hidden) };
}
const rounds = (values: number[], overhead = 0.5, hidden = 0) => values.map((v) => round(v, overhead, hidden));
const base = (extra: Partial<Parameters<typeof decideVerdict>[0]> = {}) => ({ compileError: false, checks: [pass('runs')], flags: [] as Flag[], timing: null, failures: [] as string[], benchProblems: [] as string[], ...extra });

describe('decideVerdict', () => {
  const faster = summarizeTiming(META, rounds([2.0, 2.1, 2.05, 1.98, 2.02, 2.07, 2.01]), rounds([1.0, 1.02, 0.99, 1.01, 1.03, 0.98, 1.0]));

  it('puts compile errors first, then failed checks, then the bench check, then suspicious flags, then speed', () => {
    expect(decideVerdict(base({ compileError: true, checks: [fail('runs', 'SyntaxError')], flags: [suspicious] }))).toEqual({ verdict: 'compile_error', reasons: ['SyntaxError'] });
    expect(decideVerdict(base({ checks: [pass('runs'), fail('allclose', 'off by 1')], flags: [suspicious], timing: faster }))).toEqual({ verdict: 'incorrect', reasons: ['allclose: off by 1'] });
    expect(decideVerdict(base({ timing: faster, benchProblems: ['round 2: 6 of 9 timed calls returned something else'] }))).toEqual({ verdict: 'incorrect', reasons: ['bench_outputs: round 2: 6 of 9 timed calls returned something else'] });
    expect(decideVerdict(base({ flags: [suspicious, warning], timing: faster })).verdict).toBe('suspicious');
    expect(decideVerdict(base({ flags: [warning], timing: faster })).verdict).toBe('correct_faster');
    expect(decideVerdict(base()).verdict).toBe('correct');
  });

  it('fails a candidate that passed the checks but crashed while being timed', () => {
    expect(decideVerdict(base({ failures: ['bench: the candidate process was killed by SIGSEGV'] }))).toEqual({ verdict: 'incorrect', reasons: ['bench: the candidate process was killed by SIGSEGV'] });
  });

  it('treats checks that did not run (null) as neither passed nor failed', () => {
    expect(decideVerdict(base({ checks: [pass('runs'), { name: 'sensitive', passed: null, detail: 'skipped' }], timing: faster })).verdict).toBe('correct_faster');
  });

  it('keeps the verdict without isolation, and says why it is not evidence', () => {
    const flag = isolationFlag('none')!;
    expect(isolationFlag('bwrap')).toBeNull();
    expect(isolationFlag('unshare')).toBeNull();
    const r = decideVerdict(base({ flags: [flag], timing: faster }));
    expect(r.verdict).toBe('correct_faster');
    expect(r.reasons[1]).toMatch(/^no_isolation: the candidate ran without a sandbox/);
  });
});

describe('runStatus: only sandboxed, timed, correct runs can be a best config', () => {
  it.each([
    ['correct_faster', 'bwrap', false, 'ok'],
    ['correct_slower', 'unshare', false, 'ok'],
    ['correct_faster', 'none', false, 'invalid'],
    ['correct', 'bwrap', false, 'invalid'],
    ['suspicious', 'bwrap', false, 'invalid'],
    ['incorrect', 'bwrap', false, 'failed'],
    ['incorrect', 'bwrap', true, 'timeout'],
    ['compile_error', 'none', false, 'failed'],
  ] as const)('%s with isolation %s (timed out: %s) -> %s', (verdict, isolation, timedOut, status) => {
    expect(runStatus(verdict, isolation, timedOut)).toBe(status);
  });
});

describe('summarizeTiming', () => {
  it('claims "faster" only when the rounds say so: a 2x speedup over tight rounds is faster', () => {
    const t = summarizeTiming(META, rounds([2.0, 2.1, 2.05, 1.98, 2.02, 2.07, 2.01]), rounds([1.0, 1.02, 0.99, 1.01, 1.03, 0.98, 1.0]));
    expect(t).toMatchObject({ verdict: 'faster', over_10x: false, calls_per_round: 10 });
    expect(t.speedup).toBeCloseTo(2.02 / 1.0, 2);
    expect(t.p_value).toBeLessThan(0.01);
    expect(t.baseline).toMatchObject({ n: 7, median: 2.02, calls_per_s: 495.05 });
    expect(t.baseline.wall_ms[0]).toBe(25);
  });

  it('calls a small difference inside the noise no significant difference (so correct_slower)', () => {
    const t = summarizeTiming(META, rounds([1.0, 1.3, 0.9, 1.2, 1.05, 0.95, 1.25]), rounds([0.98, 1.28, 0.92, 1.18, 1.0, 0.97, 1.2]));
    expect(t.verdict).toBe('no significant difference');
    expect(decideVerdict(base({ timing: t })).verdict).toBe('correct_slower');
  });

  it('flags a speedup above 10x for review instead of celebrating it', () => {
    const t = summarizeTiming(META, rounds([10, 10.2, 9.9, 10.1, 10]), rounds([0.5, 0.51, 0.49, 0.5, 0.52]));
    expect(t.over_10x).toBe(true);
    const flags = benchFlags(t, []);
    expect(flags).toEqual([expect.objectContaining({ code: 'speedup_over_10x', severity: 'suspicious', source: 'bench' })]);
    expect(decideVerdict(base({ flags, timing: t })).verdict).toBe('suspicious');
  });
});

describe('timerCheck: the candidate\'s timer against the wall clock', () => {
  it('agrees for honest rounds, faster or slower, whatever the overhead', () => {
    expect(timerCheck(rounds([2, 2, 2]), rounds([1, 1, 1])).mismatch).toBe(false);
    expect(timerCheck(rounds([1, 1, 1], 3), rounds([4, 4, 4], 3)).mismatch).toBe(false);
  });

  it('flags work the timer did not see (the wall implies far more per call than the timer said)', () => {
    const c = timerCheck(rounds([2, 2, 2]), rounds([0.2, 0.2, 0.2], 0.5, 1.8));
    expect(c).toMatchObject({ mismatch: true, candidate_timed_ms: 0.2, baseline_overhead_ms: 0.5 });
    expect(c.candidate_implied_ms).toBeCloseTo(2.0, 5);
    expect(c.detail).toMatch(/implies 2\.00 ms per call where its timer reported 0\.200 ms/);
    const t = summarizeTiming(META, rounds([2, 2, 2]), rounds([0.2, 0.2, 0.2], 0.5, 1.8));
    expect(benchFlags(t, []).map((f) => f.code)).toEqual(['timer_mismatch']); // 2 ms -> 0.2 ms is 10x: at the limit, not above it
  });

  it('does not take load for hidden work: rounds preempted in their untimed steps, as long as one round fits its timer', () => {
    // Load on a shared machine lands unevenly: two of three candidate rounds lost 3 ms per call
    // outside the timer (more than the baseline's 0.5 ms overhead and 25% of the call).
    const loaded = [round(1, 0.5, 3), round(1, 0.5, 3), round(1, 0.5)];
    expect(timerCheck(rounds([2, 2, 2]), loaded).mismatch).toBe(false);
    // A baseline round that was preempted too widens what the candidate's rounds may hide.
    expect(timerCheck([round(2, 0.5), round(2, 4), round(2, 0.5)], rounds([1, 1, 1], 0.5, 3)).mismatch).toBe(false);
    // Hidden work on every call, in every round, is flagged whatever one round's luck.
    expect(timerCheck(rounds([2, 2, 2]), [round(0.2, 0.5, 1.8), round(0.2, 0.5, 5), round(0.2, 0.5, 1.8)]).mismatch).toBe(true);
  });

  it('flags a timer that reports more time than the round took', () => {
    const impossible: RoundSample = { times_ms: Array(10).fill(5), host_ms: null, wall_ms: 20 };
    expect(timerCheck(rounds([1, 1, 1]), [impossible, impossible, impossible]).detail).toMatch(/reported more time than the whole round took/);
  });

  it('flags CUDA calls whose host time runs far past their events (a side stream)', () => {
    const cuda = (events: number, host: number): RoundSample => ({ times_ms: Array(10).fill(events), host_ms: Array(10).fill(host), wall_ms: 10 * (host + 0.5) });
    expect(timerCheck([cuda(1, 1.02), cuda(1, 1.02)], [cuda(0.2, 1.01), cuda(0.2, 1.01)]).detail).toMatch(/work on another stream/);
    expect(timerCheck([cuda(1, 1.02), cuda(1, 1.02)], [cuda(0.5, 0.52), cuda(0.5, 0.52)]).mismatch).toBe(false);
  });
});

describe('benchFlags', () => {
  it('flags functions patched while timing', () => {
    const t = summarizeTiming(META, rounds([1, 1, 1]), rounds([1, 1, 1]));
    expect(benchFlags(t, ['harness tlharness.rounds._perf_counter'])).toEqual([expect.objectContaining({ code: 'patched_functions', severity: 'suspicious', source: 'bench' })]);
  });
});

describe('archiveName', () => {
  it('is <UTC timestamp>-<experiment>-<speedup>x, with nax when untimed and unsafe characters replaced', () => {
    const at = new Date('2025-03-04T05:06:07.890Z');
    expect(archiveName('softmax-1a2b', 1.9349, at)).toBe('20250304T050607Z-softmax-1a2b-1.93x');
    expect(archiveName('my exp/../x', null, at)).toBe('20250304T050607Z-my_exp_.._x-nax');
  });
});
