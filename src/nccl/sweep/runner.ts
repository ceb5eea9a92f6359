/**
 * nccl_sweep's job: run every planned config (default first, round-robin over repeats so drift
 * spreads evenly), record each trial in history, then rank overall, per band and per size against
 * the default, and export the tuner CSV and the winner's nccl.conf into the job directory.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import { ncclCollectiveOf } from '../params/lists.js';
import { effectiveEnv } from '../run/env.js';
import { recordNcclRun } from '../run/history.js';
import { bandStandings, sizeStandings, standings, type Standing, type Trial } from './ranking.js';
import { confidence, exportSweep, pct } from './exports.js';
import { runNcclTests, type RunSpec } from '../run/runner.js';
import type { RunResult, SweepResult } from '../schemas.js';
import type { SweepPlan } from './plan.js';
import { rowSizeOfLogged } from './tuner-csv.js';

export interface SweepSpec {
  test: Omit<RunSpec, 'env' | 'envWarnings'>;
  /** Its configs' env already holds the server's NCCL_* variables when inherit_env was asked for. */
  plan: SweepPlan;
  maxMinutes: number;
  /** Smallest margin over the default worth exporting (0.02 = 2%). */
  minGain: number;
  workloadId: number | null;
  saveProfile?: string;
}

const MAX_RANKED = 50;

/** With this many runs per side compare() can confirm a gain; below it a margin is all there is. */
const CONFIRMABLE_N = 4;

export async function runSweep(config: Config, store: Store, spec: SweepSpec, job: JobContext): Promise<SweepResult> {
  const { plan, test } = spec;
  const deadline = Date.now() + spec.maxMinutes * 60_000;
  const planned = plan.configs.length * plan.repeats;
  const trials: Trial[] = [];
  const results: { label: string; repeat: number; result: RunResult }[] = [];
  const dropped = new Set<number>();
  const notes: string[] = [];
  let stoppedEarly: string | null = null;
  let lastDefault: RunResult | null = null;
  let n = 0;

  outer: for (let repeat = 0; repeat < plan.repeats; repeat++) {
    for (const c of plan.configs) {
      if (dropped.has(c.index)) continue;
      if (job.signal.aborted) break outer;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        stoppedEarly = `max_minutes (${spec.maxMinutes}) reached after ${n} of ${planned} trials`;
        break outer;
      }
      n++;
      // Exactly the planned env: anything else NCCL_* in the server's environment is removed, so the
      // default really runs without the tuning variables the plan left out of it.
      const env = effectiveEnv(c.env, false);
      const prefix = `trial-${String(n).padStart(3, '0')}-`;
      const progress = (message: string) => job.progress({ done: n - 1, total: planned, message: `trial ${n}/${planned} (${c.label}): ${message}` });
      progress('starting');
      const outcome = await runNcclTests(
        config,
        { ...test, env, envWarnings: c.warnings, timeoutMs: Math.max(10_000, Math.min(test.timeoutMs, remaining)) },
        { dir: job.dir, logFile: job.logFile, signal: job.signal, log: job.log, progress: (p) => progress(p.message ?? '') },
        prefix,
      );
      const run = recordNcclRun(store, outcome.result, {
        jobId: job.id,
        workloadId: spec.workloadId,
        flags: test.flags,
        edges: test.edges,
        notes: `nccl_sweep ${job.id} trial ${n}/${planned}: ${c.label} — ${outcome.result.summary}`,
        context: { sweep_job: job.id, sweep_config: c.label, repeat },
      });
      const result: RunResult = { ...outcome.result, run_id: run.id };
      results.push({ label: c.label, repeat, result });
      if (c.isDefault) lastDefault = result;
      trials.push({
        config: c.index,
        repeat,
        status: run.status,
        runId: run.id,
        objective: run.status === 'ok' ? result.objective.value : null,
        bands: Object.fromEntries(result.bands.filter((b) => b.busbw_mean_gbps !== null).map((b) => [b.band, b.busbw_mean_gbps as number])),
        bySize: run.status === 'ok' ? outcome.bySize : new Map(),
        choices: choicesBySize(result),
      });
      job.log(`[tuneloop] trial ${n}/${planned} ${c.label}: ${result.summary}`);
      if (run.status !== 'ok' && run.status !== 'canceled' && !c.isDefault && repeat === 0) {
        dropped.add(c.index);
        notes.push(`${c.label} ${run.status} on its first run (${result.exit.meaning}); its other repeats were skipped.`);
      }
    }
  }

  const trialsFile = join(job.dir, 'trials.json');
  writeFileSync(trialsFile, `${JSON.stringify(results, null, 1)}\n`, { mode: 0o600 });
  const ranking = standings(plan.configs, trials, (t) => t.objective, 'busbw_gbps');
  const defaultStanding = ranking.find((s) => s.config_index === 0)!;
  if (defaultStanding.n === 0) notes.push('The default never produced a bus bandwidth: margins cannot be computed. Check the default run in trials_file.');
  const winner = pickWinner(ranking, defaultStanding.n, spec.minGain);
  const topology = { nodes: lastDefault?.topology.nodes ?? null, ranks: lastDefault?.topology.ranks ?? null };
  const exports = exportSweep(store, job, { plan, collective: test.collective, trials, winner, minGain: spec.minGain, topology, saveProfile: spec.saveProfile, refuted }, notes);
  const ok = trials.filter((t) => t.status === 'ok').length;
  return {
    summary: summaryLine(test.collective, winner, defaultStanding, n, planned),
    collective: test.collective,
    trials: { planned, run: n, ok, failed: n - ok },
    stopped_early: stoppedEarly ?? (job.signal.aborted ? 'canceled' : null),
    default: { env: plan.configs[0].env, omitted: plan.defaultOmits, median_gbps: defaultStanding.median_gbps },
    ranking: topOf(ranking, MAX_RANKED),
    ranking_total: ranking.length,
    bands: bandStandings(plan.configs, trials),
    per_size: sizeStandings(plan.configs, trials).slice(0, 128),
    winner,
    skipped: plan.skipped,
    exports,
    topology,
    versions: lastDefault?.versions ?? results[0]?.result.versions ?? { nccl: null, nccl_tests: null },
    run_ids: trials.map((t) => t.runId).filter((id): id is number => id !== null),
    trials_file: trialsFile,
  };
}

/** What NCCL logged it chose, keyed by the nccl-tests row size (see rowSizeOfLogged). */
function choicesBySize(result: RunResult): Trial['choices'] {
  const choices: Trial['choices'] = new Map();
  const collective = ncclCollectiveOf(result.collective);
  for (const ch of result.nccl_choices.filter((c) => c.collective === null || c.collective === collective)) {
    const size = rowSizeOfLogged(ch, result.topology.ranks);
    if (size !== null) choices.set(size, { algorithm: ch.algorithm, protocol: ch.protocol, channels: ch.channels });
  }
  return choices;
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
