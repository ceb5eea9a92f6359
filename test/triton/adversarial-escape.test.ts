/**
 * Slow: real triton_verify runs, some waiting out a hang or hundreds of megabytes of output.
 *
 * Issue 10, class 7, through MCP: escapes and bad input. A setsid grandchild dies with the sandbox
 * (its own PID namespace); a flood of output leaves the job log bounded on disk; a NUL byte or a
 * binary file is a compile_error with its position; a hang is killed at compile_timeout_s; cancel
 * stops everything; the tools that run client code say so in their annotations.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { ADVERSARIAL, PYTHON, VERIFY_TIMEOUT, check, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call, client, server } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const cheat = (file: string, extra: Record<string, unknown> = {}) => verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), bench: false, ...extra });

describe.skipIf(skip)('class 7: escapes and bad input', () => {
  it('a double-forked setsid grandchild does not outlive the verify', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('c7_setsid_escape.py');
    expect(r.isolation).toBe('bwrap');
    expect(r.flags.map((f: { code: string }) => f.code)).toContain('processes_started');
    expect(await waitFor(() => pidsMatching('sleep 2718').length === 0, 5000)).toBe(true);
  });

  it('hundreds of megabytes of output leave a bounded job log', { timeout: VERIFY_TIMEOUT }, async () => {
    const started = (await call('triton_verify', { case: 'softmax', candidate_path: join(ADVERSARIAL, 'c7_floods_output.py'), bench: false, wait_s: 0 })).structuredContent as { job_id: string };
    let view: Record<string, any> = { status: 'running' };
    while (view.status === 'running') view = (await call('job_status', { job_id: started.job_id, wait_s: 50 })).structuredContent as Record<string, any>;
    expect(view.status).toBe('succeeded');
    expect(view.result.verdict).toBe('correct');
    const log = join(server.runtime.config.home, 'jobs', started.job_id, 'log');
    expect(statSync(log).size).toBeLessThan(64 << 20); // it printed 300 MiB
  });

  it.each([
    ['c7_nul_byte.py', /a NUL byte at line 6, column \d+/],
    ['c7_binary.py', /a NUL byte at line 1, column \d+|bytes that are not UTF-8/],
  ])('%s is a compile_error that says where', { timeout: VERIFY_TIMEOUT }, async (file, message) => {
    const r = await cheat(file);
    expect(r.verdict).toBe('compile_error');
    expect(r.errors[0]).toMatchObject({ phase: 'check', stage: 'import', type: 'SyntaxError', message: expect.stringMatching(message) });
    expect(check(r, 'runs').passed).toBe(false);
  });

  it('a NUL byte in an inline candidate too', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate: 'import torch\nx = 1\0\n', bench: false });
    expect(r.verdict).toBe('compile_error');
    expect(r.errors[0].message).toMatch(/not Python source text: a NUL byte at line 2, column 6/);
  });

  it('a syntax error is a compile_error with its location', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('syntax_error.py');
    expect(r.verdict).toBe('compile_error');
    expect(r.errors[0]).toMatchObject({ phase: 'check', stage: 'import', type: 'SyntaxError', location: { line: 9 } });
  });

  it('a raising forward is incorrect, with the message verbatim', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('raises.py');
    expect(r.verdict).toBe('incorrect');
    expect(r.errors[0]).toMatchObject({ type: 'RuntimeError', message: expect.stringContaining('illegal memory access was encountered'), location: { line: 9 } });
  });

  it('a hang is killed at compile_timeout_s with everything it started; the run is recorded as a timeout', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await cheat('hangs.py', { compile_timeout_s: 8 });
    expect(r.verdict).toBe('incorrect');
    expect(r.errors[0]).toMatchObject({ stage: 'first call', type: 'Timeout', message: expect.stringMatching(/compile_timeout_s=8/) });
    expect(r.phases.find((p: { phase: string }) => p.phase === 'candidate')).toMatchObject({ timed_out: true, stage_timed_out: 'compile' });
    expect(await waitFor(() => pidsMatching('sleep 3141').length === 0, 5000)).toBe(true);
    const history = (await call('get_history', { domain: 'triton', limit: 50 })).structuredContent as { runs: { id: number; status: string }[] };
    expect(history.runs.find((x) => x.id === r.run_id)?.status).toBe('timeout');
  });

  it('job_cancel stops a verify in the middle of a hang and leaves no process behind', { timeout: VERIFY_TIMEOUT }, async () => {
    const started = (await call('triton_verify', { case: 'softmax', candidate_path: join(ADVERSARIAL, 'hangs.py'), wait_s: 0 })).structuredContent as { job_id: string };
    const jobDir = join(server.runtime.config.home, 'jobs', started.job_id);
    expect(await waitFor(() => pidsMatching('sleep 3141').length > 0, 120_000)).toBe(true);
    const canceled = (await call('job_cancel', { job_id: started.job_id })).structuredContent as { status: string };
    expect(canceled.status).toBe('canceled');
    expect(await waitFor(() => pidsMatching('sleep 3141').length === 0 && pidsMatching(jobDir).length === 0, 15_000)).toBe(true);
  });

  it('triton_verify and triton_profile say they run client code: destructive, open world', async () => {
    const tools = (await client.listTools()).tools.filter((t) => t.name === 'triton_verify' || t.name === 'triton_profile');
    expect(tools).toHaveLength(2);
    for (const tool of tools) expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
  });
});
