/**
 * Slow: real triton_verify runs without a sandbox, one rebuilding a poisoned reference.
 *
 * Without a sandbox (TUNELOOP_SANDBOX=none: a host with neither bubblewrap nor unshare behaves the
 * same): verification still runs, every verdict says isolation none and carries the no_isolation
 * flag, and history never takes such a run as a best config. The cache is still checked on every
 * load, so a poisoning write that lands here is found and rebuilt. (Its own file: the sandbox
 * preference is per process.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { HONEST, PYTHON, VERIFY_TIMEOUT, fixtureSource, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const none = await connectInMemory({ TUNELOOP_PYTHON: PYTHON, TUNELOOP_SANDBOX: 'none' });
const noneCache = join(none.server.runtime.config.home, 'cache', 'triton', 'reference');

describe.skipIf(skip)('without a sandbox (TUNELOOP_SANDBOX=none): the same verdicts, flagged, never a best config', () => {
  it('says isolation none and flags no_isolation on every verdict', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(none.call, { case: 'softmax', candidate_path: join(HONEST, 'softmax_logsumexp.py'), bench: false });
    expect(r.isolation).toBe('none');
    expect(r.verdict).toBe('correct');
    expect(r.flags).toContainEqual(expect.objectContaining({ code: 'no_isolation', severity: 'warning', source: 'isolation' }));
    expect(r.verdict_reasons.join(' ')).toMatch(/no_isolation: the candidate ran without a sandbox/);
  });

  it('a poisoning write lands there, and the next verify finds the SHA-256 mismatch and rebuilds', { timeout: VERIFY_TIMEOUT }, async () => {
    const poisoned = await verify(none.call, { case: 'softmax', candidate: fixtureSource('c2_poisons_cache.py', { cache_dir: noneCache }), bench: false });
    expect(poisoned.isolation).toBe('none');
    expect(flagCodes(poisoned, 'suspicious')).toContain('reference_access'); // the audit saw it open the cache
    const r = await verify(none.call, { case: 'softmax', candidate_path: join(HONEST, 'softmax_logsumexp.py'), bench: false });
    expect(r.reference.integrity).toMatch(/expected\.pt: recorded .* found .*: it was rebuilt/);
    expect(r.verdict).toBe('correct');
  });

  it('records even a correct_faster run as invalid: it can never be the best config', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(none.call, { case: 'slow_softmax', cases_dir: join(HONEST, '..', 'cases'), candidate_path: join(HONEST, 'one_pass_faster.py') });
    expect(r.isolation).toBe('none');
    expect(['correct_faster', 'correct_slower']).toContain(r.verdict);
    const history = (await none.call('get_history', { domain: 'triton', workload: 'triton.slow_softmax' })).structuredContent as { runs: { id: number; status: string }[]; best: unknown };
    expect(history.runs.find((x) => x.id === r.run_id)?.status).toBe('invalid');
    expect(history.best).toBeNull();
  });
});
