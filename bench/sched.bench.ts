/**
 * sched toolset figures:
 * - the A/A false-positive rate of benchmark_workload's verdict (default scheduler in both arms, a
 *   real CPU-bound workload), against the significance level it is run at;
 * - the per-run cost of benchmark_workload's measurement (GNU time + /proc sampler) against a bare
 *   run of the same command;
 * - build_scheduler's vmlinux.h cache: a cached lookup against generating it with bpftool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/core/config.js';
import { runCommand } from '../src/core/exec.js';
import { findBinary } from '../src/core/probe.js';
import { Sampler } from '../src/core/sampler.js';
import { ensureVmlinuxHeader } from '../src/sched/custom/vmlinux.js';
import { createServer } from '../src/server.js';
import { quantile, type BenchFigure } from './lib.js';

const WORK = ['perl', '-e', 'my $s = 0; $s += $_ for 1 .. 1500000'];
const TRIALS = 30;
const ALPHA = 0.05;

export async function run(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-sched-'));
  try {
    return [await falsePositiveRate(home), await measurementOverhead(), await vmlinuxCache(home)];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function falsePositiveRate(home: string): Promise<BenchFigure> {
  const server = createServer(loadConfig({ home: join(home, 'aa') }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.server.connect(b);
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(a);
  let significant = 0;
  for (let i = 0; i < TRIALS; i++) {
    const r = await client.callTool({ name: 'benchmark_workload', arguments: { command: WORK, ab: true, repeats: 6, warmup: 1, alpha: ALPHA, wait_s: 50 } }, undefined, { timeout: 120_000 });
    const verdict = (r.structuredContent as { result?: { verdict: string } }).result?.verdict;
    if (verdict !== 'no significant difference') significant++;
  }
  await client.close();
  await server.close();
  const rate = significant / TRIALS;
  // A correct test is "significant" alpha of the time under H0; allow two binomial standard errors.
  const bound = ALPHA + 2 * Math.sqrt((ALPHA * (1 - ALPHA)) / TRIALS);
  return {
    name: `A/A false-positive rate (${TRIALS} trials, 6 runs per arm)`,
    value: rate,
    unit: 'fraction',
    baseline: { name: 'alpha', value: ALPHA },
    target: `<= ${bound.toFixed(3)} (alpha + 2 SE)`,
    met: rate <= bound,
    note: `${significant} of ${TRIALS} trials called a difference`,
  };
}

async function measurementOverhead(): Promise<BenchFigure> {
  const time = findBinary('time', (process.env.PATH ?? '').split(':'));
  const config = loadConfig({});
  const bare: number[] = [];
  const measured: number[] = [];
  for (let i = 0; i < 30; i++) {
    bare.push((await runCommand(WORK, { timeoutMs: 30_000 })).durationMs);
    const sampler = new Sampler(config, { intervalMs: 250, maxDurationMs: 60_000, gpus: false });
    measured.push((await runCommand(WORK, { timeoutMs: 30_000, rusageWith: time ?? undefined })).durationMs);
    sampler.stop();
    sampler.summary();
  }
  const value = quantile(measured, 0.5);
  const baseline = quantile(bare, 0.5);
  return {
    name: 'benchmark_workload per-run wall time, measured (GNU time + sampler) vs bare',
    value,
    unit: 'ms',
    baseline: { name: 'bare runCommand', value: baseline },
    target: 'p50 ratio <= 1.3',
    met: value / baseline <= 1.3,
    note: time ? undefined : 'GNU time not installed: sampler only',
  };
}

async function vmlinuxCache(home: string): Promise<BenchFigure> {
  const config = loadConfig({ home: join(home, 'vmlinux') });
  let started = performance.now();
  await ensureVmlinuxHeader(config);
  const cold = performance.now() - started;
  started = performance.now();
  const warm = await ensureVmlinuxHeader(config);
  const hit = performance.now() - started;
  return {
    name: 'vmlinux.h for build_scheduler, cached vs generated with bpftool',
    value: hit,
    unit: 'ms',
    baseline: { name: 'bpftool btf dump', value: cold },
    target: 'ratio <= 0.2',
    met: warm.cached && hit / cold <= 0.2,
  };
}
