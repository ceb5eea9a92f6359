/** The profile phase, shared by triton_profile and triton_verify {profile: true}. */
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { runPhase, type PhaseOutcome } from './harness.js';
import { profileDir, traceUri } from './profile-paths.js';
import type { ProfileSummary } from './schemas.js';

export interface ProfileRequest {
  jobId: string;
  jobDir: string;
  referenceDir: string;
  candidatePath: string | null;
  entry: string;
  steps: number;
  rowLimit: number;
  timeoutMs: number;
  signal: AbortSignal;
  logFile: string;
  transcriptDir: string;
}

type ProfileResult = Omit<ProfileSummary, 'trace_uri'> & Record<string, unknown>;

export async function runProfile(config: Config, r: ProfileRequest): Promise<{ summary: ProfileSummary | null; outcome: PhaseOutcome<ProfileResult> }> {
  const out = profileDir(r.jobDir);
  const args = ['--reference', r.referenceDir, '--out', out, '--steps', String(r.steps), '--row-limit', String(r.rowLimit), '--entry', r.entry];
  if (r.candidatePath) args.push('--candidate', r.candidatePath);
  const outcome = await runPhase<ProfileResult>(config, 'profile', args, {
    timeoutMs: r.timeoutMs,
    signal: r.signal,
    logFile: r.logFile,
    cwd: join(r.jobDir, 'experiment'),
    tritonCacheDir: join(r.jobDir, 'experiment', 'triton-cache', 'profile'),
    transcriptDir: r.transcriptDir,
  });
  if (!outcome.result) {
    if (outcome.error?.kind === 'environment') throw new UserError(outcome.error.message, outcome.error.remedy ?? undefined);
    return { summary: null, outcome };
  }
  const p = outcome.result;
  const summary: ProfileSummary = {
    variant: p.variant,
    device: p.device,
    steps: p.steps,
    sort_by: p.sort_by,
    trace_uri: traceUri(r.jobId),
    trace_path: p.trace_path,
    table_path: p.table_path,
    top_operators: p.top_operators,
  };
  return { summary, outcome };
}
