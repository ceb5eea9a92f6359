/**
 * Slow: real triton_verify runs in interpret mode over every shape variant.
 *
 * Interpret mode (TRITON_INTERPRET=1) with the stand-in triton package (test/fixtures/triton/fake-
 * triton: importable, no kernels) on a pure-PyTorch candidate: the same sandbox, every shape
 * variant of the manifest checked (issue 10: "every manifest shape in every mode"), never timed.
 * The real Triton interpreter path is in gpu.test.ts (needs triton).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, FIXTURES, HONEST, PYTHON, VERIFY_TIMEOUT, check, skipReason, verify } from './helpers.js';

// Read by the probe, bound into the sandbox and passed to it (before the server starts).
process.env.PYTHONPATH = join(FIXTURES, 'fake-triton');
const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });

const SEES_INTERPRET = `import os
import torch
import triton
from torch import nn

assert os.environ.get("TRITON_INTERPRET") == "1", "not in interpret mode"
assert triton.__version__.endswith("tuneloop-fake")


class ModelNew(nn.Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.exp(x - torch.logsumexp(x, dim=self.dim, keepdim=True))
`;

describe.skipIf(skip)('interpret mode', () => {
  it('checks every shape variant in the sandbox with TRITON_INTERPRET=1, and does not time', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate: SEES_INTERPRET, interpret: true });
    expect(r).toMatchObject({ verdict: 'correct', interpret: true, isolation: 'bwrap', timing: null, shape_variants: ['main', 'small'] });
    expect(r.notes.join(' ')).toMatch(/TRITON_INTERPRET=1 timings say nothing/);
  });

  it('a kernel right for the main shape only fails there too', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, 'c6_main_shape_only.py'), interpret: true });
    expect(r.verdict).toBe('incorrect');
    expect(check(r, 'allclose').detail).toMatch(/^small\/seed0/);
  });

  it('honest candidates of the fixture cases pass in interpret mode', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await verify(call, { case: 'log_relu', cases_dir: join(FIXTURES, 'cases'), candidate_path: join(HONEST, 'log_relu.py'), interpret: true });
    expect(r.verdict).toBe('correct');
  });
});
