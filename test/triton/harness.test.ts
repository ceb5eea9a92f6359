/**
 * The bridge to the harness: one JSON document or nothing trusted for the one-shot phases; for the
 * long-lived ones, replies matched to their commands, every stray line recorded as a channel
 * problem, and a request deadline that kills the process tree; an environment without tuneloop's
 * own variables. Real child processes; a fake interpreter (test/fixtures/triton/bin/fake-harness)
 * stands in where the real one cannot be made to misbehave on purpose.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { parseDocument, requireResult, runPhase } from '../../src/triton/harness.js';
import { HarnessSession, SessionEnded } from '../../src/triton/session.js';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { testConfig } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURES, PYTHON, skipReason } from './helpers.js';

const fake = testConfig({ TUNELOOP_PYTHON: join(FIXTURES, 'bin/fake-harness') });

describe('parseDocument', () => {
  it.each([
    ['', 'no result document'],
    ['{"ok": true, "phase": "x", "result": {}}\n{"ok": true, "phase": "x", "result": {}}\n', '2 lines on the result channel'],
    ['Traceback (most recent call last):', 'the result is not JSON'],
    ['[1, 2]', 'the result is not a harness document'],
    ['{"ok": true, "phase": "x"}', 'the result document has no result'],
    ['{"ok": false, "phase": "x"}', 'the error document has no error'],
  ])('refuses %j', (stdout, problem) => {
    const parsed = parseDocument(stdout);
    expect(parsed.document).toBeNull();
    expect(parsed.problem).toContain(problem);
  });

  it('accepts exactly one document, blank lines aside', () => {
    expect(parseDocument('\n{"ok": true, "phase": "probe", "result": {"a": 1}}\n\n')).toEqual({ document: { ok: true, phase: 'probe', result: { a: 1 } }, problem: null });
  });
});

describe('HarnessSession', () => {
  it('takes the first reply to a command, records every other line as a channel problem, and kills a process that misses a deadline', async () => {
    const session = new HarnessSession(fake, 'candidate', [], { timeoutMs: 60_000 });
    expect(await session.event('ready', 10_000)).toMatchObject({ event: 'ready' });
    expect(await session.request('check', {}, 10_000)).toMatchObject({ reply: 1, answer: 'first' });
    await waitFor(() => session.problems.length >= 3, 5000);
    expect(session.problems).toEqual([
      'a reply to command 1, which was already answered',
      'a line that is not JSON: not json at all',
      'a reply to command 7, which was never sent',
    ]);
    const started = Date.now();
    const error = await session.request('round', {}, 500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionEnded);
    expect(error).toMatchObject({ reason: 'timeout', message: 'the reply to round did not come from the candidate process within 0.5 s' });
    expect(session.timedOut).toBe(true);
    await session.result;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pidsMatching('sleep 1000')).toEqual([]);
  });
});

describe('runPhase', () => {
  it('hands the harness its own TRITON_CACHE_DIR, no TUNELOOP_* variables, and TRITON_INTERPRET only on request', async () => {
    process.env.TUNELOOP_SECRET_TEST = 'x';
    try {
      const cache = join(tempDir(), 'triton-cache');
      const outcome = await runPhase<Record<string, unknown>>(fake, 'probe', [], { timeoutMs: 10_000, tritonCacheDir: cache, interpret: true });
      expect(outcome.result).toEqual({ tuneloop_vars: 0, triton_cache_dir: cache, interpret: '1', bytecode: '1' });
    } finally {
      delete process.env.TUNELOOP_SECRET_TEST;
    }
  });

  it('does not trust a result channel with two documents', async () => {
    const outcome = await runPhase(fake, 'profile', [], { timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ exitCode: 0, result: null, channelProblem: expect.stringMatching(/2 lines on the result channel/) });
  });

  it('turns an environment error into a UserError with the harness\'s remedy', async () => {
    const outcome = await runPhase(fake, 'cases', [], { timeoutMs: 10_000 });
    expect(outcome.exitCode).toBe(3);
    expect(() => requireResult(outcome, fake)).toThrow(UserError);
    expect(() => requireResult(outcome, fake)).toThrow('PyYAML is not importable');
  });

  it('names the interpreter when it cannot start', async () => {
    const missing = testConfig({ TUNELOOP_PYTHON: '/nonexistent/python3' });
    const outcome = await runPhase(missing, 'probe', [], { timeoutMs: 10_000 });
    expect(() => requireResult(outcome, missing)).toThrow(/The Python interpreter \/nonexistent\/python3 could not be started/);
  });

  it.skipIf(skipReason({}))('runs the real harness probe', async () => {
    const outcome = await runPhase<Record<string, unknown>>(testConfig({ TUNELOOP_PYTHON: PYTHON }), 'probe', [], { timeoutMs: 60_000 });
    expect(outcome.result).toMatchObject({ torch: expect.stringMatching(/^\d/), cuda_available: expect.any(Boolean), harness: '2' });
  });
});
