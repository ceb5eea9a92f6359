/**
 * Where a Triton job's profile lives and the URIs it is served under. Apart from profile.ts so that the
 * resources registered at start-up do not load the harness and, through it, the process runner.
 */
import { join } from 'node:path';

export const TRACE_URI_TEMPLATE = 'tuneloop://triton/jobs/{job_id}/trace';
export const TABLE_URI_TEMPLATE = 'tuneloop://triton/jobs/{job_id}/table';

export function traceUri(jobId: string): string {
  return TRACE_URI_TEMPLATE.replace('{job_id}', jobId);
}

/** Every Triton job keeps its profile here; the trace resource reads it from there. */
export function profileDir(jobDir: string): string {
  return join(jobDir, 'experiment', 'profile');
}
