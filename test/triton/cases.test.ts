/**
 * Slow: a client-written case is run once in a PyTorch process before it is saved.
 *
 * triton_cases and triton_create_case over MCP: the built-in examples, extra roots, and a
 * client-written case validated by running it once before it is saved (no partial writes).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { BUILTIN_CASES, FIXTURE_CASES, PYTHON, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call, server } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const home = server.runtime.config.home;

const MODEL = `
import torch
from torch import nn

class Model(nn.Module):
    """Scaled tanh."""
    def __init__(self, scale: float = 2.0):
        super().__init__()
        self.scale = scale

    def forward(self, x, bias=None):
        return torch.tanh(x * self.scale) + bias
`;
const MANIFEST = JSON.stringify({
  description: 'tanh(scale * x) + bias',
  model: { class: 'Model', init_kwargs: { scale: 1.5 } },
  device: 'cpu',
  inputs: { args: [{ name: 'x', shape: [64, 128], dtype: 'float32', layout: 'transposed' }], kwargs: { bias: { value: 0.25 } } },
  tolerances: { float32: { atol: 1e-6 } },
});

describe.skipIf(skip)('triton_cases', () => {
  it('lists the built-in examples with their candidates, and the roots in search order', async () => {
    const r = (await call('triton_cases', { action: 'list' })).structuredContent as Record<string, any>;
    expect(r.roots).toEqual([join(home, 'cases'), BUILTIN_CASES]);
    const names = r.cases.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['softmax', 'rmsnorm', 'linear_bias_gelu']));
    const softmax = r.cases.find((c: { name: string }) => c.name === 'softmax');
    expect(softmax).toMatchObject({ valid: true, device: 'cuda', inputs: [{ name: 'x', shape: [1024, 1024], small_shape: [8, 64], dtype: 'float32' }] });
    expect(softmax.candidates.map((p: string) => p.split('/').pop())).toEqual(['torch_softmax.py', 'triton_softmax.py']);
  });

  it('shows a case with its manifest and model source', async () => {
    const r = (await call('triton_cases', { action: 'show', case: 'rmsnorm' })).structuredContent as Record<string, any>;
    expect(r.case.model).toEqual({ file: 'model.py', class: 'Model', init_kwargs: { hidden: 1024, eps: 1e-6 } });
    expect(r.case.model_source).toContain('class Model(nn.Module)');
    expect(r.case.manifest_yaml).toContain('layout: strided');
    expect(r.case.inputs[0].layout).toBe('strided');
  });

  it('searches cases_dir first', async () => {
    const r = (await call('triton_cases', { action: 'list', cases_dir: FIXTURE_CASES })).structuredContent as Record<string, any>;
    expect(r.roots[0]).toBe(FIXTURE_CASES);
    expect(r.cases.find((c: { name: string }) => c.name === 'slow_softmax')?.root).toBe(FIXTURE_CASES);
  });

  it('refuses show without a case, and an unknown case', async () => {
    expect(textOf(await call('triton_cases', { action: 'show' }))).toMatch(/show needs case/);
    expect(textOf(await call('triton_cases', { action: 'show', case: 'missing' }))).toMatch(/No case named 'missing'/);
    expect(textOf(await call('triton_cases', { action: 'list', cases_dir: '/nonexistent' }))).toMatch(/cases_dir \/nonexistent is not a directory/);
  });
});

describe.skipIf(skip)('triton_create_case', () => {
  it('validates by running the case once, saves it under <home>/cases, and it can be verified', async () => {
    const r = await call('triton_create_case', { name: 'scaled_tanh', model_source: MODEL, manifest: MANIFEST });
    expect(r.isError, textOf(r)).toBeFalsy();
    const created = r.structuredContent as Record<string, any>;
    expect(created).toMatchObject({ name: 'scaled_tanh', path: join(home, 'cases', 'scaled_tanh'), replaced_backup: null });
    expect(created.validation).toMatchObject({ device: 'cpu', structure: 'tensor', outputs: [{ shape: [64, 128], dtype: 'float32' }], inputs: [{ shape: [64, 128], contiguous: false }] });
    const listed = (await call('triton_cases', { action: 'list' })).structuredContent as Record<string, any>;
    expect(listed.cases.find((c: { name: string }) => c.name === 'scaled_tanh')?.root).toBe(join(home, 'cases'));

    const result = await verify(call, {
      case: 'scaled_tanh',
      candidate: 'import torch\nclass ModelNew(torch.nn.Module):\n    def __init__(self, scale=2.0):\n        super().__init__(); self.scale = scale\n    def forward(self, x, bias=None):\n        return torch.tanh(self.scale * x) + bias\n',
      bench: false,
    });
    expect(result.verdict).toBe('correct');
    expect(result.tolerances.float32).toEqual({ atol: 1e-6, rtol: 1e-4 });
  });

  it('refuses a second case of the same name unless replace is set, and keeps a backup when replacing', async () => {
    const again = await call('triton_create_case', { name: 'scaled_tanh', model_source: MODEL, manifest: MANIFEST });
    expect(textOf(again)).toMatch(/already exists[\s\S]*replace: true/);
    const replaced = await call('triton_create_case', { name: 'scaled_tanh', model_source: MODEL, manifest: MANIFEST, replace: true });
    const backup = (replaced.structuredContent as { replaced_backup: string }).replaced_backup;
    expect(backup).toMatch(/cases-backup\/scaled_tanh-/);
    expect(existsSync(join(backup, 'model.py'))).toBe(true);
    const builtin = await call('triton_create_case', { name: 'softmax', model_source: MODEL, manifest: MANIFEST, replace: true });
    expect(textOf(builtin)).toMatch(/built-in and configured cases cannot be replaced/);
  });

  const invalid: [string, string, string, RegExp][] = [
    ['a zero dimension', MODEL, MANIFEST.replace('[64,128]', '[0,128]'), /inputs.args\[0\].shape must be a non-empty list of positive integers/],
    ['an unknown dtype', MODEL, MANIFEST.replace('"float32"', '"float8"'), /inputs.args\[0\].dtype 'float8' is not supported/],
    ['a constant-normal distribution', MODEL, MANIFEST.replace('"layout"', '"distribution":{"kind":"normal","std":0},"layout"'), /std must be positive: constant inputs let wrong kernels pass/],
    ['a class that is not there', MODEL, MANIFEST.replace('"class":"Model"', '"class":"Missing"'), /model.py defines no 'Missing'/],
    ['a forward that raises', MODEL.replace('+ bias', '+ bias.nope'), MANIFEST, /forward raised AttributeError/],
    ['YAML that does not parse', MODEL, 'inputs: [', /not valid YAML/],
  ];
  it.each(invalid)('refuses %s, naming the field, and writes nothing', async (_what, model, manifest, message) => {
    const r = await call('triton_create_case', { name: 'broken_case', model_source: model, manifest });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
    expect(existsSync(join(home, 'cases', 'broken_case'))).toBe(false);
    expect(readdirSync(join(home, 'cache', 'triton', 'staging'))).toEqual([]);
  });

  it('refuses an invalid name before running anything', async () => {
    expect(textOf(await call('triton_create_case', { name: '../escape', model_source: MODEL, manifest: MANIFEST }))).toMatch(/not a valid case name/);
  });
});
