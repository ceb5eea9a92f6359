/**
 * Slow: every candidate is a real triton_verify (a trusted and a sandboxed PyTorch process).
 *
 * Issue 10, class 6, and the cheats of issue 5, through MCP: the checks cover what cheats exploit.
 * Every shape variant of the manifest in every mode, no output buffer shared between calls, no
 * output aliasing an input, determinism over repeats spread through the run, NaN/Inf positions,
 * inputs unchanged, uninitialized memory, constants, pointer caches, late writes, downcasts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, FIXTURE_CASES, PYTHON, VERIFY_TIMEOUT, check, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const cheat = (file: string, extra: Record<string, unknown> = {}) => verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), bench: false, ...extra });
const fixtureCase = (name: string, file: string) => verify(call, { case: name, cases_dir: FIXTURE_CASES, candidate_path: join(ADVERSARIAL, file), bench: false });

describe.skipIf(skip)('class 6: coverage', () => {
  it('a kernel right for the main shape only fails on the small one', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('c6_main_shape_only.py');
    expect(r.verdict).toBe('incorrect');
    expect(r.shape_variants).toEqual(['main', 'small']);
    expect(check(r, 'allclose').detail).toMatch(/^small\/seed0 output 0/);
  });

  it('one output buffer returned to every caller: an earlier result changes under the caller', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('c6_shared_buffer.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    expect(check(r, 'outputs_stable')).toMatchObject({ passed: false, detail: expect.stringMatching(/one buffer returned to every caller/) });
  });

  it('noise from the third call on: the repeats spread through the run differ', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('c6_late_noise.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    expect(check(r, 'deterministic')).toMatchObject({ passed: false, detail: expect.stringMatching(/main\/seed0#2 differs bitwise/) });
  });

  it('the input handed back as the output (right values, wrong kind) where the reference makes a new tensor', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await fixtureCase('clamp_copy', 'c6_aliases_input.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'no_input_aliasing')).toMatchObject({ passed: false, detail: expect.stringMatching(/share memory with the inputs/) });
  });

  it('a finite number where the answer is -Inf: NaN/Inf positions', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await fixtureCase('log_relu', 'c6_finite_for_inf.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'nan_inf_positions')).toMatchObject({ passed: false, detail: expect.stringMatching(/-Inf positions differ/) });
  });
});

describe.skipIf(skip)('the cheats of issue 5 stay caught', () => {
  it('torch.empty output: uninitialized memory never holds the answer, which the candidate\'s process never has', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('uninitialized_output.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(false);
  });

  it('computing in the input tensor', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('mutates_input.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'inputs_unchanged')).toMatchObject({ passed: false, detail: expect.stringMatching(/modified in place/) });
  });

  it('the first answer forever: other seeds and sensitivity', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('constant_output.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'sensitive').passed).toBe(false);
  });

  it('a cache keyed by data pointer: new data in the same buffers', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('pointer_cache.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'fresh_data_same_buffers').passed).toBe(false);
  });

  it('work finished by another thread after forward returned', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('other_thread.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'synchronous').passed).toBe(false);
    expect(flagCodes(r, 'suspicious')).toEqual(expect.arrayContaining(['threads_started', 'threads']));
  });

  it('a silent float16 round trip', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('fp16_downcast.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'precision')).toMatchObject({ passed: false, detail: expect.stringMatching(/representable in float16/) });
  });

  it('noise below the tolerance: bitwise reruns, unless allow_nondeterminism', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('nondeterministic.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'deterministic').passed).toBe(false);
    const allowed = await cheat('nondeterministic.py', { allow_nondeterminism: true });
    expect(check(allowed, 'deterministic')).toMatchObject({ passed: true, detail: expect.stringMatching(/allow_nondeterminism/) });
    expect(allowed.verdict).toBe('correct');
  });

  it('a patched global timer: the harness bound its own before the candidate loaded; flagged', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('timer_patch.py', { bench: true, bench_rounds: 3, rep_ms: 30 });
    expect(r.verdict).toBe('suspicious');
    expect(r.flags.find((f: { code: string }) => f.code === 'patched_functions')?.detail).toContain('time.perf_counter');
    expect(flagCodes(r, 'suspicious')).toContain('timer_patch');
  });
});
