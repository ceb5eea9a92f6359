/**
 * triton_verify's run in history: config = candidate hash + launch params (declared and observed).
 *
 * History stays clean: only a timed correct verdict (correct_faster / correct_slower) reached with
 * a sandbox in force is recorded with status "ok", the only status get_history's aggregates and
 * best config read (learn/runs.ts). Every other verdict is recorded too, as failed, timeout or
 * invalid (suspicious, untimed correct, or any verdict without isolation), so it can never be the
 * best config.
 */
import type { Runtime } from '../core/runtime.js';
import { UserError } from '../core/errors.js';
import { recordRun, type RunStatus } from '../learn/runs.js';
import { createWorkload, findWorkload } from '../learn/workloads.js';
import type { VerifyResult } from './schemas.js';
import type { VerifyRequest } from './verify.js';

export function recordVerifyRun(runtime: Runtime, jobId: string, req: VerifyRequest, r: Omit<VerifyResult, 'run_id' | 'archive'>): number {
  const workloadId = resolveWorkload(runtime, req.workload, r.case);
  const metrics: Record<string, number> = {
    outputs_correct: r.verdict.startsWith('correct') || r.verdict === 'suspicious' ? 1 : 0,
    checks_failed: r.checks.filter((c) => c.passed === false).length,
    flags_suspicious: r.flags.filter((f) => f.severity === 'suspicious').length,
  };
  const maxAbs = Math.max(...r.outputs.map((o) => o.max_abs_error ?? -1));
  if (maxAbs >= 0 && Number.isFinite(maxAbs)) metrics.max_abs_error = maxAbs;
  if (r.timing) {
    metrics.candidate_ms = r.timing.candidate.median!;
    metrics.baseline_ms = r.timing.baseline.median!;
    metrics.speedup = r.timing.speedup;
    if (r.timing.candidate.cv !== null) metrics.candidate_cv = r.timing.candidate.cv;
  }
  const timedOut = r.phases.some((p) => p.timed_out);
  const status = runStatus(r.verdict, r.isolation, timedOut);
  const kernels = (r.compile?.kernels ?? []).map((k) => ({ name: k.name, num_warps: k.num_warps, num_stages: k.num_stages, best_config: k.best_config }));
  const run = recordRun(runtime.store, {
    domain: 'triton',
    workload_id: workloadId,
    config: {
      case: r.case,
      candidate_sha256: r.candidate_sha256,
      entry: r.entry,
      device: r.device,
      interpret: r.interpret,
      launch_params: req.launchParams,
      ...(kernels.length ? { kernels } : {}),
    },
    metrics,
    primary_metric: 'candidate_ms',
    direction: 'lower',
    context: {
      experiment: r.experiment,
      verdict: r.verdict,
      isolation: r.isolation,
      device: r.device,
      device_name: r.device_name,
      timing: r.timing?.label ?? 'not timed',
      torch: r.versions.torch ?? null,
      triton: r.versions.triton ?? null,
      python: r.versions.python ?? null,
    },
    status,
    job_id: jobId,
    notes: `${r.verdict}: ${r.verdict_reasons[0] ?? ''}`.slice(0, 2000),
  });
  return run.id;
}

export function runStatus(verdict: VerifyResult['verdict'], isolation: VerifyResult['isolation'], timedOut: boolean): RunStatus {
  if (verdict === 'compile_error' || verdict === 'incorrect') return timedOut ? 'timeout' : 'failed';
  if ((verdict === 'correct_faster' || verdict === 'correct_slower') && isolation !== 'none') return 'ok';
  return 'invalid';
}

/** The named workload, or `triton.<case>` (created on first use) so history groups runs by case. */
export function resolveWorkload(runtime: Runtime, ref: string | undefined, caseName: string): number {
  if (ref) return findWorkload(runtime.store, ref).id;
  const name = `triton.${caseName}`.slice(0, 64);
  try {
    return findWorkload(runtime.store, name).id;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
  }
  try {
    return createWorkload(runtime.store, { name, description: `Triton case ${caseName}: candidates verified by triton_verify.`, classification: 'other', tags: ['triton'] }).id;
  } catch {
    return findWorkload(runtime.store, name).id; // another session created it in between
  }
}
