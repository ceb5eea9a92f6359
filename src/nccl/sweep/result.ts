/**
 * A sweep's result from its trials, however they were chosen (grid or adaptive): every trial to
 * trials.json, the ranking overall, per band and per size against the default, the winner, and
 * the tuner CSV and nccl.conf exports.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import type { RunResult, SweepResult } from '../schemas.js';
import { runFailure } from '../run/runner.js';
import { confidence, exportSweep, pct } from './exports.js';
import type { SweepPlan } from './plan.js';
import { bandStandings, sizeStandings, standings, type Standing, type Trial } from './ranking.js';

const MAX_RANKED = 50;

/** With this many runs per side compare() can confirm a gain; below it a margin is all there is. */
const CONFIRMABLE_N = 4;

export interface SweepRecord {
  /** The configs measured (index 0: the untuned default). */
  plan: SweepPlan;
  collective: string;
  trials: Trial[];
  results: { label: string; repeat: number; result: RunResult }[];
  /** Executions run, and planned (grid) or budgeted (adaptive). */
  run: number;
  planned: number;
  stoppedEarly: string | null;
  notes: string[];
  minGain: number;
  saveProfile?: string;
}

export const DEFAULT_NEVER_MEASURED = 'The default never produced a bus bandwidth';

export function sweepResult(store: Store, job: Pick<JobContext, 'id' | 'dir'>, r: SweepRecord): SweepResult {
  const { plan, trials, notes } = r;
  const trialsFile = join(job.dir, 'trials.json');
  writeFileSync(trialsFile, `${JSON.stringify(r.results, null, 1)}\n`, { mode: 0o600 });
  const ranking = standings(plan.configs, trials, (t) => t.objective, 'busbw_gbps');
  const defaultStanding = ranking.find((s) => s.config_index === 0)!;
  const lastDefault = r.results.filter((x) => x.label === plan.configs[0].label).at(-1)?.result ?? null;
  if (defaultStanding.n === 0) notes.unshift(`${DEFAULT_NEVER_MEASURED}${lastDefault ? ` (${runFailure(lastDefault) ?? lastDefault.summary})` : ' (it never ran)'}: margins cannot be computed. Check the default run in trials_file.`);
  const winner = pickWinner(ranking, defaultStanding.n, r.minGain);
  const topology = { nodes: lastDefault?.topology.nodes ?? null, ranks: lastDefault?.topology.ranks ?? null };
  const exports = exportSweep(store, job, { plan, collective: r.collective, trials, winner, minGain: r.minGain, topology, saveProfile: r.saveProfile, refuted }, notes);
  const ok = trials.filter((t) => t.status === 'ok').length;
  return {
    summary: summaryLine(r.collective, winner, defaultStanding, r.run, r.planned),
    collective: r.collective,
    trials: { planned: r.planned, run: r.run, ok, failed: r.run - ok },
    stopped_early: r.stoppedEarly,
    default: { env: plan.configs[0].env, omitted: plan.defaultOmits, median_gbps: defaultStanding.median_gbps },
    ranking: topOf(ranking, MAX_RANKED),
    ranking_total: ranking.length,
    bands: bandStandings(plan.configs, trials),
    per_size: sizeStandings(plan.configs, trials).slice(0, 128),
    winner,
    skipped: plan.skipped,
    exports,
    topology,
    versions: lastDefault?.versions ?? r.results[0]?.result.versions ?? { nccl: null, nccl_tests: null },
    run_ids: trials.map((t) => t.runId).filter((id): id is number => id !== null),
    trials_file: trialsFile,
  };
}

/** The first `max` standings, plus the default's wherever it ranked. */
function topOf(ranking: Standing[], max: number): Standing[] {
  const top = ranking.slice(0, max);
  const def = ranking.find((s) => s.config_index === 0);
  return def && !top.includes(def) ? [...top, def] : top;
}

/** The best config, if it beats the default by min_gain and the statistics do not contradict it. */
function pickWinner(ranking: Standing[], defaultN: number, minGain: number): Standing | null {
  const best = ranking[0];
  if (!best || best.config_index === 0 || best.margin_vs_default === null || best.margin_vs_default < minGain) return null;
  return refuted(best, defaultN) ? null : best;
}

/** With enough repeats on both sides, a gain compare() cannot confirm is not exported. */
function refuted(s: { n: number; verdict: string }, defaultN: number): boolean {
  return s.n >= CONFIRMABLE_N && defaultN >= CONFIRMABLE_N && s.verdict !== 'better';
}

function summaryLine(collective: string, winner: Standing | null, def: Standing, n: number, planned: number): string {
  const base = `${collective} sweep, ${n}/${planned} trials; default ${def.median_gbps?.toFixed(2) ?? '?'} GB/s`;
  return winner ? `${base}; winner ${winner.label}: ${winner.median_gbps?.toFixed(2)} GB/s (${pct(winner.margin_vs_default)}, ${confidence(winner)})` : `${base}; nothing beat the default`;
}
