/**
 * One sweep trial: nccl-tests under a config's exact environment, recorded in history, reduced to
 * what the ranking and the exports need. The grid sweep (runner.ts) and the adaptive one
 * (adaptive.ts) both run their trials here.
 */
import type { Config } from '../../core/config.js';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import { ncclCollectiveOf } from '../params/lists.js';
import { effectiveEnv } from '../run/env.js';
import { recordNcclRun } from '../run/history.js';
import { runNcclTests, type RunSpec } from '../run/runner.js';
import type { RunResult } from '../schemas.js';
import type { PlannedConfig } from './plan.js';
import type { Trial } from './ranking.js';
import { rowSizeOfLogged } from './tuner-csv.js';

export type TestSpec = Omit<RunSpec, 'env' | 'envWarnings'>;

export interface TrialRun {
  trial: Trial;
  result: RunResult;
}

export interface TrialPlace {
  /** 1-based number of this execution in the sweep. */
  n: number;
  /** Executions planned (grid) or budgeted (adaptive). */
  total: number;
  repeat: number;
  deadline: number;
  workloadId: number | null;
  /** Extra context recorded with the run. */
  context?: Record<string, unknown>;
}

export async function runTrial(config: Config, store: Store, test: TestSpec, c: PlannedConfig, place: TrialPlace, job: JobContext): Promise<TrialRun> {
  const { n, total, repeat } = place;
  // Exactly the planned env: anything else NCCL_* in the server's environment is removed, so the
  // default really runs without the tuning variables the plan left out of it.
  const env = effectiveEnv(c.env, false);
  const progress = (message: string) => job.progress({ done: n - 1, total, message: `trial ${n}/${total} (${c.label}): ${message}` });
  progress('starting');
  const outcome = await runNcclTests(
    config,
    { ...test, env, envWarnings: c.warnings, timeoutMs: Math.max(10_000, Math.min(test.timeoutMs, place.deadline - Date.now())) },
    { dir: job.dir, logFile: job.logFile, signal: job.signal, log: job.log, progress: (p) => progress(p.message ?? '') },
    `trial-${String(n).padStart(3, '0')}-`,
  );
  const run = recordNcclRun(store, outcome.result, {
    jobId: job.id,
    workloadId: place.workloadId,
    flags: test.flags,
    edges: test.edges,
    notes: `nccl_sweep ${job.id} trial ${n}/${total}: ${c.label} — ${outcome.result.summary}`,
    context: { sweep_job: job.id, sweep_config: c.label, repeat, ...place.context },
  });
  const result: RunResult = { ...outcome.result, run_id: run.id };
  job.log(`[tuneloop] trial ${n}/${total} ${c.label}: ${result.summary}`);
  return {
    result,
    trial: {
      config: c.index,
      repeat,
      status: run.status,
      runId: run.id,
      objective: run.status === 'ok' ? result.objective.value : null,
      bands: Object.fromEntries(result.bands.filter((b) => b.busbw_mean_gbps !== null).map((b) => [b.band, b.busbw_mean_gbps as number])),
      bySize: run.status === 'ok' ? outcome.bySize : new Map(),
      choices: choicesBySize(result),
    },
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
