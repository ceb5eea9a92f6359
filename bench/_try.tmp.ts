import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/core/config.js';
import { createServer } from '../src/server.js';
const home = process.env.TRY_HOME || mkdtempSync(join(tmpdir(), 'tl-try-'));
const server = createServer(loadConfig({}, { ...process.env, TUNELOOP_HOME: home, TUNELOOP_PYTHON: '/usr/bin/python3' }));
const [a, b] = InMemoryTransport.createLinkedPair();
await server.server.connect(b);
const client = new Client({ name: 'try', version: '0' });
await client.connect(a);
const args = JSON.parse(process.argv[2]);
for (let i = 0; i < Number(process.env.TRY_N || 1); i++) {
  const t0 = performance.now();
  let res = await client.callTool({ name: 'triton_verify', arguments: { wait_s: 50, ...args } }, undefined, { timeout: 600_000 });
  let view = res.structuredContent as any;
  while (view?.status === 'running') view = (await client.callTool({ name: 'job_status', arguments: { job_id: view.job_id, wait_s: 50 } }, undefined, { timeout: 600_000 })).structuredContent as any;
  const s = (performance.now() - t0) / 1000;
  if (process.env.TRY_FULL) console.log(JSON.stringify(view, null, 1));
  else console.log(s.toFixed(2), 's', view?.status, view?.error ?? '', (res as any).isError ? JSON.stringify(res.content) : '', view?.result ? JSON.stringify({ verdict: view.result.verdict, reasons: view.result.verdict_reasons, isolation: view.result.isolation, flags: view.result.flags.map((f: any) => f.code), failed: view.result.checks.filter((c: any) => c.passed !== true).map((c: any) => `${c.name}:${c.passed}:${c.detail.slice(0, 200)}`), timing: view.result.timing && { s: view.result.timing.speedup, v: view.result.timing.verdict, tc: view.result.timing.timer_check, b: view.result.timing.baseline.rounds_ms, c: view.result.timing.candidate.rounds_ms }, phases: view.result.phases.map((p: any) => `${p.phase}:${p.duration_ms}:${p.exit_code}`), notes: view.result.notes, errors: view.result.errors.map((e: any) => e.message.slice(0, 300)) }) : '');
}
await client.close(); await server.close();
