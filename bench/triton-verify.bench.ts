/**
 * Triton verify: what a verification costs, and whether its timing is fair.
 *
 * Issue 10 asks that a verify with the reference cached take at most 1.5x what it took before the
 * verifier was rebuilt around a sandbox. "Before" is measured here, in the same run and under the
 * same load: the tree of the last commit before issue 10 (PRE_ISSUE_10) is taken out of git into a
 * temporary folder and its own server is driven through MCP beside today's, the two alternating
 * (ABAB, the order swapped every round) on the same case and candidate. Each server keeps its own
 * data dir, so each reference cache is warmed once before anything is timed.
 *
 * Also: the cache must save the reference's process, and an A/A run (the candidate is the
 * baseline's own code) must come out near 1.0x and never "faster".
 * Needs torch for TUNELOOP_PYTHON (default /usr/bin/python3) and the git history (a shallow clone
 * reports the comparison as not measured); CPU timings here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from 'simple-statistics';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/core/config.js';
import { createServer } from '../src/server.js';
import type { BenchFigure } from './lib.js';

/** The last commit before issue 10 (its harness: one process per phase, no sandbox). */
const PRE_ISSUE_10 = 'c26cd959075b02d18c7a2ab243e2bf0fd37656f1';
const ALLOWED = 1.5;
const ROUNDS = 3;
const REPO = resolve(import.meta.dirname, '..');

const SAME_AS_BASELINE = `import torch
from torch import nn

class ModelNew(nn.Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)
`;

interface Verifier {
  verify(args: Record<string, unknown>): Promise<{ seconds: number; result: Record<string, any> }>;
  close(): Promise<void>;
}

type ServerModules = { createServer: typeof createServer; loadConfig: typeof loadConfig };

/** A server of the given code, on its own data dir, driven through MCP in memory. */
async function verifier(modules: ServerModules, python: string): Promise<Verifier> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-triton-'));
  const server = modules.createServer(modules.loadConfig({}, { ...process.env, TUNELOOP_HOME: home, TUNELOOP_PYTHON: python }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.server.connect(b);
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(a);
  return {
    async verify(args) {
      const started = performance.now();
      const call = (name: string, a: Record<string, unknown>) => client.callTool({ name, arguments: a }, undefined, { timeout: 600_000 }).then((r) => r.structuredContent as Record<string, any>);
      let view = await call('triton_verify', { case: 'softmax', candidate: SAME_AS_BASELINE, wait_s: 50, ...args });
      while (view?.status === 'running') view = await call('job_status', { job_id: view.job_id, wait_s: 50 });
      if (view?.status !== 'succeeded') throw new Error(`verify failed: ${view?.error}`);
      return { seconds: (performance.now() - started) / 1000, result: view.result };
    },
    async close() {
      await client.close();
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The pre-issue-10 tree in a temporary folder (sharing this checkout's node_modules), or why not. */
async function preIssue10(): Promise<{ modules: ServerModules; dir: string } | string> {
  const dir = mkdtempSync(join(tmpdir(), 'tuneloop-bench-pre10-'));
  try {
    const archive = execFileSync('git', ['-C', REPO, 'archive', PRE_ISSUE_10, 'src', 'tools', 'schedulers', 'knowledge', 'package.json'], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const server = await import(join(dir, 'src/server.ts'));
    const config = await import(join(dir, 'src/core/config.ts'));
    return { modules: { createServer: server.createServer, loadConfig: config.loadConfig }, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `commit ${PRE_ISSUE_10.slice(0, 7)} could not be taken out of git here (${(error as Error).message.split('\n')[0]}); a shallow clone needs git fetch --unshallow`;
  }
}

export async function run(): Promise<BenchFigure[]> {
  const python = process.env.TUNELOOP_PYTHON || '/usr/bin/python3';
  const before = await preIssue10();
  const now = await verifier({ createServer, loadConfig }, python);
  const old = typeof before === 'string' ? null : await verifier(before.modules, python);
  try {
    const cold = await now.verify({ bench: false });
    await old?.verify({ bench: false });
    const times = { now: { untimed: [] as number[], full: [] as number[] }, old: { untimed: [] as number[], full: [] as number[] } };
    let aa: Record<string, any> = {};
    for (let i = 0; i < ROUNDS; i++) {
      const order: ['now' | 'old', Verifier | null][] = [['now', now], ['old', old]];
      if (i % 2) order.reverse();
      for (const [side, v] of order) {
        if (!v) continue;
        times[side].untimed.push((await v.verify({ bench: false, experiment: `untimed-${i}` })).seconds);
        const full = await v.verify({ experiment: `default-${i}` });
        times[side].full.push(full.seconds);
        if (side === 'now') aa = full.result;
      }
    }
    const figure = (name: string, seconds: number[], baseline: number[]): BenchFigure =>
      old
        ? {
            name: `${name} (median of ${ROUNDS})`,
            value: median(seconds),
            unit: 's',
            baseline: { name: `the pre-issue-10 verify (${PRE_ISSUE_10.slice(0, 7)}), same run, alternating`, value: median(baseline) },
            target: `ratio <= ${ALLOWED}`,
            met: median(seconds) / median(baseline) <= ALLOWED,
          }
        : { name, value: median(seconds), unit: 's', target: `ratio <= ${ALLOWED} to the pre-issue-10 verify`, met: false, note: `not measured: ${before as string}` };
    const untimed = median(times.now.untimed);
    return [
      figure('verify, reference cached, default bench (7 rounds of 100 ms per side)', times.now.full, times.old.full),
      figure('verify, reference cached, bench: false', times.now.untimed, times.old.untimed),
      {
        name: 'verify without timing, reference cached',
        value: untimed,
        unit: 's',
        baseline: { name: 'same verify building the reference', value: cold.seconds },
        target: 'ratio <= 0.8',
        met: untimed / cold.seconds <= 0.8,
      },
      {
        name: 'A/A speedup (candidate = baseline code), CPU',
        value: aa.timing.speedup,
        unit: 'x',
        baseline: { name: 'identical code', value: 1 },
        target: '0.9 <= speedup <= 1.1 and not called faster',
        met: aa.timing.speedup >= 0.9 && aa.timing.speedup <= 1.1 && aa.verdict !== 'correct_faster',
        note: `${aa.timing.verdict}, p=${aa.timing.p_value?.toPrecision(2)}, rounds cv ${aa.timing.baseline.cv?.toPrecision(2)} / ${aa.timing.candidate.cv?.toPrecision(2)}, timer check ${aa.timing.timer_check.mismatch ? 'MISMATCH' : 'agrees'}`,
      },
    ];
  } finally {
    await now.close();
    await old?.close();
    if (typeof before !== 'string') rmSync(before.dir, { recursive: true, force: true });
  }
}
