/**
 * Slow: every candidate is a real triton_verify run (check and bench processes importing torch).
 *
 * Cheats whose outputs are right (they patch the timer, or get the answer from the reference) must
 * come out `suspicious`, with the runtime observation and the static pattern that caught them; and
 * honest candidates must come out correct_slower / correct_faster with CPU-labelled timings.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, FIXTURE_CASES, PYTHON, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const run = (file: string, extra: Record<string, unknown> = {}) => verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), ...extra });
const allPassed = (r: Record<string, any>) => r.checks.every((c: { passed: boolean | null }) => c.passed !== false);

describe.skipIf(skip)('triton_verify flags cheats that produce right answers', () => {
  it('flags a patched timer at run time (in the check and the bench process) and in the source', async () => {
    const r = await run('timer_patch.py', { bench_rounds: 3, rep_ms: 20 });
    expect(allPassed(r)).toBe(true);
    expect(r.verdict).toBe('suspicious');
    const patched = r.flags.filter((f: { code: string }) => f.code === 'patched_functions');
    expect(patched.map((f: { source: string }) => f.source).sort()).toEqual(['bench', 'runtime']);
    expect(patched[0].detail).toContain('time.perf_counter');
    expect(flagCodes(r, 'suspicious')).toContain('timer_patch');
    // The harness bound its timer before the candidate loaded: the numbers are real, the patch did not shrink them.
    expect(r.timing.candidate.median).toBeGreaterThan(r.timing.baseline.median / 5);
  });

  it('flags a candidate that imports the case\'s reference model.py', async () => {
    const r = await run('calls_reference.py', { bench: false });
    expect(allPassed(r)).toBe(true);
    expect(r.verdict).toBe('suspicious');
    const access = r.flags.find((f: { code: string }) => f.code === 'reference_access');
    expect(access).toMatchObject({ severity: 'suspicious', source: 'runtime', detail: expect.stringContaining('model.py') });
    expect(flagCodes(r, 'suspicious')).toEqual(expect.arrayContaining(['dynamic_code', 'file_access']));
  });

  it('flags a candidate that reads the reference\'s saved outputs', async () => {
    const r = await run('reads_expected.py', { bench: false });
    expect(allPassed(r)).toBe(true);
    expect(r.verdict).toBe('suspicious');
    expect(r.flags.find((f: { code: string }) => f.code === 'reference_access')?.detail).toContain('expected.pt');
  });
});

describe.skipIf(skip)('triton_verify times honest candidates (CPU timings, labelled)', () => {
  it('says correct_slower for a correct candidate that is slower than the baseline', async () => {
    const r = await verify(call, { case: 'slow_softmax', cases_dir: FIXTURE_CASES, candidate_path: join(ADVERSARIAL, 'slower.py') });
    expect(r.verdict).toBe('correct_slower');
    expect(r.timing).toMatchObject({ device: 'cpu', verdict: 'slower', over_10x: false, label: expect.stringMatching(/^CPU timings/) });
    expect(r.timing.speedup).toBeLessThan(1);
    expect(r.timing.baseline.rounds_ms).toHaveLength(7);
  });

  it('says correct_faster for a correct candidate that is significantly faster, below the 10x flag', async () => {
    const r = await verify(call, { case: 'slow_softmax', cases_dir: FIXTURE_CASES, candidate_path: join(ADVERSARIAL, 'faster.py'), experiment: 'one-pass' });
    expect(r.verdict).toBe('correct_faster');
    expect(r.timing.verdict).toBe('faster');
    expect(r.timing.speedup).toBeGreaterThan(1.5);
    expect(r.timing.speedup).toBeLessThan(10);
    expect(r.timing.p_value).toBeLessThan(0.05);
    expect(r.archive).toMatch(new RegExp(`/archives/\\d{8}T\\d{6}Z-one-pass-${r.timing.speedup.toFixed(2).replace('.', '\\.')}x$`));
  });
});
