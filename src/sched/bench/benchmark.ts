/**
 * benchmark_workload: run a workload under the default scheduler and/or a sched_ext scheduler,
 * measure every run (wall time, user/sys CPU and peak RSS through GNU time, metrics from its
 * output, a /proc sampler summary), record every run in history, and let the statistics module
 * give the verdict.
 *
 * A/B runs are interleaved in counterbalanced pairs (A B, B A, A B, ...): alternating alone (A B A
 * B) would put every B one slot later than its A, so a steady drift (thermal, caches, background
 * load) would bias B; the mirrored pairs give both arms the same mean position. The scheduler is
 * attached for each B run and detached after it, and a B run counts only if the scheduler stayed
 * attached throughout (state, root/ops, enable_seq unchanged).
 */
import { UserError, errorMessage } from '../../core/errors.js';
import { runCommand, type ExecResult, outputTail } from '../../core/exec.js';
import type { JobContext } from '../../core/jobs.js';
import type { Runtime } from '../../core/runtime.js';
import { Sampler } from '../../core/sampler.js';
import { recordRun, type RunStatus } from '../../learn/runs.js';
import { compare, summarize, type Comparison, type Direction, type Summary } from '../../learn/stats.js';
import type { Execution } from '../execution.js';
import { schedulerRegistry } from '../registry.js';
import { describeAttached, opsMatches, readSchedExt } from '../sysfs.js';
import type { MetricParser } from './metrics.js';
import type { Arm, ArmLabel, BenchmarkPlan } from './plan.js';
import type { AdaptiveSummary } from './adaptive.js';

export interface RunRecord {
  arm: ArmLabel;
  index: number;
  status: RunStatus;
  run_id: number;
  exit_code: number | null;
  metrics: Record<string, number>;
  note: string | null;
  execution_id: string | null;
  /** Adaptive mode: the trial the run belongs to. */
  trial: number | null;
}

export interface ArmResult {
  label: ArmLabel;
  config: { scheduler: string; flags?: string[] };
  runs: number;
  ok_runs: number;
  primary: Summary;
  metrics: Record<string, Summary>;
}

export interface BenchmarkResult {
  workload: { id: number; name: string } | null;
  command: string[];
  primary_metric: string;
  direction: Direction;
  domain: 'sched' | 'workload';
  warmup: number;
  repeats: number;
  order: ArmLabel[];
  arms: ArmResult[];
  comparison: Comparison | null;
  verdict: Comparison['verdict'] | null;
  runs: RunRecord[];
  missing: string[];
  /** The adaptive mode's search: trials, why it stopped, the best config. */
  adaptive?: AdaptiveSummary;
}

export async function runBenchmark(runtime: Runtime, job: JobContext, plan: BenchmarkPlan): Promise<BenchmarkResult> {
  const { input } = plan;
  const order = counterbalanced(plan.arms.map((a) => a.label), input.repeats);
  const total = input.warmup * plan.arms.length + order.length;
  const runs: RunRecord[] = [];
  let done = 0;
  const step = (message: string) => job.progress({ done: done++, total, message });

  for (let w = 0; w < input.warmup; w++) {
    for (const arm of plan.arms) {
      step(`warmup ${w + 1}, arm ${arm.label}`);
      await runWarmup(runtime, job, plan, arm, w);
    }
  }
  await runMeasured(runtime, job, plan, plan.arms, order, runs, step);

  const arms = plan.arms.map((arm) => armResult(arm, runs.filter((r) => r.arm === arm.label), plan.primary));
  const values = (label: ArmLabel) => runs.filter((r) => r.arm === label && r.status === 'ok').map((r) => r.metrics[plan.primary]);
  const comparison = plan.arms.length === 2 ? compare(values('A'), values('B'), plan.direction, { metric: plan.primary, alpha: input.alpha }) : null;
  job.progress({ done: total, total, message: comparison?.verdict ?? 'done' });
  return benchmarkResult(plan, { order, arms, comparison, runs });
}

/** The result both modes return: the plan's facts, what ran, and the comparison. */
export function benchmarkResult(plan: BenchmarkPlan, r: Pick<BenchmarkResult, 'order' | 'arms' | 'comparison' | 'runs' | 'adaptive'>): BenchmarkResult {
  return {
    workload: plan.workload,
    command: plan.argv,
    primary_metric: plan.primary,
    direction: plan.direction,
    domain: plan.domain,
    warmup: plan.input.warmup,
    repeats: plan.input.repeats,
    order: r.order,
    arms: r.arms,
    comparison: r.comparison,
    verdict: r.comparison?.verdict ?? null,
    runs: r.runs,
    missing: missingMeasurements(plan),
    ...(r.adaptive && { adaptive: r.adaptive }),
  };
}

/** What this host cannot measure. */
function missingMeasurements(plan: BenchmarkPlan): string[] {
  return plan.time ? [] : ['user/sys CPU and max RSS: GNU time is not installed (apt-get install time); only wall time and output metrics are measured'];
}

/** One unrecorded run: the same procedure as a measured one, nothing kept. */
export async function runWarmup(runtime: Runtime, job: JobContext, plan: BenchmarkPlan, arm: Arm, index: number): Promise<void> {
  const r = await runOnce(runtime, job, plan, arm);
  job.log(`[tuneloop] warmup ${index + 1} arm ${arm.label}: ${r.note ?? `${r.status}, wall ${r.metrics.wall_s ?? '?'} s`}`);
  if (job.signal.aborted) throw new Error('canceled');
}

/**
 * Run `order` (arm labels) once each, recording every run in history and in `runs`. Indexes count
 * per arm across calls (the adaptive mode calls this once per trial).
 */
export async function runMeasured(runtime: Runtime, job: JobContext, plan: BenchmarkPlan, arms: Arm[], order: ArmLabel[], runs: RunRecord[], step: (message: string) => void, trial: number | null = null): Promise<RunRecord[]> {
  const added: RunRecord[] = [];
  for (const label of order) {
    const arm = arms.find((a) => a.label === label)!;
    const index = runs.filter((r) => r.arm === label).length;
    step(`run ${index + 1}, arm ${label}${trial !== null ? ` (trial ${trial})` : ''}`);
    const r = await runOnce(runtime, job, plan, arm);
    const run = recordRun(runtime.store, {
      domain: plan.domain,
      workload_id: plan.workload?.id ?? null,
      config: arm.config,
      metrics: r.metrics,
      primary_metric: plan.primary,
      direction: plan.direction,
      context: { tool: 'benchmark_workload', arm: label, index, exit_code: r.exitCode, command: plan.argv, execution_id: r.executionId, ...(trial !== null && { trial }) },
      status: r.status,
      job_id: job.id,
      notes: r.note,
    });
    const record: RunRecord = { arm: label, index, status: r.status, run_id: run.id, exit_code: r.exitCode, metrics: r.metrics, note: r.note, execution_id: r.executionId, trial };
    runs.push(record);
    added.push(record);
    job.log(`[tuneloop] run ${index + 1} arm ${label}: ${r.status}, ${plan.primary}=${r.metrics[plan.primary] ?? 'n/a'}${r.note ? ` (${r.note})` : ''}`);
    if (job.signal.aborted) throw new Error('canceled');
  }
  return added;
}

/** Counterbalanced pairs: A B, B A, A B, ... (see the header). */
export function counterbalanced(labels: ArmLabel[], repeats: number): ArmLabel[] {
  const order: ArmLabel[] = [];
  for (let i = 0; i < repeats; i++) order.push(...(i % 2 === 0 ? labels : [...labels].reverse()));
  return order;
}

interface OneRun {
  status: RunStatus;
  metrics: Record<string, number>;
  exitCode: number | null;
  note: string | null;
  executionId: string | null;
}

async function runOnce(runtime: Runtime, job: JobContext, plan: BenchmarkPlan, arm: Arm): Promise<OneRun> {
  const config = runtime.config;
  const registry = schedulerRegistry(runtime);
  let execution: Execution | null = null;
  let seq: number | null = null;
  if (arm.target) {
    const { execution: e } = await registry.attach(arm.target, { replace: false, maxDurationS: plan.input.timeout_s + 120, attachTimeoutS: 30 });
    if (e.status !== 'running') {
      throw new UserError(`Arm B: ${arm.target.name} did not attach (${e.exitReason ?? 'see sched_status'}); the comparison stops here.`, `sched_status shows execution ${e.spec.id} with its output.`);
    }
    execution = e;
    seq = readSchedExt(config).enable_seq;
  } else {
    const s = readSchedExt(config);
    if (s.supported && (s.state !== 'disabled' || s.ops)) {
      throw new UserError(`Arm A needs the default scheduler, but ${describeAttached(s)} is attached now.`, 'Something else attached a scheduler during the benchmark; stop it and run again.');
    }
  }
  try {
    const sampler = new Sampler(config, { intervalMs: plan.input.sample_ms, maxDurationMs: (plan.input.timeout_s + 10) * 1000, gpus: false });
    const r = await runCommand(plan.argv, {
      timeoutMs: plan.input.timeout_s * 1000,
      cwd: plan.cwd,
      env: plan.env,
      signal: job.signal,
      logFile: job.logFile,
      maxOutputBytes: 4 * 1024 * 1024,
      rusageWith: plan.time ?? undefined,
    });
    sampler.stop();
    const metrics = measure(r, sampler.summary().metrics, plan.parser);
    let status = runStatus(r);
    let note = r.spawnError ? `could not start: ${r.spawnError}` : r.timedOut ? `timed out after ${plan.input.timeout_s}s` : r.exitCode !== 0 && !r.canceled ? `exit code ${r.exitCode ?? r.signal}: ${outputTail(r).slice(0, 200)}` : null;
    if (status === 'ok' && plan.parser && metrics[plan.parser.name] === undefined) {
      status = 'invalid';
      note = `${plan.parser.name} not found in the output (${plan.parser.describe})`;
    }
    if (execution) {
      const s = readSchedExt(config);
      const stayed = execution.status === 'running' && s.state === 'enabled' && opsMatches(s.ops, execution.spec.expectedOps) && (seq === null || s.enable_seq === seq);
      if (!stayed && status === 'ok') {
        status = 'invalid';
        note = `${execution.spec.scheduler} did not stay attached for the whole run (status ${execution.status}, state ${s.state}, enable_seq ${seq} -> ${s.enable_seq})${execution.exitReason ? `: ${execution.exitReason}` : ''}`;
      }
    }
    return { status, metrics, exitCode: r.exitCode, note, executionId: execution?.spec.id ?? null };
  } catch (error) {
    return { status: 'failed', metrics: {}, exitCode: null, note: errorMessage(error), executionId: execution?.spec.id ?? null };
  } finally {
    if (execution) await registry.stop(execution.spec.id, 3000, 'benchmark');
  }
}

function measure(r: ExecResult, system: Record<string, { mean: number }>, parser: MetricParser | null): Record<string, number> {
  const metrics: Record<string, number> = { wall_s: r.durationMs / 1000 };
  if (r.rusage) {
    metrics.user_s = r.rusage.user_s;
    metrics.sys_s = r.rusage.sys_s;
    metrics.cpu_s = Math.round((r.rusage.user_s + r.rusage.sys_s) * 100) / 100;
    metrics.max_rss_mib = Math.round((r.rusage.max_rss_kib / 1024) * 100) / 100;
  }
  const pick: Record<string, string> = {
    'sys.cpu_util_pct': 'cpu.util_pct',
    'sys.ctxt_per_s': 'sched.ctxt_per_s',
    'sys.procs_running': 'sched.procs_running',
    'sys.run_delay_ms_per_s': 'schedstat.run_delay_ms_per_s',
    'sys.cpu_psi_some_pct': 'psi.cpu_some_pct',
  };
  for (const [name, key] of Object.entries(pick)) if (system[key]) metrics[name] = system[key].mean;
  const value = parser?.parse(`${r.stdout}\n${r.stderr}`);
  if (parser && value !== null && value !== undefined) metrics[parser.name] = value;
  return metrics;
}

function runStatus(r: ExecResult): RunStatus {
  if (r.canceled) return 'canceled';
  if (r.timedOut) return 'timeout';
  return r.ok ? 'ok' : 'failed';
}

export function armResult(arm: Arm, runs: RunRecord[], primary: string): ArmResult {
  const ok = runs.filter((r) => r.status === 'ok');
  const names = [...new Set(ok.flatMap((r) => Object.keys(r.metrics)))].sort();
  return {
    label: arm.label,
    config: arm.config,
    runs: runs.length,
    ok_runs: ok.length,
    primary: summarize(ok.map((r) => r.metrics[primary])),
    metrics: Object.fromEntries(names.map((n) => [n, summarize(ok.map((r) => r.metrics[n]).filter((v) => v !== undefined))])),
  };
}


