/**
 * The bridge to the harness: one JSON document or nothing trusted, stage timeouts that kill the
 * process group, and an environment without tuneloop's own variables. Real child processes; a
 * fake interpreter (test/fixtures/triton/bin/fake-harness) stands in where the real one cannot
 * be made to misbehave on purpose.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { parseDocument, requireResult, runPhase } from '../../src/triton/harness.js';
import { pidsMatching } from '../helpers/proc.js';
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

  it('kills the process group when a stage runs past its limit, and says which stage', async () => {
    const started = Date.now();
    const outcome = await runPhase(fake, 'check', [], { timeoutMs: 60_000, stage: { from: 'import', until: 'compiled', timeoutMs: 500 } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome).toMatchObject({ stageTimedOut: 'import', timedOut: false, canceled: false, result: null });
    expect(pidsMatching('sleep 1000')).toEqual([]);
  });

  it('does not trust a result channel with two documents', async () => {
    const outcome = await runPhase(fake, 'bench', [], { timeoutMs: 10_000, stage: { from: 'import', until: 'compiled', timeoutMs: 500 } });
    expect(outcome).toMatchObject({ exitCode: 0, result: null, stageTimedOut: null, channelProblem: expect.stringMatching(/2 lines on the result channel/) });
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
    expect(outcome.result).toMatchObject({ torch: expect.stringMatching(/^\d/), cuda_available: expect.any(Boolean), harness: '1' });
  });
});
