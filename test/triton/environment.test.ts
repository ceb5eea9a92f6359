/** Device resolution and the triton/CUDA pre-checks, against probe results (no processes). */
import { describe, expect, it } from 'vitest';
import type { PythonProbe } from '../../src/core/probe.js';
import { importsTriton, requireCandidateRuntime, resolveDevice } from '../../src/triton/environment.js';
import { testConfig } from '../helpers/runtime.js';

const probe = (over: Partial<PythonProbe> = {}): PythonProbe => ({ name: 'python + torch', ok: true, detail: '', python: '3.11.2', torch: '2.4.0', triton: null, cuda: false, yaml: '6.0', ...over });
const config = testConfig({ TUNELOOP_PYTHON: '/usr/bin/python3' });

describe('importsTriton', () => {
  it.each([
    ['import triton\n', true],
    ['import triton.language as tl\n', true],
    ['from triton import jit\n', true],
    ['from triton.language import core\n', true],
    ['try:\n    import triton\nexcept ImportError:\n    triton = None\n', false],
    ['import tritonclient\n', false],
    ['# import triton\n', false],
  ])('%j -> %s', (source, expected) => {
    expect(importsTriton(source)).toBe(expected);
  });
});

describe('resolveDevice', () => {
  it('follows the case preference when CUDA is there, and says so when it falls back to the CPU', () => {
    expect(resolveDevice('auto', 'cuda', probe({ cuda: true }), false)).toEqual({ device: 'cuda', notes: [] });
    expect(resolveDevice('auto', 'cpu', probe({ cuda: true }), false).device).toBe('cpu');
    expect(resolveDevice('auto', 'cuda', probe(), false)).toEqual({ device: 'cpu', notes: [expect.stringMatching(/prefers CUDA.*CPU timings/)] });
  });

  it('refuses cuda without a GPU, and cuda in interpret mode', () => {
    expect(() => resolveDevice('cuda', 'auto', probe(), false)).toThrow(/sees no CUDA device/);
    expect(() => resolveDevice('cuda', 'auto', probe({ cuda: true }), true)).toThrow(/interpret mode runs Triton kernels on the CPU/);
    expect(resolveDevice('auto', 'cuda', probe({ cuda: true }), true).device).toBe('cpu');
  });
});

describe('requireCandidateRuntime', () => {
  const tritonSource = 'import triton\n';
  it('lets a pure-PyTorch candidate through anywhere', () => {
    expect(() => requireCandidateRuntime('import torch\n', 'cpu', false, probe(), config)).not.toThrow();
  });
  it('names triton when it is missing, CUDA when the GPU is missing, the device when CUDA is there', () => {
    expect(() => requireCandidateRuntime(tritonSource, 'cpu', false, probe(), config)).toThrow(/triton is not installed for \/usr\/bin\/python3, and this candidate imports it/);
    expect(() => requireCandidateRuntime(tritonSource, 'cpu', false, probe({ triton: '3.1.0' }), config)).toThrow(/need a GPU, and torch sees no CUDA device/);
    expect(() => requireCandidateRuntime(tritonSource, 'cpu', false, probe({ triton: '3.1.0', cuda: true }), config)).toThrow(/run is on the CPU/);
    expect(() => requireCandidateRuntime(tritonSource, 'cpu', true, probe({ triton: '3.1.0' }), config)).not.toThrow();
    expect(() => requireCandidateRuntime(tritonSource, 'cuda', false, probe({ triton: '3.1.0', cuda: true }), config)).not.toThrow();
  });
});
