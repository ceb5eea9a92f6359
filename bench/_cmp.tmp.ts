import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const repo = process.env.REPO!;
const { Client } = await import(`${repo}/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js`);
const { InMemoryTransport } = await import(`${repo}/node_modules/@modelcontextprotocol/sdk/dist/esm/inMemory.js`);
const { loadConfig } = await import(`${repo}/src/core/config.ts`);
const { createServer } = await import(`${repo}/src/server.ts`);
const SRC = `import torch
from torch import nn

class ModelNew(nn.Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)
`;
const home = mkdtempSync(join(tmpdir(), 'tl-cmp-'));
const server = createServer(loadConfig({}, { ...process.env, TUNELOOP_HOME: home, TUNELOOP_PYTHON: '/usr/bin/python3' }));
const [a, b] = InMemoryTransport.createLinkedPair();
await server.server.connect(b);
const client = new Client({ name: 'bench', version: '0' });
await client.connect(a);
const verify = async (args: Record<string, unknown>) => {
  const started = performance.now();
  let view = (await client.callTool({ name: 'triton_verify', arguments: { case: 'softmax', wait_s: 50, ...args } }, undefined, { timeout: 600_000 })).structuredContent as any;
  while (view?.status === 'running') view = (await client.callTool({ name: 'job_status', arguments: { job_id: view.job_id, wait_s: 50 } }, undefined, { timeout: 600_000 })).structuredContent as any;
  if (view?.status !== 'succeeded') throw new Error(view?.error);
  return (performance.now() - started) / 1000;
};
const torchImport = () => { const t = performance.now(); spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }); return (performance.now() - t) / 1000; };
await verify({ candidate: SRC, bench: false }); // build the reference
const out: Record<string, number[]> = { torch: [], nobench: [], bench: [] };
for (let i = 0; i < Number(process.env.N || 3); i++) {
  out.torch.push(torchImport());
  out.nobench.push(await verify({ candidate: SRC, bench: false, experiment: `n${i}` }));
  out.bench.push(await verify({ candidate: SRC, experiment: `b${i}` }));
}
console.log(JSON.stringify({ repo, ...out }));
await client.close(); await server.close(); rmSync(home, { recursive: true, force: true });
process.exit(0);
