/**
 * The adaptive search loop the execution tools share (benchmark_workload's and nccl_sweep's
 * adaptive modes): each next config comes from the suggester over the runs recorded so far, the
 * tool measures it (`evaluate`), and this loop decides what comes next and when to stop.
 *
 * - `first` proposals run before any suggestion (nccl_sweep: the untuned default). With
 *   `replayHistoryBest`, the best config history knows for this problem is measured next: the
 *   suggester never re-proposes what history has measured, yet a verdict needs it measured here.
 * - A proposal the tool refuses (validation) is a 'rejected' trial, one whose runs all fail a
 *   'failed' trial; neither is proposed again, and both are shown to the suggester as the worst
 *   value measured so far, so it stops searching near them (history keeps them as they were).
 * - Converged: once `minConfigs` configs are measured, the best median has not moved beyond the
 *   noise over the last `patience` trials (noise: the pooled run-to-run spread, at least
 *   `noiseFloor` x the best).
 * - With `confirm`, convergence starts a confirmation instead of ending the search: the best, the
 *   runner-up and the baseline are measured round-robin until each has `repeats` ok runs, then
 *   settle() decides (see there). Unsettled, the target grows to `maxRepeats` runs; then the
 *   search stops 'converged' (the top is not resolved within that many runs).
 * - It also stops on the trial budget, the deadline, a cancel, or when the suggester has nothing new.
 * Deterministic for a given seed when the measurements are.
 */
import { configKey } from '../canonical.js';
import { compare, summarize, withinMargin, type Comparison, type Direction } from '../stats.js';
import { spaceSize, type Point, type Space } from './space.js';
import type { CandidateKind, ConfigObservation, Suggestion } from './suggester.js';

export type StopReason = 'settled' | 'converged' | 'budget' | 'time' | 'exhausted' | 'canceled';
export type ProposalKind = CandidateKind | 'baseline' | 'history-best' | 'confirm';

export interface Proposal {
  point: Point;
  /** The config as history records it (space.toConfig). */
  config: unknown;
  key: string;
  kind: ProposalKind;
  rationale: string;
}

export interface TrialOutcome {
  status: 'ok' | 'failed' | 'rejected';
  /** The objective over the trial's ok runs. */
  values: number[];
  note?: string | null;
}

export interface SearchTrial {
  trial: number;
  proposal: Proposal;
  outcome: TrialOutcome;
  /** The best median after this trial. */
  best_median: number | null;
}

export interface SearchEntry {
  key: string;
  point: Point;
  config: unknown;
  values: number[];
  /** The trial that first measured it. */
  first_trial: number;
}

export interface Settlement {
  settled: boolean;
  best: SearchEntry;
  runner_up: SearchEntry | null;
  /** The best (b) against the runner-up (a). */
  vs_runner_up: Comparison | null;
  /** The best (b) against the baseline (a); null when the best is the baseline or it has no runs. */
  vs_baseline: Comparison | null;
  reason: string;
}

export interface ConfirmOptions {
  /** Key of the config every gain is relative to (the untuned default). */
  baselineKey: string;
  repeats: number;
  maxRepeats: number;
  /** Differences within this share of the best's median are practically equal (min_gain). */
  margin: number;
  alpha: number;
  metric: string;
}

export interface SearchOptions {
  space: Space;
  direction: Direction;
  /**
   * The suggester over history (leaving out this search's own runs) plus `extra`: this search's
   * measurements, and its failed or refused configs at the worst value measured.
   */
  suggest(count: number, extra: ConfigObservation[]): Suggestion;
  evaluate(proposal: Proposal, trial: number): Promise<TrialOutcome>;
  maxTrials: number;
  /** Epoch ms after which no trial starts. */
  deadline?: number;
  signal?: AbortSignal;
  patience: number;
  noiseFloor: number;
  minConfigs?: number;
  first?: Proposal[];
  replayHistoryBest?: boolean;
  confirm?: ConfirmOptions;
  log?(line: string): void;
}

export interface SearchResult {
  trials: SearchTrial[];
  stopped: StopReason;
  /** Why, in words. */
  reason: string;
  /** Configs measured in this search with an ok value, best first. */
  ranked: SearchEntry[];
  settlement: Settlement | null;
}

/** A suggester candidate (or any point) as a proposal. */
export function proposalOf(space: Space, point: Point, kind: ProposalKind, rationale: string): Proposal {
  const config = space.toConfig(point);
  return { point, config, key: configKey(config), kind, rationale };
}

export async function runAdaptiveSearch(o: SearchOptions): Promise<SearchResult> {
  const entries = new Map<string, SearchEntry>();
  const excluded = new Map<string, Point>();
  const trials: SearchTrial[] = [];
  const bestHistory: number[] = [];
  const queue = [...(o.first ?? [])];
  const better = (x: number, y: number) => (o.direction === 'lower' ? x < y : x > y);
  const medianOf = (e: SearchEntry) => summarize(e.values).median!;
  const ranked = () => [...entries.values()].filter((e) => e.values.length).sort((a, b) => (better(medianOf(a), medianOf(b)) ? -1 : better(medianOf(b), medianOf(a)) ? 1 : a.first_trial - b.first_trial));
  const worst = () => ranked().at(-1);
  const observations = (): ConfigObservation[] => {
    const w = worst();
    const measured = [...entries.values()].map((e) => ({ point: e.point, values: e.values, run_ids: [] }));
    return w ? [...measured, ...[...excluded.values()].map((point) => ({ point, values: [medianOf(w)], run_ids: [] }))] : measured;
  };
  const size = spaceSize(o.space.params);
  let target = o.confirm?.repeats ?? 0;
  let confirming = false;
  let settlement: Settlement | null = null;
  let stopped: StopReason | null = null;
  let reason = '';
  const stop = (why: StopReason, text: string): null => {
    stopped = why;
    reason = text;
    return null;
  };

  if (o.replayHistoryBest) {
    const best = o.suggest(1, []).best;
    const p = best && proposalOf(o.space, best.point, 'history-best', `The best config history knows for this problem (median ${round(best.median)}, n=${best.n}): measured here against this search's baseline.`);
    if (p && !queue.some((q) => q.key === p.key)) queue.push(p);
  }

  /** The next proposal, or null once a stop reason is set. */
  const next = (): Proposal | null => {
    for (;;) {
      const queued = queue.shift();
      if (queued) return queued;
      if (confirming) {
        const run = confirmation(o.confirm!, ranked(), entries, excluded, target);
        if (run) return run;
        settlement = settle(o.confirm!, o.direction, ranked(), entries.get(o.confirm!.baselineKey) ?? null);
        if (settlement.settled) return stop('settled', settlement.reason);
        if (target >= o.confirm!.maxRepeats) return stop('converged', `The best stopped improving, but after ${target} runs each ${settlement.reason}`);
        target = Math.min(o.confirm!.maxRepeats, target + Math.ceil(o.confirm!.repeats / 2));
        o.log?.(`[tuneloop] not settled yet (${settlement.reason}): ${target} runs each`);
        continue;
      }
      if (entries.size + excluded.size >= size) {
        // Every config measured (or refused): nothing new can come from the suggester.
        if (!o.confirm || ranked().length === 0) return stop('exhausted', 'Every config of the space was tried.');
        confirming = true;
        o.log?.('[tuneloop] every config of the space was tried: confirming the best');
        continue;
      }
      const suggestion = o.suggest(Math.min(1 + excluded.size, 16), observations());
      const proposal = suggestion.candidates.map((c) => proposalOf(o.space, c.point, c.kind, c.rationale)).find((p) => !excluded.has(p.key));
      if (proposal) return proposal;
      if (!o.confirm || ranked().length === 0) return stop('exhausted', 'The space has nothing new to try.');
      confirming = true;
      o.log?.('[tuneloop] the space has nothing new: confirming the best');
    }
  };

  let trial = 0;
  while (stopped === null) {
    if (o.signal?.aborted) stop('canceled', 'Canceled.');
    else if (trial >= o.maxTrials) stop('budget', `The trial budget (${o.maxTrials}) is spent.`);
    else if (o.deadline !== undefined && Date.now() >= o.deadline) stop('time', `The time budget ran out after ${trial} trial(s).`);
    const proposal = stopped === null ? next() : null;
    if (!proposal) break;
    trial++;
    o.log?.(`[tuneloop] trial ${trial} (${proposal.kind}): ${JSON.stringify(proposal.config)}: ${proposal.rationale}`);
    const outcome = await o.evaluate(proposal, trial);
    if (outcome.status === 'ok' && outcome.values.length) {
      const entry = entries.get(proposal.key) ?? { key: proposal.key, point: proposal.point, config: proposal.config, values: [], first_trial: trial };
      entry.values.push(...outcome.values);
      entries.set(proposal.key, entry);
    } else if (!entries.has(proposal.key)) {
      excluded.set(proposal.key, proposal.point);
    }
    const best = ranked()[0];
    trials.push({ trial, proposal, outcome, best_median: best ? medianOf(best) : null });
    if (outcome.status === 'rejected') continue;
    bestHistory.push(best ? medianOf(best) : NaN);
    if (!confirming && converged(o, bestHistory, ranked(), entries.size)) {
      if (!o.confirm) stop('converged', `The best median did not move beyond the noise over the last ${o.patience} trials.`);
      confirming = true;
      o.log?.(`[tuneloop] the best stopped moving over ${o.patience} trials: confirming it against the runner-up and the baseline`);
    }
  }
  // Stopped before a settle check (budget, time ...): the evidence as it stands.
  if (!settlement && o.confirm && ranked().length) settlement = settle(o.confirm, o.direction, ranked(), entries.get(o.confirm.baselineKey) ?? null);
  return { trials, stopped: stopped!, reason, ranked: ranked(), settlement };
}

/** The best median moved by at most the noise over the last `patience` trials. */
function converged(o: SearchOptions, bestHistory: number[], ranked: SearchEntry[], measured: number): boolean {
  const best = ranked[0];
  const patience = o.patience;
  if (!best || bestHistory.length <= patience || measured < Math.min(o.minConfigs ?? 0, spaceSize(o.space.params))) return false;
  const median = summarize(best.values).median!;
  const spread = pooledSd(ranked.map((e) => e.values));
  const noise = Math.max(spread ?? 0, o.noiseFloor * Math.abs(median));
  const before = bestHistory[bestHistory.length - 1 - patience];
  return Number.isFinite(before) && Math.abs(median - before) <= noise;
}

/** The next confirmation run: the one of best, runner-up and baseline with the fewest runs below `target`. */
function confirmation(c: ConfirmOptions, ranked: SearchEntry[], entries: Map<string, SearchEntry>, excluded: Map<string, Point>, target: number): Proposal | null {
  const group = [ranked[0], ranked[1], entries.get(c.baselineKey)].filter((e): e is SearchEntry => e !== undefined && !excluded.has(e.key));
  const unique = [...new Map(group.map((e) => [e.key, e])).values()];
  const next = unique.filter((e) => e.values.length < target).sort((a, b) => a.values.length - b.values.length)[0];
  if (!next) return null;
  const role = next === ranked[0] ? 'the best' : next.key === c.baselineKey ? 'the baseline' : 'the runner-up';
  return { point: next.point, config: next.config, key: next.key, kind: 'confirm', rationale: `Confirmation: run ${next.values.length + 1} of ${target} for ${role}.` };
}

/**
 * Settled when the best is ahead of the runner-up and of the baseline, each either by compare()
 * ('better') or within the margin (the 95% CI of the difference inside ±margin x best: practically
 * equal, so either is as good). A best that is the baseline settles as "the default holds".
 */
export function settle(c: ConfirmOptions, direction: Direction, ranked: SearchEntry[], baseline: SearchEntry | null): Settlement {
  const best = ranked[0];
  const runnerUp = ranked[1] ?? null;
  const margin = c.margin * Math.abs(summarize(best.values).median!);
  const opts = { metric: c.metric, alpha: c.alpha };
  const vsRunnerUp = runnerUp ? compare(runnerUp.values, best.values, direction, opts) : null;
  const vsBaseline = baseline && baseline.key !== best.key && baseline.values.length ? compare(baseline.values, best.values, direction, opts) : null;
  const standing = (cmp: Comparison | null, what: string): { ok: boolean; text: string } => {
    if (!cmp) return { ok: true, text: '' };
    if (cmp.verdict === 'better') return { ok: true, text: `beats ${what} (${cmp.explanation})` };
    if (withinMargin(cmp, margin)) return { ok: true, text: `is practically equal to ${what} (95% CI of the difference within ±${round(margin)})` };
    return { ok: false, text: `is not separated from ${what} yet (${cmp.explanation})` };
  };
  const r = standing(vsRunnerUp, 'the runner-up');
  const b = baseline?.key === best.key ? { ok: true, text: 'is the baseline itself' } : baseline?.values.length ? standing(vsBaseline, 'the baseline') : { ok: true, text: 'has no baseline to compare with' };
  const settled = r.ok && b.ok;
  const parts = [r.text, b.text].filter(Boolean);
  return {
    settled,
    best,
    runner_up: runnerUp,
    vs_runner_up: vsRunnerUp,
    vs_baseline: vsBaseline,
    reason: `${settled ? 'Settled: the best' : 'the best'} ${parts.join('; it ') || 'is the only config measured'}.`,
  };
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

function round(x: number): number {
  return Number(x.toPrecision(4));
}
