/**
 * Triton verify: what a verification costs and whether its timing is fair.
 * - verify wall time with the reference cached, against a cold verify (reference built) in the
 *   same run: the cache should save the reference process on every later candidate;
 * - an A/A run: a candidate doing exactly what the baseline does must come out at ~1.0x, not
 *   faster (interleaved rounds, same process, same inputs).
 * Needs torch for TUNELOOP_PYTHON (default /usr/bin/python3); CPU timings here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/core/config.js';
import { createServer } from '../src/server.js';
import type { BenchFigure } from './lib.js';

const SAME_AS_BASELINE = `import torch
from torch import nn

class ModelNew(nn.Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)
`;

export async function run(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-triton-'));
  const server = createServer(loadConfig({}, { ...process.env, TUNELOOP_HOME: home, TUNELOOP_PYTHON: process.env.TUNELOOP_PYTHON || '/usr/bin/python3' }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.server.connect(b);
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(a);
  const verify = async (args: Record<string, unknown>) => {
    const started = performance.now();
    let view = (await client.callTool({ name: 'triton_verify', arguments: { case: 'softmax', wait_s: 50, ...args } }, undefined, { timeout: 600_000 })).structuredContent as Record<string, any>;
    while (view?.status === 'running') {
      view = (await client.callTool({ name: 'job_status', arguments: { job_id: view.job_id, wait_s: 50 } }, undefined, { timeout: 600_000 })).structuredContent as Record<string, any>;
    }
    if (view?.status !== 'succeeded') throw new Error(`verify failed: ${view?.error}`);
    return { seconds: (performance.now() - started) / 1000, result: view.result };
  };
  try {
    const cold = await verify({ candidate: SAME_AS_BASELINE, bench: false });
    const warm = await verify({ candidate: SAME_AS_BASELINE, bench: false, experiment: 'warm' });
    const aa = await verify({ candidate: SAME_AS_BASELINE, bench_rounds: 15, experiment: 'a-a' });
    const speedup = aa.result.timing.speedup as number;
    return [
      {
        name: 'verify without timing, reference cached',
        value: warm.seconds,
        unit: 's',
        baseline: { name: 'same verify building the reference', value: cold.seconds },
        target: 'ratio <= 0.8',
        met: warm.seconds / cold.seconds <= 0.8,
        note: `${warm.result.phases.length} harness processes when cached`,
      },
      {
        name: 'A/A speedup (candidate = baseline code), CPU',
        value: speedup,
        unit: 'x',
        baseline: { name: 'identical code', value: 1 },
        target: '0.95 <= speedup <= 1.05 and not called faster',
        met: speedup >= 0.95 && speedup <= 1.05 && aa.result.verdict !== 'correct_faster',
        note: `${aa.result.timing.verdict}, p=${aa.result.timing.p_value?.toPrecision(2)}, rounds cv ${aa.result.timing.baseline.cv?.toPrecision(2)} / ${aa.result.timing.candidate.cv?.toPrecision(2)}`,
      },
    ];
  } finally {
    await client.close();
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}
