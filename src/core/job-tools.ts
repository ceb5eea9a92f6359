/** The jobs toolset (always on): poll and cancel the jobs other tools start. */
import { z } from 'zod';
import { anyJobOutputSchema, MAX_WAIT_S } from './jobs.js';
import { READ_ONLY, defineTool, settleJob, summarizeJob } from './tool.js';

const jobId = z.string().min(1).describe('The job_id a job-starting tool returned.');

export const jobStatusTool = defineTool({
  name: 'job_status',
  toolset: 'jobs',
  title: 'Job status',
  description:
    'Status of a job started by another tool, waiting up to wait_s for it to finish. ' +
    'Jobs come from run_nccl_tests, nccl_sweep, benchmark_workload, build_scheduler, triton_verify and triton_profile; the answer has status, progress, the log tail, and the result once it has succeeded. ' +
    'A job that failed, was canceled or was interrupted is answered as an error (the cause first), carrying the same structured view.',
  annotations: READ_ONLY,
  input: z.object({
    job_id: jobId,
    wait_s: z.number().min(0).max(MAX_WAIT_S).default(20).describe(`Seconds to wait for the job to finish before answering (max ${MAX_WAIT_S}).`),
  }),
  output: anyJobOutputSchema,
  async handler(args, ctx) {
    // The deferred answer of the tool that started the job: a job that failed is an error here too.
    return settleJob(await ctx.runtime.jobs.wait(args.job_id, args.wait_s, (p) => ctx.reportProgress(p), ctx.signal));
  },
  summarize: (view) => summarizeJob(view, (r) => JSON.stringify(r).slice(0, 2000)),
});

export const jobCancelTool = defineTool({
  name: 'job_cancel',
  toolset: 'jobs',
  title: 'Cancel a job',
  description: 'Cancel a running job: its child processes are stopped (SIGTERM, then SIGKILL) and it ends as "canceled". A finished job is returned unchanged.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ job_id: jobId }),
  output: anyJobOutputSchema,
  async handler(args, ctx) {
    return ctx.runtime.jobs.cancel(args.job_id);
  },
  summarize: (view) => summarizeJob(view, () => 'It finished before it could be canceled.'),
  // Canceled, or already over: what was asked holds. Still running: the cancel did not take.
  failure: (view) => (view.status === 'running' ? `Job ${view.job_id} is still running 5 s after the cancel request (its owner server may be busy); call job_cancel again or job_status.` : null),
});

export const jobTools = [jobStatusTool, jobCancelTool];
