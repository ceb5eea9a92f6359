/**
 * benchmark_workload's plan: everything checked before the job starts (the workload or argv, the
 * metric parser, the primary metric and its direction, the B arm's scheduler and flags, nothing
 * attached), so bad input is an immediate error, not a failed job.
 */
import { UserError } from '../../core/errors.js';
import { findBinary } from '../../core/probe.js';
import type { Runtime } from '../../core/runtime.js';
import type { Direction } from '../../learn/stats.js';
import { findWorkload } from '../../learn/workloads.js';
import { schedulerRegistry, type ResolvedScheduler } from '../registry.js';
import { describeAttached, readSchedExt, requireSchedExt } from '../sysfs.js';
import { jsonParser, regexParser, type MetricParser } from './metrics.js';

export const DEFAULT_SCHEDULER = 'default';

export interface BenchmarkInput {
  workload?: string;
  command?: string[];
  cwd?: string;
  env?: Record<string, string>;
  warmup: number;
  repeats: number;
  timeout_s: number;
  scheduler: string;
  flags: string[];
  allow_unlisted_flags: boolean;
  ab?: boolean;
  metric_regex?: string;
  metric_json_key?: string;
  metric_name: string;
  primary_metric?: string;
  direction?: Direction;
  alpha: number;
  sample_ms: number;
  /** Adaptive mode (adaptive.ts): how many flag configs the suggester may propose. */
  adaptive_budget?: number;
  adaptive_variables?: string[];
  adaptive_seed: number;
}

export type ArmLabel = 'A' | 'B';

export interface Arm {
  label: ArmLabel;
  config: { scheduler: string; flags?: string[] };
  target: ResolvedScheduler | null;
}

export interface BenchmarkPlan {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  workload: { id: number; name: string } | null;
  arms: Arm[];
  parser: MetricParser | null;
  primary: string;
  direction: Direction;
  domain: 'sched' | 'workload';
  time: string | null;
  input: BenchmarkInput;
}

export async function planBenchmark(runtime: Runtime, input: BenchmarkInput): Promise<BenchmarkPlan> {
  const config = runtime.config;
  if ((input.workload === undefined) === (input.command === undefined)) {
    throw new UserError('Pass exactly one of workload (a saved workload) or command (an argv).', 'e.g. command: ["make", "-j8"], or workload: "kernel-build" (see the workload tool).');
  }
  let argv: string[];
  let cwd = input.cwd;
  let env = input.env;
  let workload: BenchmarkPlan['workload'] = null;
  if (input.workload !== undefined) {
    if (input.cwd || input.env) throw new UserError('cwd and env come from the saved workload; pass them only with command.', 'Drop cwd/env, or use command instead of workload.');
    const w = findWorkload(runtime.store, input.workload);
    if (!w.command) throw new UserError(`Workload "${w.name}" has no command to run.`, 'Create a workload with a command (workload {action: "create", command: [...]}) or pass command here.');
    argv = w.shell ? ['/bin/sh', '-c', w.command[0]] : w.command;
    cwd = w.cwd ?? undefined;
    env = w.env;
    workload = { id: w.id, name: w.name };
  } else {
    if (!input.command!.length || !input.command![0]) throw new UserError('command is empty.', 'Pass an argv such as ["stress-ng", "--cpu", "2", "-t", "5"].');
    argv = input.command!;
  }
  if (input.metric_regex !== undefined && input.metric_json_key !== undefined) throw new UserError('Pass at most one of metric_regex and metric_json_key.', 'Choose how the metric is read from the output.');
  const parser = input.metric_regex !== undefined ? regexParser(input.metric_name, input.metric_regex) : input.metric_json_key !== undefined ? jsonParser(input.metric_name, input.metric_json_key) : null;
  const primary = input.primary_metric ?? (parser ? parser.name : 'wall_s');
  const builtIn = ['wall_s', 'user_s', 'sys_s', 'cpu_s', 'max_rss_mib'];
  if (!builtIn.includes(primary) && primary !== parser?.name) {
    throw new UserError(`primary_metric "${primary}" is neither measured (${builtIn.join(', ')}) nor parsed from the output.`, 'Pass metric_regex or metric_json_key with metric_name, or pick a measured metric.');
  }
  if (!builtIn.includes(primary) && !input.direction) throw new UserError(`direction is needed for the parsed metric "${primary}".`, 'Pass direction: "lower" (latency, time) or "higher" (throughput).');
  const direction: Direction = input.direction ?? 'lower';

  const ab = input.ab ?? input.scheduler !== DEFAULT_SCHEDULER;
  if (!ab && input.scheduler !== DEFAULT_SCHEDULER) throw new UserError('ab: false runs only the default scheduler; a scheduler needs the A/B trial.', 'Drop ab, or drop scheduler.');
  const registry = schedulerRegistry(runtime);
  const arms: Arm[] = [{ label: 'A', config: { scheduler: DEFAULT_SCHEDULER }, target: null }];
  if (ab) {
    if (input.scheduler !== DEFAULT_SCHEDULER) requireSchedExt(config);
    const target = input.scheduler === DEFAULT_SCHEDULER ? null : await registry.resolve({ scheduler: input.scheduler, flags: input.flags, allowUnlistedFlags: input.allow_unlisted_flags });
    arms.push({ label: 'B', config: target ? { scheduler: target.name, flags: target.kind === 'catalog' ? target.args : [] } : { scheduler: DEFAULT_SCHEDULER }, target });
  } else if (input.flags.length) {
    throw new UserError('flags apply to a scheduler; the default scheduler takes none.', 'Pass scheduler with the flags.');
  }
  const state = readSchedExt(config);
  if (state.supported && (state.state !== 'disabled' || state.ops)) {
    throw new UserError(`A sched_ext scheduler is attached (${describeAttached(state)}): the default-scheduler arm would not measure the default scheduler.`, 'Stop it first (stop_scheduler, or where it was started).');
  }
  const domain = ab ? 'sched' : 'workload';
  const time = findBinary('time', config.binPath);
  return { argv, cwd, env, workload, arms, parser, primary, direction, domain, time, input };
}
