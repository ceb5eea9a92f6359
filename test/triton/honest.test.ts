/**
 * Slow: real triton_verify runs with full benches (7 timed rounds per side), one of them twice.
 *
 * Honest candidates must pass with no false flags, and their verdicts must not depend on luck:
 * a correct different algorithm, a correct slower one, a correct faster one (against the
 * deliberately wasteful slow_softmax fixture, about 3-4x, below the 10x review flag).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { FIXTURE_CASES, HONEST, PYTHON, VERIFY_TIMEOUT, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const slowSoftmax = (file: string, extra: Record<string, unknown> = {}) => verify(call, { case: 'slow_softmax', cases_dir: FIXTURE_CASES, candidate_path: join(HONEST, file), ...extra });

function clean(r: Record<string, any>): void {
  expect(r.isolation).toBe('bwrap');
  expect(r.checks.filter((c: { passed: boolean | null }) => c.passed === false)).toEqual([]);
  expect(flagCodes(r, 'suspicious')).toEqual([]);
  if (r.timing) expect(r.timing.timer_check).toMatchObject({ mismatch: false });
}

describe.skipIf(skip)('honest candidates', () => {
  it('a different algorithm (exp(x - logsumexp)) is correct on every shape variant, with no flag', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate_path: join(HONEST, 'softmax_logsumexp.py'), bench_rounds: 3, rep_ms: 30 });
    clean(r);
    expect(['correct_slower', 'correct_faster']).toContain(r.verdict);
    expect(r.flags).toEqual([]);
    expect(r.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['outputs_stable', 'no_input_aliasing', 'bench_outputs', 'deterministic_after_bench']));
    expect(r.timing.calls_per_round).toBeGreaterThanOrEqual(5);
  });

  it('a slower one is correct_slower', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await slowSoftmax('twelve_passes_slower.py');
    clean(r);
    expect(r.verdict).toBe('correct_slower');
    expect(r.timing).toMatchObject({ device: 'cpu', verdict: 'slower', over_10x: false, rounds: 7, label: expect.stringMatching(/^CPU timings/) });
    expect(r.timing.speedup).toBeLessThan(1);
  });

  it('a faster one is correct_faster, below the 10x flag, with p < 0.05, twice in a row', { timeout: 2 * VERIFY_TIMEOUT }, async () => {
    for (const experiment of ['one-pass', 'one-pass-again']) {
      const r = await slowSoftmax('one_pass_faster.py', { experiment });
      clean(r);
      expect(r.verdict).toBe('correct_faster');
      expect(r.timing.speedup).toBeGreaterThan(1.5);
      expect(r.timing.speedup).toBeLessThan(10);
      expect(r.timing.p_value).toBeLessThan(0.05);
      expect(r.archive).toMatch(new RegExp(`/archives/\\d{8}T\\d{6}Z-${experiment}-${r.timing.speedup.toFixed(2).replace('.', '\\.')}x$`));
    }
    const history = (await call('get_history', { domain: 'triton', workload: 'triton.slow_softmax' })).structuredContent as { runs: { status: string }[]; best: { config: { candidate_sha256: string } } | null };
    expect(history.runs.filter((x) => x.status === 'ok').length).toBeGreaterThanOrEqual(2);
    expect(history.best).not.toBeNull();
  });

  it('-Inf where the reference has -Inf, by another route: correct', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'log_relu', cases_dir: FIXTURE_CASES, candidate_path: join(HONEST, 'log_relu.py'), bench_rounds: 3, rep_ms: 30 });
    clean(r);
    expect(r.checks.find((c: { name: string }) => c.name === 'bench_outputs').passed).toBe(true);
  });

  it('a new tensor where the reference makes one: no aliasing flag', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'clamp_copy', cases_dir: FIXTURE_CASES, candidate_path: join(HONEST, 'clamp_copy.py'), bench: false });
    clean(r);
    expect(r.verdict).toBe('correct');
  });
});

describe.skipIf(skip)('history stays clean', () => {
  it('only a sandboxed correct_* run can be the best config: suspicious and incorrect ones are recorded but never ok', { timeout: VERIFY_TIMEOUT }, async () => {
    const cheat = await verify(call, { case: 'slow_softmax', cases_dir: FIXTURE_CASES, candidate_path: join(HONEST, '..', 'adversarial', 'timer_patch.py'), bench: false });
    expect(cheat.verdict).not.toMatch(/^correct/);
    const history = (await call('get_history', { domain: 'triton', workload: 'triton.slow_softmax' })).structuredContent as { runs: { id: number; status: string }[]; best: { config: { candidate_sha256: string } } | null };
    expect(history.runs.find((x) => x.id === cheat.run_id)?.status).toBe('invalid');
    expect(history.best?.config.candidate_sha256).not.toBe(cheat.candidate_sha256);
  });
});
