/**
 * Slow: a real triton_verify (PyTorch processes) through a real server process.
 *
 * triton_verify over real stdio against the built server: the harness's processes never write to
 * the server's stdout (the JSON-RPC channel), and a candidate's prints go to the job log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';
import { PYTHON, skipReason } from './helpers.js';

const NOISY = `import os, sys, torch
print("candidate says hello on stdout")
os.write(1, b"and on fd 1\\n")
class ModelNew(torch.nn.Module):
    def __init__(self, dim=-1):
        super().__init__(); self.dim = dim
    def forward(self, x):
        print("forward on stdout")
        return torch.softmax(x, self.dim)
`;

describe.skipIf(skipReason({}))('triton over stdio', () => {
  it('keeps stdout JSON-RPC only while a noisy candidate is verified', async () => {
    const { client, transport } = await startStdioServer(['serve', '--toolsets', 'triton'], { TUNELOOP_HOME: tempDir(), TUNELOOP_PYTHON: PYTHON });
    try {
      let view = (await client.callTool({ name: 'triton_verify', arguments: { case: 'softmax', candidate: NOISY, bench: false, wait_s: 50 } }, undefined, { timeout: 120_000 })).structuredContent as Record<string, any>;
      while (view.status === 'running') {
        view = (await client.callTool({ name: 'job_status', arguments: { job_id: view.job_id, wait_s: 50 } }, undefined, { timeout: 120_000 })).structuredContent as Record<string, any>;
      }
      expect(view.status, view.error).toBe('succeeded');
      expect(view.result.verdict).toBe('correct');
      expect(view.result.flags.map((f: { code: string }) => f.code)).not.toContain('result_channel_tampered');
      expect(view.log_tail.join('\n')).toContain('forward on stdout');
      expect(transport.badLines).toEqual([]);
      // The candidate's stdout was the check process's stderr: archived, never the result channel.
      expect(readFileSync(join(view.result.archive, 'harness', 'check.stderr.txt'), 'utf8')).toMatch(/candidate says hello on stdout\nand on fd 1/);
    } finally {
      await client.close();
      await transport.exited();
    }
  });
});
