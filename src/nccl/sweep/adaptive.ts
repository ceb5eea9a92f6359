/**
 * nccl_sweep's adaptive mode: instead of walking a grid, each next config comes from the
 * suggester (learn's runAdaptiveSearch, the loop benchmark_workload's adaptive mode uses too) and
 * runs through the same trial as the grid sweep (trial.ts), recorded in history.
 *
 * - Trial 1 is the untuned default (every gain is relative to it); then the best config history
 *   knows for this problem (same collective, sizes, data type, op, base), then the suggester's
 *   proposals, one nccl-tests run each.
 * - History steers: runs of earlier sweeps of the same problem (and topology, once the default has
 *   run) are the suggester's observations, matching rules its seeds; this job's runs come from
 *   the loop itself.
 * - Converged (the best busbw has not moved beyond max(noise, min_gain) for patienceFor() trials), it
 *   confirms: the best, the runner-up and the default get `repeats` runs each, round-robin, and
 *   it stops 'settled' when compare() puts the best ahead of both (or within min_gain of them).
 * - The result is a sweep result like the grid's (ranking, bands, per size, winner, tuner CSV,
 *   nccl.conf, all from these measurements) plus the trajectory and the winner's evidence.
 */
import type { Config } from '../../core/config.js';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import { canonicalJson } from '../../learn/canonical.js';
import { summarize } from '../../learn/stats.js';
import { proposalOf, runAdaptiveSearch, type Proposal, type SearchOptions, type SearchResult, type Settlement } from '../../learn/suggest/adaptive.js';
import { suggestFromHistory } from '../../learn/suggest/from-history.js';
import { startupCount } from '../../learn/suggest/suggester.js';
import type { Space } from '../../learn/suggest/space.js';
import { PRIMARY_METRIC } from '../run/history.js';
import type { NcclEnv } from '../params/validate.js';
import type { RunResult, SweepResult } from '../schemas.js';
import { labelOf, plannedConfig, plannedDefault, type PlannedConfig, type SweepPlan } from './plan.js';
import type { Trial } from './ranking.js';
import { sweepResult } from './result.js';
import { sweepSpace, type SweepSpace } from './space.js';
import { runTrial, type TestSpec } from './trial.js';

/**
 * Trials without a gain beyond the noise (or min_gain) before the search confirms its best: three
 * times the space-filling start, at least 12. On the fake's model (bench nccl-adaptive) the
 * suggester needs a median of 34 trials to reach a narrow optimum of 253 configs, 66 at worst;
 * this patience stops it on that optimum in 17 of 20 seeds at a fifth of the grid's cost.
 */
const patienceFor = (space: Space) => Math.max(12, 3 * startupCount(space.params));

export interface AdaptiveSweepSpec {
  test: TestSpec;
  /** profile + env, validated: every config adds its settings to it. */
  base: NcclEnv;
  /** The caller's space (named `nccl` or explicit). */
  space: Space;
  ncclVersion?: string;
  allowInvalid: boolean;
  seed: number;
  /** Runs of the best, the runner-up and the default before the settle check. */
  repeats: number;
  maxRuns: number;
  maxMinutes: number;
  minGain: number;
  alpha: number;
  workload: { id: number; name: string } | null;
  saveProfile?: string;
}

export async function runAdaptiveSweep(config: Config, store: Store, spec: AdaptiveSweepSpec, job: JobContext): Promise<SweepResult> {
  const { test } = spec;
  const deadline = Date.now() + spec.maxMinutes * 60_000;
  const swept = new Set(spec.space.params.map((p) => p.name));
  const { config: defaultConfig, omits } = plannedDefault(spec.base, swept);
  const space = sweepSpace(spec.space, defaultConfig, { base: spec.base, ncclVersion: spec.ncclVersion, allowInvalid: spec.allowInvalid });
  const plan: SweepPlan = { configs: [defaultConfig], repeats: spec.repeats, skipped: [], defaultOmits: omits };
  const byLabel = new Map<string, PlannedConfig>([[canonicalJson({}), defaultConfig]]);
  const trials: Trial[] = [];
  const results: { label: string; repeat: number; result: RunResult }[] = [];
  // What makes runs comparable: known now, then the topology the default ran on.
  const context: Record<string, string | number> = { collective: test.collective, min_bytes: test.flags.min_bytes, max_bytes: test.flags.max_bytes, datatype: test.flags.datatype ?? 'float', op: test.flags.op ?? 'sum' };
  let n = 0;

  const configOf = (settings: NcclEnv): PlannedConfig | { label: string; reason: string } => {
    const key = canonicalJson(settings);
    const known = byLabel.get(key);
    if (known) return known;
    const planned = plannedConfig(plan.configs.length, settings, { base: spec.base, ncclVersion: spec.ncclVersion, allowInvalid: spec.allowInvalid });
    if ('reason' in planned) return planned;
    plan.configs.push(planned);
    byLabel.set(key, planned);
    return planned;
  };

  const baseline = baselineProposal(space);
  const search = await runAdaptiveSearch({
    space,
    direction: 'higher',
    suggest: (count, extra) =>
      suggestFromHistory(
        store,
        space,
        { workload_id: spec.workload?.id, workloadName: spec.workload?.name, domain: 'nccl', metric: PRIMARY_METRIC, direction: 'higher', context, exclude_job: job.id },
        { count, seed: spec.seed, useRules: true, extra, facts: { collective: test.collective, ...topologyFacts(context) } },
      ),
    maxTrials: spec.maxRuns,
    deadline,
    signal: job.signal,
    ...searchPolicy(space, baseline, spec),
    replayHistoryBest: true,
    log: (line) => job.log(line),
    async evaluate(proposal) {
      const c = configOf(space.settingsOf(proposal.point));
      if ('reason' in c) {
        plan.skipped.push(c);
        return { status: 'rejected', values: [], note: c.reason };
      }
      n++;
      const repeat = trials.filter((t) => t.config === c.index).length;
      const { trial, result } = await runTrial(config, store, test, c, { n, total: spec.maxRuns, repeat, deadline, workloadId: spec.workload?.id ?? null, context: { adaptive_kind: proposal.kind } }, job);
      trials.push(trial);
      results.push({ label: c.label, repeat, result });
      if (n === 1) Object.assign(context, topologyContext(result));
      return trial.status === 'ok' && trial.objective !== null ? { status: 'ok', values: [trial.objective] } : { status: 'failed', values: [], note: `${trial.status}: ${result.exit.meaning}` };
    },
  });

  const notes: string[] = [];
  const result = sweepResult(store, job, {
    plan,
    collective: test.collective,
    trials,
    results,
    run: n,
    planned: spec.maxRuns,
    stoppedEarly: search.stopped === 'time' || search.stopped === 'canceled' ? search.reason : null,
    notes,
    minGain: spec.minGain,
    saveProfile: spec.saveProfile,
  });
  return { ...result, adaptive: adaptiveSummary(space.name, spec, search, (p) => labelOf(space.settingsOf(p))) };
}

/** The topology and release the default ran on: later history must match them too. */
export function baselineProposal(space: SweepSpace): Proposal {
  return proposalOf(space, space.baseline, 'baseline', 'The untuned default: every gain is measured against it in this sweep.');
}

/** How the sweep searches and stops (the bench runs the same policy on the fake's model). */
export function searchPolicy(space: Space, baseline: Proposal, spec: Pick<AdaptiveSweepSpec, 'repeats' | 'minGain' | 'alpha'>): Pick<SearchOptions, 'patience' | 'noiseFloor' | 'minConfigs' | 'first' | 'confirm'> {
  return {
    patience: patienceFor(space),
    noiseFloor: spec.minGain,
    minConfigs: startupCount(space.params),
    first: [baseline],
    confirm: { baselineKey: baseline.key, repeats: spec.repeats, maxRepeats: 2 * spec.repeats, margin: spec.minGain, alpha: spec.alpha, metric: PRIMARY_METRIC },
  };
}

function topologyContext(r: RunResult): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (r.topology.ranks !== null) out.ranks = r.topology.ranks;
  if (r.topology.nodes !== null) out.nodes = r.topology.nodes;
  if (r.versions.nccl) out.nccl_version = r.versions.nccl;
  return out;
}

function topologyFacts(context: Record<string, string | number>) {
  return {
    ...(typeof context.ranks === 'number' && { ranks: context.ranks }),
    ...(typeof context.nodes === 'number' && { nodes: context.nodes }),
    ...(typeof context.nccl_version === 'string' && { nccl_version: context.nccl_version }),
  };
}

function adaptiveSummary(spaceName: string, spec: AdaptiveSweepSpec, search: SearchResult, label: (p: SearchResult['ranked'][number]['point']) => string): NonNullable<SweepResult['adaptive']> {
  const best = search.ranked[0];
  return {
    space: spaceName,
    variables: spec.space.params.map((p) => p.name),
    seed: spec.seed,
    stopped: search.stopped,
    reason: search.reason,
    trajectory: search.trials.map((t) => ({
      trial: t.trial,
      label: label(t.proposal.point),
      kind: t.proposal.kind,
      rationale: t.proposal.rationale,
      status: t.outcome.status,
      busbw_gbps: t.outcome.values[0] ?? null,
      best_gbps: t.best_median,
      note: t.outcome.note ?? null,
    })),
    best: best ? { label: label(best.point), n: best.values.length, median_gbps: summarize(best.values).median!, first_trial: best.first_trial } : null,
    evidence: search.settlement ? evidenceOf(search.settlement, label) : null,
  };
}

function evidenceOf(s: Settlement, label: (p: Settlement['best']['point']) => string): NonNullable<NonNullable<SweepResult['adaptive']>['evidence']> {
  return {
    settled: s.settled,
    reason: s.reason,
    runner_up: s.runner_up ? label(s.runner_up.point) : null,
    vs_runner_up: s.vs_runner_up,
    vs_default: s.vs_baseline,
  };
}

/** The adaptive part of the text summary: why it stopped, the path to the best. */
export function adaptiveLines(a: NonNullable<SweepResult['adaptive']>): string[] {
  const lines = [`Adaptive (${a.space}: ${a.variables.join(', ')}; seed ${a.seed}): ${a.trajectory.length} trial(s), stopped ${a.stopped}. ${a.reason}`];
  if (a.best) lines.push(`Best: ${a.best.label}, median ${a.best.median_gbps.toFixed(2)} GB/s over ${a.best.n} run(s), first measured at trial ${a.best.first_trial}.`);
  return lines;
}
