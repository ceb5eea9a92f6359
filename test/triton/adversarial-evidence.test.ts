/**
 * Slow: every candidate is a real triton_verify; the cache tests build the reference more than once.
 *
 * Issue 10, classes 1 and 2, through MCP: evidence written by the candidate's own process, and the
 * reference cache. The candidate runs in a sandbox where the truth does not exist, so forging a
 * report or a file gains nothing; the cache is checked against the SHA-256 recorded when it was
 * written, so a changed file is rebuilt (and the verify says so), never trusted. The same without a
 * sandbox: isolation-none.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { HONEST, PYTHON, VERIFY_TIMEOUT, check, fixtureSource, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call, server } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const home = server.runtime.config.home;
const cacheDir = join(home, 'cache', 'triton', 'reference');
const honest = () => verify(call, { case: 'softmax', candidate_path: join(HONEST, 'softmax_logsumexp.py'), bench: false });
const withCache = (file: string) => fixtureSource(file, { cache_dir: cacheDir });
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const entries = () => readdirSync(cacheDir).filter((n) => n.startsWith('softmax-') && !n.includes('.tmp-'));

describe.skipIf(skip)('class 1: the candidate\'s process writes its own evidence', () => {
  it('builds the reference once, outside the sandbox; an honest candidate is correct', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await honest();
    expect(r.verdict).toBe('correct');
    expect(r.isolation).toBe('bwrap');
    expect(r.reference).toMatchObject({ cached: false, integrity: null });
    expect(r.shape_variants).toEqual(['main', 'small']);
    expect(entries()).toHaveLength(1);
  });

  it('a forged "all passed" reply and a forged outputs file, then os._exit at import: incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate: withCache('c1_forged_reply_exit.py'), bench: false });
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'runs').passed).toBe(false);
    expect(r.isolation).toBe('bwrap');
  });

  it('rewriting the outputs file from a thread and atexit, with the cache\'s truth it cannot find: incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate: withCache('c1_late_forgery.py'), bench: false });
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(false);
    expect(r.outputs[0].mismatches).toBeGreaterThan(0);
  });
});

describe.skipIf(skip)('class 2: the reference cache', () => {
  it('a candidate reading the cache finds nothing in its sandbox and is incorrect', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate: withCache('c2_reads_cache.py'), bench: false });
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').passed).toBe(false);
  });

  it('a candidate poisoning the cache cannot reach it: the cached file is unchanged and honest candidates stay correct', { timeout: VERIFY_TIMEOUT }, async () => {
    const expected = join(cacheDir, entries()[0], 'expected.pt');
    const before = sha(expected);
    const r = await verify(call, { case: 'softmax', candidate: withCache('c2_poisons_cache.py'), bench: false });
    // It computes the right answer; its write went nowhere; what it tried shows in its flags.
    expect(r.checks.filter((c: { passed: boolean | null }) => c.passed === false)).toEqual([]);
    expect(r.verdict).toBe('suspicious');
    expect(sha(expected)).toBe(before);
    const again = await honest();
    expect(again.verdict).toBe('correct');
    expect(again.reference).toMatchObject({ cached: true, integrity: null });
  });

  it.each(['expected.pt', 'meta.json', 'weights.pt'])('a changed %s fails its SHA-256 check: rebuilt, said so, and honest candidates stay correct', { timeout: VERIFY_TIMEOUT }, async (file) => {
    const path = join(cacheDir, entries()[0], file);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] ^= 0xff; // one flipped byte, as a poisoned or corrupted file
    writeFileSync(path, bytes);
    const r = await honest();
    expect(r.verdict).toBe('correct');
    expect(r.reference.cached).toBe(false);
    expect(r.reference.integrity).toMatch(new RegExp(`failed its SHA-256 check \\(${file.replace('.', '\\.')}: recorded [0-9a-f]{12}…, found [0-9a-f]{12}…\\): it was rebuilt`));
    expect(r.notes.join(' ')).toContain('failed its SHA-256 check');
    const next = await honest();
    expect(next.reference).toMatchObject({ cached: true, integrity: null });
  });

  it('an entry whose record is gone is rebuilt, not trusted', { timeout: VERIFY_TIMEOUT }, async () => {
    const db = new Database(join(home, 'tuneloop.db'));
    db.prepare("DELETE FROM triton_reference WHERE key LIKE 'softmax-%'").run();
    db.close();
    const r = await honest();
    expect(r.reference).toMatchObject({ cached: false, integrity: null });
    expect(r.verdict).toBe('correct');
  });
});
