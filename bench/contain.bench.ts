/**
 * Containment must not change what a benchmark measures. A/A figures: the same workload run through
 * exec as benchmark_workload runs it (GNU time for CPU), contained (the mode this host gives: cgroup
 * or PID namespace) against uncontained (a plain process group), in alternating pairs (A B, B A, ...)
 * so drift lands on both sides; the ratio of medians and the stats module's verdict
 * (src/learn/stats.ts, the same as compare_runs) on wall and CPU time. Plus the cost of containing a
 * child (set-up and clean-up around a trivial command), against the same command uncontained.
 */
import { existsSync } from 'node:fs';
import { configureIsolation, containmentInfo, type ContainmentPreference } from '../src/core/contain.js';
import { runCommand, type ExecResult } from '../src/core/exec.js';
import { compare } from '../src/learn/stats.js';
import type { BenchFigure } from './lib.js';

const PAIRS = 16;
const TIME = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));
const WORKLOADS: [string, string[]][] = [
  ['CPU-bound (perl loop)', ['perl', '-e', 'my $s = 0; $s += $_ for 1 .. 2000000']],
  ['fork-heavy (200 processes)', ['/bin/sh', '-c', 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done']],
];

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  try {
    for (const preference of ['auto', 'pidns'] as ContainmentPreference[]) {
      configureIsolation({ containment: preference });
      const mode = containmentInfo().mode;
      if (mode === 'pgroup' || (preference === 'pidns' && mode !== 'pidns')) continue;
      for (const [name, argv] of WORKLOADS) figures.push(...(await aa(`${name}, ${mode}`, argv)));
      figures.push(await spawnCost(mode));
    }
  } finally {
    configureIsolation({ containment: 'auto' });
  }
  return figures;
}

async function once(argv: string[], uncontained: boolean): Promise<ExecResult> {
  const r = await runCommand(argv, { timeoutMs: 60_000, uncontained, rusageWith: TIME });
  if (!r.ok) throw new Error(`bench workload failed: ${r.stderr || r.spawnError}`);
  return r;
}

/** Alternating pairs; a = uncontained (baseline), b = contained. */
async function pairs(argv: string[], measure: (r: ExecResult) => number): Promise<{ a: number[]; b: number[] }> {
  await once(argv, true);
  await once(argv, false); // warm both paths
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    for (const contained of i % 2 ? [true, false] : [false, true]) {
      (contained ? b : a).push(measure(await once(argv, !contained)));
    }
  }
  return { a, b };
}

async function aa(name: string, argv: string[]): Promise<BenchFigure[]> {
  const samples = await pairs(argv, (r) => [r.durationMs / 1000, r.rusage ? r.rusage.user_s + r.rusage.sys_s : NaN]);
  const out: BenchFigure[] = [];
  for (const [metric, index] of [['wall_s', 0], ['cpu_s', 1]] as const) {
    const a = samples.a.map((v) => v[index]).filter(Number.isFinite);
    const b = samples.b.map((v) => v[index]).filter(Number.isFinite);
    if (a.length === 0) continue;
    const c = compare(a, b, 'lower', { metric });
    out.push({
      name: `A/A ${name}: ${metric} contained / uncontained (${PAIRS} alternating pairs)`,
      value: c.b.median!,
      unit: 's',
      baseline: { name: 'uncontained', value: c.a.median! },
      target: 'compare_runs verdict "no significant difference"',
      met: c.verdict === 'no significant difference',
      note: `verdict: ${c.verdict}; p=${c.p_value?.toPrecision(2)}; CV ${(c.a.cv! * 100).toFixed(1)}% vs ${(c.b.cv! * 100).toFixed(1)}%`,
    });
  }
  return out;
}

/** What containing one child costs: a trivial command, start to result, contained against not. */
async function spawnCost(mode: string): Promise<BenchFigure> {
  const started = (r: Promise<ExecResult>) => {
    const t = performance.now();
    return r.then(() => performance.now() - t);
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 3 * PAIRS; i++) {
    a.push(await started(runCommand(['true'], { timeoutMs: 10_000, uncontained: true })));
    b.push(await started(runCommand(['true'], { timeoutMs: 10_000 })));
  }
  const c = compare(a, b, 'lower');
  const extra = c.b.median! - c.a.median!;
  // A cgroup costs a mkdir, two writes and an rmdir; a PID namespace costs bwrap's mount-namespace set-up.
  const budget = mode === 'cgroup' ? 10 : 50;
  return {
    name: `per-child cost of ${mode} containment (\`true\`, start to result)`,
    value: c.b.median!,
    unit: 'ms',
    baseline: { name: 'uncontained', value: c.a.median! },
    target: `adds <= ${budget} ms per child`,
    met: extra <= budget,
    note: `+${extra.toFixed(2)} ms per child`,
  };
}
