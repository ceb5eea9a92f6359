/**
 * Every nccl-tests execution becomes a history run: domain "nccl", config = the NCCL variables
 * that shape NCCL's behaviour (logging variables go to the context), primary metric busbw_gbps
 * (tuneloop's objective, higher is better), context = where it ran (nodes, ranks, GPUs, NCCL and
 * nccl-tests versions) and what was measured.
 */
import type { Store } from '../../core/store.js';
import { recordRun, type Run } from '../../learn/runs.js';
import { recordedConfig } from './env.js';
import type { BandEdges } from './objective.js';
import type { RunResult } from '../schemas.js';
import type { TestFlags } from './test-args.js';

export const PRIMARY_METRIC = 'busbw_gbps';

export interface RecordOptions {
  jobId: string;
  workloadId?: number | null;
  flags: TestFlags;
  edges: BandEdges;
  notes?: string;
  /** Extra context (e.g. the sweep a trial belongs to). */
  context?: Record<string, unknown>;
}

export function recordNcclRun(store: Store, result: Omit<RunResult, 'run_id'>, options: RecordOptions): Run {
  const { config, logging, otherNames } = recordedConfig(result.env);
  const metrics: Record<string, number> = { rows: result.rows_total, duration_s: result.duration_s };
  if (result.objective.value !== null) metrics[PRIMARY_METRIC] = result.objective.value;
  for (const band of result.bands) {
    if (band.busbw_mean_gbps !== null) metrics[`busbw_${band.band}_gbps`] = band.busbw_mean_gbps;
  }
  if (result.avg_busbw_gbps !== null) metrics.avg_busbw_gbps = result.avg_busbw_gbps;
  const peak = Math.max(...result.bands.map((b) => b.busbw_max_gbps ?? -Infinity));
  if (Number.isFinite(peak)) metrics.peak_busbw_gbps = peak;
  if (result.out_of_bounds) metrics.out_of_bounds = result.out_of_bounds.count;
  // An "ok" run with no bandwidth at all (every row N/A) has nothing to rank: record it as failed.
  const status = result.status === 'ok' && metrics[PRIMARY_METRIC] === undefined ? 'failed' : result.status;
  return recordRun(store, {
    domain: 'nccl',
    workload_id: options.workloadId ?? null,
    config,
    metrics,
    primary_metric: PRIMARY_METRIC,
    direction: 'higher',
    status,
    job_id: options.jobId,
    notes: options.notes ?? result.summary,
    context: {
      collective: result.collective,
      launcher: result.launcher,
      nodes: result.topology.nodes,
      ranks: result.topology.ranks,
      gpus: result.topology.gpus,
      gpu_models: result.topology.gpu_models,
      hosts: result.topology.hosts.slice(0, 32),
      nccl_version: result.versions.nccl,
      nccl_tests_version: result.versions.nccl_tests,
      binary: result.binary,
      min_bytes: options.flags.min_bytes,
      max_bytes: options.flags.max_bytes,
      max_bytes_measured: result.size_range.measured_max_bytes,
      max_bytes_reduced: result.size_range.reduced,
      datatype: options.flags.datatype ?? 'float',
      op: options.flags.op ?? 'sum',
      objective_band: result.objective.band,
      band_edges: { small_max_bytes: options.edges.smallMaxBytes, large_min_bytes: options.edges.largeMinBytes },
      exit_code: result.exit.code,
      nccl_logging_env: logging,
      other_env_names: otherNames,
      ...options.context,
    },
  });
}
