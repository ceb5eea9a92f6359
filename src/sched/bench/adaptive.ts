/**
 * benchmark_workload's adaptive mode: instead of one B config, the suggester (learn's
 * suggest_config machinery over the `sched:<scheduler>` space) proposes each next flag set from
 * the workload's history, this job's runs included.
 *
 * - Trial 1 is an interleaved A/B of the default scheduler against the suggester's first proposal
 *   (the scheduler's own defaults unless history says otherwise); later trials run B only,
 *   `repeats` times each after `warmup` unrecorded runs.
 * - A proposal the scheduler refuses (flag validation) is recorded as a rejected trial and the
 *   next one is taken; it still counts against the budget.
 * - It stops when the budget is spent, when the space has nothing new, or when the last
 *   `PATIENCE` trials did not beat the best median by more than the measured noise (at least 1%).
 * - The verdict comes from an interleaved A/B: trial 1's when its config is the best, otherwise a
 *   confirmation A/B of the best config against the default, `repeats` pairs. Search trials only
 *   steer; they never decide the verdict.
 */
import { errorMessage, isUserError, UserError } from '../../core/errors.js';
import type { JobContext } from '../../core/jobs.js';
import type { Runtime } from '../../core/runtime.js';
import { configKey } from '../../learn/canonical.js';
import { compare, summarize } from '../../learn/stats.js';
import { suggestFromHistory } from '../../learn/suggest/from-history.js';
import { namedSpace } from '../../learn/suggest/named-spaces.js';
import { schedulerRegistry } from '../registry.js';
import { armResult, benchmarkResult, counterbalanced, runMeasured, runWarmup, type BenchmarkResult, type RunRecord } from './benchmark.js';
import type { Arm, ArmLabel, BenchmarkPlan } from './plan.js';

/** Trials without a gain beyond the noise before the search stops. */
const PATIENCE = 3;

export interface AdaptiveTrial {
  trial: number;
  config: { scheduler: string; flags: string[] };
  kind: string;
  rationale: string;
  ok_runs: number;
  median: number | null;
  note: string | null;
}

export interface AdaptiveSummary {
  space: string;
  budget: number;
  trials: AdaptiveTrial[];
  stopped: 'budget' | 'converged' | 'exhausted';
  best: { config: { scheduler: string; flags: string[] }; median: number; n: number } | null;
  /** Whether a confirmation A/B of the best config ran (false: trial 1's A/B was the best's). */
  confirmed_separately: boolean;
}

/** Checks made before the job starts. */
export function checkAdaptive(plan: BenchmarkPlan): void {
  const b = plan.arms[1];
  if (!plan.workload) throw new UserError('The adaptive mode learns from the workload\'s history: pass workload (a saved one), not command.', 'Create it with workload {action: "create", command: [...]}.');
  if (!b?.target || b.target.kind !== 'catalog') throw new UserError('The adaptive mode tunes the flags of a catalog scheduler: pass scheduler (e.g. "scx_lavd").', 'For a fixed config, leave out adaptive_budget.');
  if (plan.input.flags.length) throw new UserError('In the adaptive mode the suggester chooses the flags.', 'Leave out flags; narrow the search with adaptive_variables.');
  namedSpace(`sched:${b.target.name}`, plan.input.adaptive_variables, []); // unknown variables fail now
}

export async function runAdaptiveBenchmark(runtime: Runtime, job: JobContext, plan: BenchmarkPlan): Promise<BenchmarkResult> {
  const { input } = plan;
  let done = 0;
  const step = (message: string) => job.progress({ done: done++, message });
  const budget = input.adaptive_budget!;
  const scheduler = plan.arms[1].target!.name;
  const space = namedSpace(`sched:${scheduler}`, input.adaptive_variables, []);
  const registry = schedulerRegistry(runtime);
  const armA = plan.arms[0];
  const runs: RunRecord[] = [];
  const order: ArmLabel[] = [];
  const trials: AdaptiveTrial[] = [];
  const rejected = new Set<string>();
  const byConfig = new Map<string, { config: AdaptiveTrial['config']; values: number[]; trial: number; arm: Arm }>();
  let stopped: AdaptiveSummary['stopped'] = 'budget';
  const bestHistory: number[] = [];

  const warm = async (arm: Arm) => {
    for (let w = 0; w < input.warmup; w++) await runWarmup(runtime, job, plan, arm, w);
  };

  for (let trial = 1; trial <= budget; trial++) {
    const suggestion = suggestFromHistory(runtime.store, space, { workload_id: plan.workload!.id, workloadName: plan.workload!.name, domain: 'sched', metric: plan.primary, direction: plan.direction }, { count: 1 + rejected.size, seed: input.adaptive_seed, useRules: true });
    const candidate = suggestion.candidates.map((c) => ({ c, config: space.toConfig(c.point) as AdaptiveTrial['config'] })).find((x) => !rejected.has(configKey(x.config)));
    if (!candidate) {
      stopped = 'exhausted';
      break;
    }
    let arm: Arm;
    try {
      const target = await registry.resolve({ scheduler, flags: candidate.config.flags, allowUnlistedFlags: false });
      arm = { label: 'B', config: { scheduler: target.name, flags: target.args }, target };
    } catch (error) {
      if (!isUserError(error)) throw error;
      rejected.add(configKey(candidate.config));
      trials.push({ trial, config: candidate.config, kind: 'rejected', rationale: candidate.c.rationale, ok_runs: 0, median: null, note: errorMessage(error) });
      job.log(`[tuneloop] trial ${trial}: ${candidate.config.flags.join(' ') || '(defaults)'} refused: ${errorMessage(error)}`);
      continue;
    }
    job.log(`[tuneloop] trial ${trial} (${candidate.c.kind}): ${scheduler} ${candidate.config.flags.join(' ') || '(defaults)'}: ${candidate.c.rationale}`);
    if (trial === 1) await warm(armA);
    await warm(arm);
    const trialOrder = order.length === 0 ? counterbalanced(['A', 'B'], input.repeats) : Array<ArmLabel>(input.repeats).fill('B');
    const added = await runMeasured(runtime, job, plan, [armA, arm], trialOrder, runs, step, trial);
    order.push(...trialOrder);
    const values = added.filter((r) => r.arm === 'B' && r.status === 'ok').map((r) => r.metrics[plan.primary]);
    const key = configKey(arm.config);
    const entry = byConfig.get(key) ?? { config: arm.config as AdaptiveTrial['config'], values: [], trial, arm };
    entry.values.push(...values);
    byConfig.set(key, entry);
    const s = summarize(values);
    trials.push({ trial, config: arm.config as AdaptiveTrial['config'], kind: candidate.c.kind, rationale: candidate.c.rationale, ok_runs: values.length, median: s.median, note: null });

    // Converged: the best median has not moved by more than the noise for PATIENCE trials.
    const best = bestOf(byConfig, plan.direction);
    bestHistory.push(best?.median ?? NaN);
    // The noise: the pooled run-to-run spread, at least 1% of the best (smaller gains are not worth chasing).
    const spread = pooledSd([...byConfig.values()].map((e) => e.values));
    const noise = spread === null || !best ? null : Math.max(spread, 0.01 * Math.abs(best.median));
    if (bestHistory.length > PATIENCE && best && noise !== null) {
      const before = bestHistory[bestHistory.length - 1 - PATIENCE];
      if (Math.abs(best.median - before) <= noise) {
        stopped = 'converged';
        job.log(`[tuneloop] converged: the best ${plan.primary} moved by at most the noise (${noise.toPrecision(3)}) over the last ${PATIENCE} trials`);
        break;
      }
    }
  }

  const best = bestOf(byConfig, plan.direction);
  let confirmedSeparately = false;
  let aValues = runs.filter((r) => r.arm === 'A' && r.status === 'ok').map((r) => r.metrics[plan.primary]);
  let bRuns = best ? runs.filter((r) => r.arm === 'B' && r.trial === best.trial) : [];
  if (best && best.trial !== trials.find((t) => t.kind !== 'rejected')?.trial) {
    // The verdict needs the best against the default, interleaved: a fresh A/B.
    confirmedSeparately = true;
    const confirmOrder = counterbalanced(['A', 'B'], input.repeats);
    job.log(`[tuneloop] confirming the best (${best.config.flags.join(' ') || 'defaults'}) against the default scheduler`);
    const added = await runMeasured(runtime, job, plan, [armA, best.arm], confirmOrder, runs, step, budget + 1);
    order.push(...confirmOrder);
    aValues = added.filter((r) => r.arm === 'A' && r.status === 'ok').map((r) => r.metrics[plan.primary]);
    bRuns = added.filter((r) => r.arm === 'B');
  }
  const bValues = bRuns.filter((r) => r.status === 'ok').map((r) => r.metrics[plan.primary]);
  const comparison = best ? compare(aValues, bValues, plan.direction, { metric: plan.primary, alpha: input.alpha }) : null;
  const aRuns = confirmedSeparately ? runs.filter((r) => r.arm === 'A' && r.trial === budget + 1) : runs.filter((r) => r.arm === 'A');
  return benchmarkResult(plan, {
    order,
    arms: best ? [armResult(armA, aRuns, plan.primary), armResult(best.arm, bRuns, plan.primary)] : [armResult(armA, aRuns, plan.primary)],
    comparison,
    runs,
    adaptive: {
      space: space.name,
      budget,
      trials,
      stopped,
      best: best ? { config: best.config, median: best.median, n: best.values.length } : null,
      confirmed_separately: confirmedSeparately,
    },
  });
}

function bestOf(byConfig: Map<string, { config: AdaptiveTrial['config']; values: number[]; trial: number; arm: Arm }>, direction: 'lower' | 'higher') {
  let best: { config: AdaptiveTrial['config']; values: number[]; trial: number; arm: Arm; median: number } | null = null;
  for (const e of byConfig.values()) {
    const m = summarize(e.values).median;
    if (m === null) continue;
    if (!best || (direction === 'lower' ? m < best.median : m > best.median)) best = { ...e, median: m };
  }
  return best;
}

/** Pooled within-config standard deviation, when some config has 2+ values. */
function pooledSd(groups: number[][]): number | null {
  let ss = 0;
  let df = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    const m = g.reduce((s, v) => s + v, 0) / g.length;
    ss += g.reduce((s, v) => s + (v - m) ** 2, 0);
    df += g.length - 1;
  }
  return df > 0 ? Math.sqrt(ss / df) : null;
}
