/** run_nccl_tests: one nccl-tests run, locally or through mpirun/srun, parsed and recorded. */
import { z } from 'zod';
import { jobOutputSchema } from '../../core/jobs.js';
import { RUNS_CLIENT_CODE, defineTool, runAsJob, summarizeJob, waitSeconds } from '../../core/tool.js';
import { recordNcclRun } from '../run/history.js';
import { runFailure, runNcclTests } from '../run/runner.js';
import { runResultSchema, type RunResult } from '../schemas.js';
import { buildRunSpec, envFields, launcherFields, measureFields, testFields, workloadIdOf } from './inputs.js';

export const runNcclTestsTool = defineTool({
  name: 'run_nccl_tests',
  toolset: 'nccl',
  title: 'Run nccl-tests',
  description:
    'Run one nccl-tests benchmark (all_reduce_perf etc.) with an NCCL environment, on this node or across nodes through mpirun or srun, and record it in history. ' +
    'Returns versions, devices and ranks, the parsed rows (size, time, algbw, busbw, #wrong), the out-of-bounds verdict, tuneloop\'s objective ' +
    '(mean busbw over the largest message-size band) and per-band figures, NCCL WARN lines, failures with the exit code\'s meaning, and with ' +
    'log_nccl_choices the algorithm/protocol/channels NCCL chose. Runs as a job (poll job_status). Needs nccl-tests built (MPI=1 for mpirun/srun).',
  annotations: RUNS_CLIENT_CODE,
  input: z.object({
    ...testFields,
    ...launcherFields,
    ...envFields,
    ...measureFields,
    record: z.boolean().default(true).describe('Record the run in history (domain nccl).'),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(runResultSchema),
  async handler(args, ctx) {
    const { runtime } = ctx;
    const spec = buildRunSpec(runtime, args);
    const workloadId = workloadIdOf(runtime, args.workload);
    return runAsJob(ctx, 'run_nccl_tests', args, args.wait_s, async (job): Promise<RunResult> => {
      const outcome = await runNcclTests(runtime.config, spec, job);
      const run = args.record ? recordNcclRun(runtime.store, outcome.result, { jobId: job.id, workloadId, flags: spec.flags, edges: spec.edges }) : null;
      return { ...outcome.result, run_id: run?.id ?? null };
    }, runFailure);
  },
  summarize: (view) => summarizeJob(view, summarizeRun),
});

export function summarizeRun(r: RunResult): string {
  const lines = [r.summary];
  const bands = r.bands.filter((b) => b.rows > 0).map((b) => `${b.band} ${b.busbw_mean_gbps?.toFixed(2) ?? '?'} GB/s (${b.rows})`);
  if (bands.length) lines.push(`Bands: ${bands.join(', ')}`);
  if (r.nccl_warnings.length) lines.push(`NCCL WARN (${r.nccl_warning_count}): ${r.nccl_warnings.slice(0, 3).join(' | ')}`);
  if (r.failures.length) lines.push(`Failures: ${r.failures.slice(0, 3).map((f) => `[${f.kind}] ${f.line}`).join(' | ')}`);
  if (r.env_dropped.length) lines.push(`Not passed on from the server environment: ${r.env_dropped.join(', ')}`);
  if (r.run_id !== null) lines.push(`Recorded as run ${r.run_id}.`);
  return lines.join('\n');
}
