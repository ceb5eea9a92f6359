/**
 * The profile phase, shared by triton_profile and triton_verify {profile: true}: the baseline runs
 * as trusted code from its case folder; a candidate runs in the same sandbox a verify gives it
 * (its in/ folder holds the spec and weights the trusted process wrote), writing only the
 * profile folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from '../core/exec.js';
import type { Runtime } from '../core/runtime.js';
import { sandboxIsolation } from '../core/sandbox.js';
import { UserError } from '../core/errors.js';
import { requireResult, runPhase } from './harness.js';
import { candidateSandbox, type SandboxDirs } from './isolation.js';
import { profileDir, traceUri } from './profile-paths.js';
import type { ProfileSummary } from './schemas.js';

export interface ProfileRequest {
  jobId: string;
  jobDir: string;
  /** Profile this candidate (in its sandbox); the baseline otherwise. */
  candidate: { dirs: SandboxDirs; entry: string; forbidden: string[]; threads: number } | null;
  caseDir: string;
  device: string;
  steps: number;
  rowLimit: number;
  timeoutMs: number;
  signal: AbortSignal;
  logFile: string;
}

type ProfileResult = Omit<ProfileSummary, 'trace_uri'> & Record<string, unknown>;

export async function runProfile(runtime: Runtime, r: ProfileRequest): Promise<{ summary: ProfileSummary | null; end: ExecResult; error: string | null }> {
  const out = profileDir(r.jobDir);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const args = ['--out', out, '--steps', String(r.steps), '--row-limit', String(r.rowLimit), '--device', r.device];
  const common = { timeoutMs: r.timeoutMs, signal: r.signal, logFile: r.logFile, transcriptDir: join(r.jobDir, 'experiment', 'harness') };
  let outcome;
  if (r.candidate) {
    const paths = requireResult(await runPhase<{ roots: string[] }>(runtime.config, 'paths', [], { timeoutMs: 60_000, signal: r.signal }), runtime.config);
    const { spec } = candidateSandbox({ dirs: r.candidate.dirs, pythonRoots: paths.roots, forbidden: r.candidate.forbidden, device: r.device as 'cpu' | 'cuda', interpret: false, isolation: sandboxIsolation() });
    spec.rwBinds = [...(spec.rwBinds ?? []), out];
    const threads = ['--threads', String(r.candidate.threads)];
    outcome = await runPhase<ProfileResult>(runtime.config, 'profile', [...args, ...threads, '--input', r.candidate.dirs.input, '--entry', r.candidate.entry], { ...common, sandbox: spec });
  } else {
    outcome = await runPhase<ProfileResult>(runtime.config, 'profile', [...args, '--case-dir', r.caseDir], { ...common, cwd: join(r.jobDir, 'experiment'), tritonCacheDir: join(r.jobDir, 'experiment', 'triton-cache') });
  }
  if (!outcome.result) {
    if (outcome.error?.kind === 'environment') throw new UserError(outcome.error.message, outcome.error.remedy ?? undefined);
    const error = outcome.error?.message ?? (outcome.timedOut ? 'the profile phase timed out' : `the profile process ended without a result (exit ${outcome.exitCode ?? outcome.signal})`);
    return { summary: null, end: outcome.exec, error };
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
  return { summary, end: outcome.exec, error: null };
}
