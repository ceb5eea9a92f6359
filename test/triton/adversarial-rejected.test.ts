/**
 * Slow: every cheat is a real triton_verify run, several Python processes each importing torch.
 *
 * Cheating candidates (test/fixtures/triton/adversarial/README.md) run for real through
 * triton_verify over MCP on the CPU: each must be rejected, and by the check that is meant to catch
 * it. Issue 5: "rejects every CPU-applicable cheat".
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { ADVERSARIAL, PYTHON, check, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call, server } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const cheat = (file: string, extra: Record<string, unknown> = {}) => verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), ...extra });

describe.skipIf(skip)('triton_verify rejects cheats', () => {
  it('rejects torch.empty output: uninitialized memory never equals the answer, which the check process never holds', async () => {
    const r = await cheat('uninitialized_output.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(false);
    expect(r.outputs[0].mismatches).toBeGreaterThan(0);
    expect(r.run_id).toBeGreaterThan(0);
  });

  it('rejects a candidate that computes in its input tensor', async () => {
    const r = await cheat('mutates_input.py');
    expect(r.verdict).toBe('incorrect');
    const mutation = check(r, 'inputs_unchanged');
    expect(mutation.passed).toBe(false);
    expect(mutation.detail).toMatch(/modified in place/);
  });

  it('rejects a constant (first-answer-forever) output through other seeds and the sensitivity check', async () => {
    const r = await cheat('constant_output.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(false);
    expect(check(r, 'sensitive').passed).toBe(false);
  });

  it('rejects a cache keyed by data pointer: only new data in the same buffers exposes it', async () => {
    const r = await cheat('pointer_cache.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    expect(check(r, 'deterministic').passed).toBe(true);
    expect(check(r, 'fresh_data_same_buffers').passed).toBe(false);
  });

  it('rejects work finished on another thread after forward returned, and flags the thread', async () => {
    const r = await cheat('other_thread.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'synchronous').passed).toBe(false);
    expect(check(r, 'allclose').passed).toBe(false);
    expect(flagCodes(r, 'suspicious')).toEqual(expect.arrayContaining(['threads_started', 'threads']));
  });

  it('rejects a silent float16 round trip through the precision check', async () => {
    const r = await cheat('fp16_downcast.py');
    expect(r.verdict).toBe('incorrect');
    const precision = check(r, 'precision');
    expect(precision.passed).toBe(false);
    expect(precision.detail).toMatch(/representable in float16/);
    expect(flagCodes(r, 'warning')).toContain('reduced_precision');
  });

  it('rejects noise below the tolerance by requiring bitwise-identical reruns', async () => {
    const r = await cheat('nondeterministic.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(true);
    expect(check(r, 'deterministic').passed).toBe(false);
    // With allow_nondeterminism the same noise is within tolerance: the verdict changes, the run says why.
    const allowed = await cheat('nondeterministic.py', { allow_nondeterminism: true, bench: false });
    expect(check(allowed, 'deterministic')).toMatchObject({ passed: true, detail: expect.stringMatching(/allow_nondeterminism/) });
    expect(allowed.verdict).toBe('correct');
  });

  it('reports a syntax error as compile_error with its location', async () => {
    const r = await cheat('syntax_error.py');
    expect(r.verdict).toBe('compile_error');
    expect(r.errors[0]).toMatchObject({ phase: 'check', stage: 'import', type: 'SyntaxError', location: { line: 9 } });
    expect(r.timing).toBeNull();
  });

  it('reports a raising forward as incorrect with the message verbatim', async () => {
    const r = await cheat('raises.py');
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'runs').passed).toBe(false);
    expect(r.errors[0]).toMatchObject({ type: 'RuntimeError', message: expect.stringContaining('illegal memory access was encountered'), location: { line: 9 } });
  });

  it('kills a hanging candidate at compile_timeout_s, with the child process it started', async () => {
    const r = await cheat('hangs.py', { compile_timeout_s: 8 });
    expect(r.verdict).toBe('incorrect');
    expect(r.errors[0]).toMatchObject({ stage: 'first call', type: 'Timeout', message: expect.stringMatching(/compile_timeout_s=8/) });
    expect(r.phases.find((p: { phase: string }) => p.phase === 'check')).toMatchObject({ timed_out: true, stage_timed_out: 'import' });
    expect(await waitFor(() => pidsMatching('sleep 3141').length === 0, 5000)).toBe(true);
    expect(pidsMatching(r.work_dir)).toEqual([]);
    const history = await call('get_history', { domain: 'triton', limit: 50 });
    const runs = (history.structuredContent as { runs: { id: number; status: string }[] }).runs;
    expect(runs.find((x) => x.id === r.run_id)?.status).toBe('timeout');
  });

  it('job_cancel stops a verify in the middle of a hang, and leaves no process behind', async () => {
    const started = (await call('triton_verify', { case: 'softmax', candidate_path: join(ADVERSARIAL, 'hangs.py'), wait_s: 0 })).structuredContent as { job_id: string };
    const jobDir = join(server.runtime.config.home, 'jobs', started.job_id);
    expect(await waitFor(() => pidsMatching('sleep 3141').length > 0, 60_000)).toBe(true);
    const canceled = (await call('job_cancel', { job_id: started.job_id })).structuredContent as { status: string };
    expect(canceled.status).toBe('canceled');
    expect(await waitFor(() => pidsMatching('sleep 3141').length === 0 && pidsMatching(jobDir).length === 0, 10_000)).toBe(true);
  });
});
