/**
 * What only a GPU (and triton) can show: the Triton candidates of the example cases, compile
 * metadata (registers, spills, shared memory, PTX), CUDA timings with do_bench, the side-stream
 * cheat and a Triton compile error. Skipped, with the reason printed, where torch sees no CUDA or
 * triton is missing; interpret mode needs triton only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, BUILTIN_CASES, PYTHON, check, flagCodes, skipReason, verify } from './helpers.js';

const gpu = skipReason({ cuda: true, triton: true });
const interpret = skipReason({ triton: true });
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });

const TRITON_CANDIDATES = [
  ['softmax', 'triton_softmax.py'],
  ['rmsnorm', 'triton_rmsnorm.py'],
  ['linear_bias_gelu', 'triton_linear_bias_gelu.py'],
] as const;

describe.skipIf(gpu)('on a GPU', () => {
  it.each(TRITON_CANDIDATES)('%s / %s verifies, with compile metadata and CUDA timings', async (name, file) => {
    const r = await verify(call, { case: name, candidate_path: join(BUILTIN_CASES, name, 'candidates', file) });
    expect(['correct_faster', 'correct_slower'], r.verdict_reasons.join('\n')).toContain(r.verdict);
    expect(r.device).toBe('cuda');
    expect(r.timing).toMatchObject({ device: 'cuda', method: 'cuda events per call' });
    expect(r.timing.timer_check.mismatch).toBe(false);
    expect(r.compile.kernels.length).toBeGreaterThan(0);
    const kernel = r.compile.kernels[0];
    expect(kernel.n_regs).toBeGreaterThan(0);
    expect(kernel.num_warps).toBeGreaterThan(0);
    expect(kernel.asm_path && existsSync(kernel.asm_path)).toBeTruthy();
    expect(existsSync(join(r.archive, 'compile.json'))).toBe(true);
  });

  it('rejects work left running on a side stream', async () => {
    const r = await verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, 'gpu_side_stream.py') });
    expect(['incorrect', 'suspicious']).toContain(r.verdict);
    expect(flagCodes(r, 'suspicious')).toContain('streams');
    if (r.timing) expect(flagCodes(r, 'suspicious')).toContain('timer_mismatch');
  });

  it('returns a Triton compile error verbatim, with its location in the kernel', async () => {
    const r = await verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, 'gpu_triton_compile_error.py') });
    expect(r.verdict).toBe('compile_error');
    expect(r.errors[0].type).toMatch(/CompilationError/);
    expect(r.errors[0].message).toMatch(/at \d+:\d+/);
  });
});

describe.skipIf(interpret)('TRITON_INTERPRET=1 on the CPU', () => {
  it('checks the Triton softmax on every shape of the manifest and never times it', { timeout: 600_000 }, async () => {
    const r = await verify(call, { case: 'softmax', candidate_path: join(BUILTIN_CASES, 'softmax/candidates/triton_softmax.py'), interpret: true });
    expect(r.verdict).toBe('correct');
    expect(r.interpret).toBe(true);
    expect(r.shape_variants).toEqual(['main', 'small']);
    expect(r.timing).toBeNull();
    expect(check(r, 'allclose').passed).toBe(true);
    expect(r.notes.join(' ')).toMatch(/TRITON_INTERPRET=1 timings say nothing/);
  });
});
