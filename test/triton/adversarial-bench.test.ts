/**
 * Slow: every candidate is a real triton_verify with a bench (a trusted and a sandboxed PyTorch process, timed rounds).
 *
 * Issue 10, classes 3 and 4, through MCP: a bench that checks what it times, and a baseline the
 * candidate cannot reach. Every timed call gets fresh inputs and its output is checked against the
 * baseline's for the same input; the baseline is timed in the trusted process with the candidate's
 * sandbox stopped; the candidate's timer is cross-checked against the wall clock.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, PYTHON, VERIFY_TIMEOUT, check, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const timed = (file: string, extra: Record<string, unknown> = {}) =>
  verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), bench_rounds: 3, rep_ms: 40, ...extra });

describe.skipIf(skip)('class 3: the bench checks what it times', () => {
  it('a call counter (right while checked, a stale answer on 3 calls in 4 once timed): incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c3_call_counter.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    const bench = check(r, 'bench_outputs');
    expect(bench.passed).toBe(false);
    expect(bench.detail).toMatch(/timed calls returned something else than the baseline for the same input/);
    expect(r.verdict_reasons.join(' ')).toMatch(/bench_outputs/);
  });

  it('phase detection (the harness\'s round loop on the stack): incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c3_phase_detect.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    expect(check(r, 'bench_outputs').passed).toBe(false);
  });

  it('memoising on data_ptr and _version (and on the pointer alone): incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c3_storage_memo.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'bench_outputs').passed).toBe(false);
  });
});

describe.skipIf(skip)('class 4: the baseline is out of the candidate\'s reach', () => {
  it('a global forward pre-hook that would slow every other module by 50 ms does not touch the baseline', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c4_global_hook.py');
    expect(r.verdict).not.toBe('incorrect');
    // Had the hook reached the baseline, every baseline call would take over 50 ms.
    expect(r.timing.baseline.median).toBeLessThan(40);
    expect(r.timing.candidate.median).toBeLessThan(40);
  });

  it('rebinding the bench module\'s timer through vars(module): patched_functions, suspicious', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c4_timer_rebind.py');
    expect(r.verdict).toBe('suspicious');
    expect(r.flags).toContainEqual(expect.objectContaining({ code: 'patched_functions', source: 'runtime', detail: expect.stringContaining('tlharness.rounds._perf_counter') }));
    expect(flagCodes(r, 'suspicious')).toEqual(expect.arrayContaining(['dynamic_lookup', 'harness_access']));
    // Its timer said a tenth of the truth: the baseline's own code claimed well over 3x faster
    // (round medians of identical code stay within 2x of each other even on a loaded machine; the
    // wall-clock estimate, which subtracts the harness's overhead, is too noisy under load to assert).
    expect(r.timing.speedup).toBeGreaterThan(3);
  });

  it('work done off the clock (in the harness\'s own untimed step): timer_mismatch, and what it returned is wrong when revealed', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c4_offclock_work.py');
    expect(r.verdict).toBe('incorrect');
    expect(r.flags).toContainEqual(expect.objectContaining({ code: 'timer_mismatch', severity: 'suspicious', source: 'bench', detail: expect.stringMatching(/work happened where the timer did not look/) }));
    expect(r.timing.timer_check.mismatch).toBe(true);
  });

  it('a CPU thief (a busy thread and a forked session of its own) cannot slow the baseline: its sandbox is stopped while the baseline runs', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await timed('c4_cpu_thief.py');
    expect(r.verdict).toBe('suspicious');
    expect(flagCodes(r, 'suspicious')).toEqual(expect.arrayContaining(['processes_started', 'threads_started']));
    // That the sandbox is stopped while the baseline runs is shown deterministically in isolation.test.ts.
  });
});
