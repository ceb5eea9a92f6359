/**
 * nccl_sweep's job over a fixed plan: run every planned config (default first, round-robin over
 * repeats so drift spreads evenly), each trial recorded in history (trial.ts), then rank and
 * export (result.ts). adaptive.ts is the other way to choose the trials.
 */
import type { Config } from '../../core/config.js';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import type { RunResult, SweepResult } from '../schemas.js';
import type { SweepPlan } from './plan.js';
import type { Trial } from './ranking.js';
import { sweepResult } from './result.js';
import { runTrial, type TestSpec } from './trial.js';

export interface SweepSpec {
  test: TestSpec;
  /** Its configs' env already holds the server's NCCL_* variables when inherit_env was asked for. */
  plan: SweepPlan;
  maxMinutes: number;
  /** Smallest margin over the default worth exporting (0.02 = 2%). */
  minGain: number;
  workloadId: number | null;
  saveProfile?: string;
}

export async function runSweep(config: Config, store: Store, spec: SweepSpec, job: JobContext): Promise<SweepResult> {
  const { plan, test } = spec;
  const deadline = Date.now() + spec.maxMinutes * 60_000;
  const planned = plan.configs.length * plan.repeats;
  const trials: Trial[] = [];
  const results: { label: string; repeat: number; result: RunResult }[] = [];
  const dropped = new Set<number>();
  const notes: string[] = [];
  let stoppedEarly: string | null = null;
  let n = 0;

  outer: for (let repeat = 0; repeat < plan.repeats; repeat++) {
    for (const c of plan.configs) {
      if (dropped.has(c.index)) continue;
      if (job.signal.aborted) break outer;
      if (deadline - Date.now() <= 0) {
        stoppedEarly = `max_minutes (${spec.maxMinutes}) reached after ${n} of ${planned} trials`;
        break outer;
      }
      n++;
      const { trial, result } = await runTrial(config, store, test, c, { n, total: planned, repeat, deadline, workloadId: spec.workloadId }, job);
      trials.push(trial);
      results.push({ label: c.label, repeat, result });
      if (trial.status !== 'ok' && trial.status !== 'canceled' && !c.isDefault && repeat === 0) {
        dropped.add(c.index);
        notes.push(`${c.label} ${trial.status} on its first run (${result.exit.meaning}); its other repeats were skipped.`);
      }
    }
  }

  return sweepResult(store, job, {
    plan,
    collective: test.collective,
    trials,
    results,
    run: n,
    planned,
    stoppedEarly: stoppedEarly ?? (job.signal.aborted ? 'canceled' : null),
    notes,
    minGain: spec.minGain,
    saveProfile: spec.saveProfile,
  });
}
