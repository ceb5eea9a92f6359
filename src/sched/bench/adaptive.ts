/**
 * benchmark_workload's adaptive mode: instead of one B config, the suggester (learn's
 * suggest_config machinery over the `sched:<scheduler>` space) proposes each next flag set from
 * the workload's history, this job's runs included. The loop is learn's runAdaptiveSearch (shared
 * with nccl_sweep); this file says what one trial is here.
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
import { compare, summarize } from '../../learn/stats.js';
import { runAdaptiveSearch } from '../../learn/suggest/adaptive.js';
import { suggestFromHistory } from '../../learn/suggest/from-history.js';
import { namedSpace } from '../../learn/suggest/named-spaces.js';
import { schedulerRegistry } from '../registry.js';
import { armResult, benchmarkResult, counterbalanced, runMeasured, runWarmup, type BenchmarkResult, type RunRecord } from './benchmark.js';
import type { Arm, ArmLabel, BenchmarkPlan } from './plan.js';

/** Trials without a gain beyond the noise before the search stops. */
const PATIENCE = 3;
/** Gains below this share of the best are not worth chasing. */
const NOISE_FLOOR = 0.01;

type FlagConfig = { scheduler: string; flags: string[] };

export interface AdaptiveTrial {
  trial: number;
  config: FlagConfig;
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
  best: { config: FlagConfig; median: number; n: number } | null;
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
  const notes = new Map<number, string>();
  const armOf = new Map<string, Arm>();
  const filter = { workload_id: plan.workload!.id, workloadName: plan.workload!.name, domain: 'sched' as const, metric: plan.primary, direction: plan.direction, exclude_job: job.id };

  const warm = async (arm: Arm) => {
    for (let w = 0; w < input.warmup; w++) await runWarmup(runtime, job, plan, arm, w);
  };

  const search = await runAdaptiveSearch({
    space,
    direction: plan.direction,
    suggest: (count, extra) => suggestFromHistory(runtime.store, space, filter, { count, seed: input.adaptive_seed, useRules: true, extra }),
    maxTrials: budget,
    patience: PATIENCE,
    noiseFloor: NOISE_FLOOR,
    replayHistoryBest: true,
    log: (line) => job.log(line),
    async evaluate(proposal, trial) {
      const flags = (proposal.config as FlagConfig).flags;
      let arm: Arm;
      try {
        const target = await registry.resolve({ scheduler, flags, allowUnlistedFlags: false });
        arm = { label: 'B', config: { scheduler: target.name, flags: target.args }, target };
      } catch (error) {
        if (!isUserError(error)) throw error;
        notes.set(trial, errorMessage(error));
        job.log(`[tuneloop] trial ${trial}: ${flags.join(' ') || '(defaults)'} refused: ${errorMessage(error)}`);
        return { status: 'rejected', values: [], note: errorMessage(error) };
      }
      armOf.set(proposal.key, arm);
      const first = order.length === 0;
      if (first) await warm(armA);
      await warm(arm);
      const trialOrder = first ? counterbalanced(['A', 'B'], input.repeats) : Array<ArmLabel>(input.repeats).fill('B');
      const added = await runMeasured(runtime, job, plan, [armA, arm], trialOrder, runs, step, trial);
      order.push(...trialOrder);
      const values = added.filter((r) => r.arm === 'B' && r.status === 'ok').map((r) => r.metrics[plan.primary]);
      return { status: values.length ? 'ok' : 'failed', values };
    },
  });

  const trials: AdaptiveTrial[] = search.trials.map((t) => {
    const rejected = t.outcome.status === 'rejected';
    const arm = armOf.get(t.proposal.key);
    const values = t.outcome.values;
    return {
      trial: t.trial,
      config: rejected || !arm ? (t.proposal.config as FlagConfig) : (arm.config as FlagConfig),
      kind: rejected ? 'rejected' : t.proposal.kind,
      rationale: t.proposal.rationale,
      ok_runs: values.length,
      median: values.length ? median(values) : null,
      note: notes.get(t.trial) ?? null,
    };
  });
  const bestEntry = search.ranked[0];
  const best = bestEntry && { arm: armOf.get(bestEntry.key)!, values: bestEntry.values, trial: bestEntry.first_trial, median: median(bestEntry.values) };
  let confirmedSeparately = false;
  let aValues = runs.filter((r) => r.arm === 'A' && r.status === 'ok').map((r) => r.metrics[plan.primary]);
  let bRuns = best ? runs.filter((r) => r.arm === 'B' && r.trial === best.trial) : [];
  if (best && best.trial !== trials.find((t) => t.kind !== 'rejected')?.trial) {
    // The verdict needs the best against the default, interleaved: a fresh A/B.
    confirmedSeparately = true;
    const confirmOrder = counterbalanced(['A', 'B'], input.repeats);
    job.log(`[tuneloop] confirming the best (${(best.arm.config.flags ?? []).join(' ') || 'defaults'}) against the default scheduler`);
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
      // No deadline, signal or confirmation here: the loop stops for one of these three.
      stopped: search.stopped as AdaptiveSummary['stopped'],
      best: best ? { config: best.arm.config as FlagConfig, median: best.median, n: best.values.length } : null,
      confirmed_separately: confirmedSeparately,
    },
  });
}

function median(values: number[]): number {
  return summarize(values).median!;
}
