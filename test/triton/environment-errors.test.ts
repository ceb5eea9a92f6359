/**
 * Slow-ish: each refusal is found by starting the Python it names (PyTorch imports included).
 * Missing torch, triton or CUDA each give a clear error naming what to install (issue 5, "Done
 * when"), before any job starts; bad arguments are refused with the field and the remedy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/core/probe.js';
import { connectInMemory, testConfig, textOf } from '../helpers/runtime.js';
import { BUILTIN_CASES, FIXTURES, PYTHON, facts, skipReason } from './helpers.js';

const TRITON_CANDIDATE = join(BUILTIN_CASES, 'softmax/candidates/triton_softmax.py');
const TORCH_CANDIDATE = join(BUILTIN_CASES, 'softmax/candidates/torch_softmax.py');
const PYENV_PYTHON = '/root/.pyenv/shims/python3';

describe('without torch', () => {
  it('triton_verify names PyTorch and how to install it (a python3 with no site-packages)', async () => {
    const { call } = await connectInMemory({ TUNELOOP_PYTHON: join(FIXTURES, 'bin/python-without-site') });
    const r = await call('triton_verify', { case: 'softmax', candidate_path: TORCH_CANDIDATE });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/PyTorch is not installed for .*python-without-site/);
    expect(textOf(r)).toMatch(/Remedy: pip install torch .*apt-get install python3-torch.*TUNELOOP_PYTHON/);
    const listed = await call('triton_cases', { action: 'list' });
    expect(textOf(listed)).toMatch(/PyYAML is not importable.*\nRemedy: pip install pyyaml/);
  });

  it.skipIf(!existsSync(PYENV_PYTHON) || hasTorch(PYENV_PYTHON))('triton_profile says the same for the pyenv python3 that lacks torch', async () => {
    const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYENV_PYTHON });
    const r = await call('triton_profile', { case: 'softmax' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/PyTorch is not installed for \/root\/.pyenv\/shims\/python3/);
  });

  it('a missing interpreter is named with TUNELOOP_PYTHON', async () => {
    const { call } = await connectInMemory({ TUNELOOP_PYTHON: '/nonexistent/python3' });
    const r = await call('triton_verify', { case: 'softmax', candidate_path: TORCH_CANDIDATE });
    expect(textOf(r)).toMatch(/did not run: \/nonexistent\/python3 not found[\s\S]*TUNELOOP_PYTHON/);
  });
});

describe.skipIf(skipReason({}))('with torch, without triton or CUDA', () => {
  it.skipIf(facts.triton)('a Triton candidate names triton and pip install triton', async () => {
    const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
    const r = await call('triton_verify', { case: 'softmax', candidate_path: TRITON_CANDIDATE });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/triton is not installed for .*, and this candidate imports it[\s\S]*Remedy: pip install triton/);
    const interpret = await call('triton_verify', { case: 'softmax', candidate_path: TORCH_CANDIDATE, interpret: true });
    expect(textOf(interpret)).toMatch(/triton is not installed .*interpret mode/);
  });

  it.skipIf(facts.cuda)('device "cuda" without a GPU names what CUDA needs', async () => {
    const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
    const r = await call('triton_verify', { case: 'softmax', candidate_path: TORCH_CANDIDATE, device: 'cuda' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/device "cuda" was requested, but torch .* sees no CUDA device[\s\S]*Remedy: run tuneloop on a host with an NVIDIA GPU/);
  });

  it.skipIf(facts.cuda)('a Triton candidate with triton present but no GPU points to interpret mode', async () => {
    process.env.PYTHONPATH = join(FIXTURES, 'fake-triton'); // inherited by the probe and the harness
    try {
      const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
      const r = await call('triton_verify', { case: 'softmax', candidate_path: TRITON_CANDIDATE });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/imports triton, whose kernels need a GPU, and torch sees no CUDA device[\s\S]*interpret: true/);
    } finally {
      delete process.env.PYTHONPATH;
    }
  });

  it('tuneloop doctor reports the same interpreter facts the tools use', async () => {
    const rows = (await runDoctor(testConfig({ TUNELOOP_PYTHON: PYTHON }))).filter((r) => r.toolset === 'triton');
    expect(rows.find((r) => r.name === 'python + torch')).toMatchObject({ ok: true, detail: expect.stringMatching(/torch \d/) });
    expect(rows.find((r) => r.name === 'PyYAML')).toMatchObject({ ok: true });
    expect(rows.find((r) => r.name === 'triton')?.ok).toBe(facts.triton);
  });
});

const shared = facts.torch ? await connectInMemory({ TUNELOOP_PYTHON: PYTHON }) : null;

describe.skipIf(skipReason({}))('bad arguments', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['neither candidate nor candidate_path', { case: 'softmax' }, /No candidate: pass candidate \(source\) or candidate_path/],
    ['both candidate and candidate_path', { case: 'softmax', candidate: 'x = 1', candidate_path: TORCH_CANDIDATE }, /Give candidate or candidate_path, not both/],
    ['an unreadable candidate_path', { case: 'softmax', candidate_path: '/nonexistent.py' }, /candidate_path \/nonexistent.py cannot be read: ENOENT/],
    ['an unknown case', { case: 'nope', candidate: 'x = 1' }, /No case named 'nope'[\s\S]*triton_cases/],
    ['a tolerance for a non-float dtype', { case: 'softmax', candidate: 'x = 1', tolerances: { int32: { atol: 1 } } }, /tolerances.int32: not a floating dtype/],
    ['compile_timeout_s above check_timeout_s', { case: 'softmax', candidate: 'x = 1', compile_timeout_s: 100, check_timeout_s: 50 }, /compile_timeout_s \(100\) exceeds check_timeout_s \(50\)/],
    ['an unknown workload', { case: 'softmax', candidate: 'x = 1', workload: 'nope' }, /No workload "nope"/],
    ['an unknown argument', { case: 'softmax', candidate: 'x = 1', seed: 3 }, /Unknown argument\(s\) "seed"/],
  ];
  it.each(cases)('refuses %s', async (_name, args, message) => {
    const r = await shared!.call('triton_verify', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });
});

function hasTorch(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch'], { timeout: 30_000 }).status === 0;
}
