/**
 * The two processes of a verify, started side by side (each imports torch; on two cores that
 * overlaps):
 * - the trusted one (tlharness/trusted.py): the cached reference, the baseline, the judge; outside
 *   any sandbox, never given candidate code to run;
 * - the candidate's (tlharness/sandboxed.py), in a sandbox (core/sandbox) that holds nothing
 *   trusted, with its own compile / check deadlines.
 * The server is the third party: it relays what the trusted process needs, and nothing the
 * candidate's process says is taken without a check.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { sandboxIsolation } from '../core/sandbox.js';
import { compileSchema } from './schemas.js';
import { candidateSandbox, type SandboxDirs } from './isolation.js';
import { harnessEnv, requireResult, runPhase, tail } from './harness.js';
import { commitBuilt, discardBuild, referenceEntry, touchEntry, type ReferenceEntry } from './reference.js';
import { HarnessSession, SessionEnded, describeEnd, type Reply } from './session.js';
import type { CaseInfo } from './cases.js';
import type { Device } from './environment.js';

/** The seeds triton_verify uses by default (and triton_profile's candidates, so they share its cache). */
export const DEFAULT_SEEDS = 5;
const MAX_AUDIT_EVENTS = 500;

export const failureSchema = z.looseObject({
  stage: z.string(),
  call: z.string().nullable().optional(),
  type: z.string(),
  message: z.string(),
  is_compile_error: z.boolean().optional(),
  missing_module: z.string().nullable().optional(),
  location: z.looseObject({}).nullable().optional(),
  traceback: z.string().nullable().optional(),
});
export type Failure = z.infer<typeof failureSchema>;

/** What the candidate's process reports after the check: parsed, never trusted. */
const checkReportSchema = z.looseObject({
  failure: failureSchema.nullable(),
  calls: z.array(z.looseObject({ label: z.string(), threads_alive_after: z.number().optional() })),
  patched: z.array(z.string()).optional(),
  settings_changed: z.array(z.string()).optional(),
  threads: z.looseObject({}).optional(),
  compile: compileSchema.nullable().optional(),
});
export type CheckReport = z.infer<typeof checkReportSchema>;

export interface TrustedRequest {
  caseInfo: CaseInfo;
  entry: ReferenceEntry;
  seeds: number;
  device: Device;
  /** The candidate's in/ folder (spec.json and weights.pt are written there); absent for the baseline alone. */
  sandboxIn?: string;
  candidatePath?: string;
  systemRoots: string[];
  tolerances: Record<string, unknown>;
  allowNondeterminism: boolean;
  job: JobIO;
  /** The verify's folder (the process's cwd, and its Triton cache). */
  work: string;
}

/** What every process of a job shares: its cancel signal and its log. */
export interface JobIO {
  signal: AbortSignal;
  logFile: string;
}

export interface TrustedReady {
  session: HarnessSession;
  ready: Reply;
  /** Why the cached reference was rebuilt, when it was. */
  integrity: string | null;
}

/** Start the trusted process; resolves once the reference is loaded (or rebuilt and committed). */
export function startTrusted(runtime: Runtime, r: TrustedRequest): HarnessSession {
  const args = ['--case-dir', r.caseInfo.path, '--entry', r.entry.dir, '--build', r.entry.buildDir, '--digests', JSON.stringify(r.entry.digests ?? {})];
  args.push('--seeds', String(r.seeds), '--device', r.device, '--tolerances', JSON.stringify(r.tolerances));
  if (r.sandboxIn) args.push('--sandbox-in', r.sandboxIn);
  if (r.candidatePath) args.push('--candidate', r.candidatePath);
  if (r.allowNondeterminism) args.push('--allow-nondeterminism');
  for (const root of r.systemRoots) args.push('--system-root', root);
  for (const path of [r.caseInfo.path, runtime.config.home]) args.push('--sensitive', path);
  const tritonCacheDir = join(r.work, 'triton-cache');
  mkdirSync(tritonCacheDir, { recursive: true, mode: 0o700 });
  const env = harnessEnv({ tritonCacheDir });
  return new HarnessSession(runtime.config, 'trusted', args, { timeoutMs: 6 * 3600_000, signal: r.job.signal, logFile: r.job.logFile, env, cwd: r.work });
}

export async function awaitTrusted(runtime: Runtime, session: HarnessSession, r: TrustedRequest): Promise<TrustedReady> {
  let ready: Reply;
  try {
    ready = await session.event('ready', 600_000);
  } catch (error) {
    discardBuild(r.entry);
    await session.result;
    const e = session.harnessError;
    if (e?.kind === 'environment') throw new UserError(e.message, e.remedy ?? undefined);
    if (e?.kind === 'case') throw new UserError(`The case is invalid: ${e.message}`, e.remedy ?? 'Fix manifest.yaml or model.py.');
    const r2 = await session.result;
    throw new Error(`the trusted harness process failed (${e ? `${e.kind}: ${e.message}` : (error as Error).message}); stderr: ${tail(r2.stderr, 1500)}`);
  }
  let integrity: string | null = null;
  if (ready.integrity) {
    const i = ready.integrity as { file: string; expected: string | null; actual: string | null };
    integrity = `The cached reference failed its SHA-256 check (${i.file}: recorded ${short(i.expected)}, found ${short(i.actual)}): it was rebuilt from the case`;
  }
  if (ready.built) commitBuilt(runtime, r.entry, r.caseInfo.name, ready.digests as Record<string, string>, integrity !== null);
  else touchEntry(runtime, r.entry.key);
  return { session, ready, integrity };
}

function short(digest: string | null): string {
  return digest ? `${digest.slice(0, 12)}…` : 'nothing';
}

export interface CandidateRequest {
  dirs: SandboxDirs;
  entry: string;
  device: Device;
  interpret: boolean;
  compileTimeoutS: number;
  checkTimeoutS: number;
  benchTimeoutS: number;
  job: JobIO;
  forbidden: string[];
}

export interface CandidateProcess {
  session: HarnessSession;
  audit: Reply[];
  /** Set when the compile stage (import + first call) ran past compile_timeout_s. */
  compileTimedOut: () => boolean;
  /** Python folders left out of the sandbox because they contain the data dir. */
  dropped: string[];
  /** Folders the sandbox shows it where opening files is normal (for the audit's flags). */
  allowedRoots: string[];
}

export async function startCandidate(runtime: Runtime, r: CandidateRequest): Promise<CandidateProcess> {
  const paths = requireResult(await runPhase<{ roots: string[] }>(runtime.config, 'paths', [], { timeoutMs: 60_000, signal: r.job.signal }), runtime.config);
  const { spec, dropped, allowedRoots } = candidateSandbox({ dirs: r.dirs, pythonRoots: paths.roots, forbidden: r.forbidden, device: r.device, interpret: r.interpret, isolation: sandboxIsolation() });
  const audit: Reply[] = [];
  let stageTimer: NodeJS.Timeout | undefined;
  let compileTimedOut = false;
  const args = ['--input', r.dirs.input, '--out', r.dirs.output, '--entry', r.entry];
  const session = new HarnessSession(runtime.config, 'candidate', args, {
    timeoutMs: (r.checkTimeoutS + r.benchTimeoutS + 120) * 1000,
    signal: r.job.signal,
    logFile: r.job.logFile,
    sandbox: spec,
    onEvent(event) {
      if (event.event === 'audit' && audit.length < MAX_AUDIT_EVENTS) audit.push({ name: String(event.name), detail: String(event.detail ?? '') });
      if (event.event !== 'stage') return;
      if (event.stage === 'import' && !stageTimer) {
        stageTimer = setTimeout(() => {
          compileTimedOut = true;
          void session.kill();
        }, r.compileTimeoutS * 1000);
        stageTimer.unref();
      } else if (event.stage === 'compiled') clearTimeout(stageTimer);
    },
  });
  void session.result.then(() => clearTimeout(stageTimer));
  return { session, audit, compileTimedOut: () => compileTimedOut, dropped, allowedRoots };
}

/** Prepare the sandbox's folders: in/candidate.py (read-only inside) and an empty out/. */
export function sandboxDirs(work: string, source: string | Buffer): SandboxDirs {
  const dirs = { input: join(work, 'sandbox', 'in'), output: join(work, 'sandbox', 'out'), tmp: join(work, 'sandbox', 'tmp') };
  mkdirSync(dirs.input, { recursive: true, mode: 0o700 });
  mkdirSync(dirs.output, { recursive: true, mode: 0o700 });
  writeFileSync(join(dirs.input, 'candidate.py'), source);
  return dirs;
}

/** The check calls, run by the candidate's process; a failure describes how it ended when it gives no report. */
export async function runCheck(candidate: CandidateProcess, r: CandidateRequest, threads: number, python: string): Promise<{ report: CheckReport; file: string | null }> {
  const { session } = candidate;
  let reply: Reply;
  try {
    await session.event('ready', r.checkTimeoutS * 1000);
    reply = await session.request('check', { threads }, r.checkTimeoutS * 1000);
  } catch (error) {
    if (!(error instanceof SessionEnded)) throw error;
    const end = await session.result;
    const e = session.harnessError;
    if (e?.kind === 'environment') throw new UserError(e.message, e.remedy ?? undefined);
    const stderr = tail(end.stderr, 4000) || null;
    if (candidate.compileTimedOut()) {
      return failed('first call', 'Timeout', `importing the candidate and its first call (Triton compiles there) took longer than compile_timeout_s=${r.compileTimeoutS}; its sandbox was killed`, stderr);
    }
    if (error.reason === 'timeout' || end.timedOut) return failed('the calls', 'Timeout', `the check ran past check_timeout_s=${r.checkTimeoutS}; its sandbox was killed`, stderr);
    if (end.canceled) throw new Error('canceled');
    return failed('the process', 'ProcessDied', `the candidate's process ended without a result (${describeEnd(end)}: a segfault, an illegal memory access, os._exit or the memory bound end the process)`, stderr);
  }
  const parsed = checkReportSchema.safeParse(reply.report);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return failed('the process', 'ResultChannelCorrupted', `the candidate's process answered the check with a malformed report (${issue?.path.join('.')}: ${issue?.message})`, null);
  }
  if (parsed.data.failure?.missing_module === 'triton') {
    throw new UserError(`The candidate imports triton, which is not installed for ${python}.`, 'pip install triton (needs an NVIDIA or AMD GPU for real kernels), or verify a pure-PyTorch candidate.');
  }
  return { report: parsed.data, file: join(r.dirs.output, 'check.pt') };
}

function failed(stage: string, type: string, message: string, traceback: string | null): { report: CheckReport; file: null } {
  return { report: { failure: { stage, call: null, type, message, is_compile_error: false, location: null, traceback }, calls: [] }, file: null };
}

/**
 * Only the candidate's inputs (triton_profile of a candidate): the trusted process loads (or
 * builds) the reference, writes spec.json and weights.pt into the sandbox's in/ folder, and exits.
 * Returns whether the reference was cached.
 */
export async function writeSandboxInputs(runtime: Runtime, job: JobIO & { dir: string }, r: { caseInfo: CaseInfo; device: Device; torchVersion: string; dirs: SandboxDirs }): Promise<{ cached: boolean; threads: number }> {
  const entry = referenceEntry(runtime, { caseInfo: r.caseInfo, seeds: DEFAULT_SEEDS, device: r.device, torchVersion: r.torchVersion });
  const request: TrustedRequest = { caseInfo: r.caseInfo, entry, seeds: DEFAULT_SEEDS, device: r.device, sandboxIn: r.dirs.input, systemRoots: [], tolerances: {}, allowNondeterminism: false, job, work: join(job.dir, 'experiment') };
  const session = startTrusted(runtime, request);
  try {
    const { ready } = await awaitTrusted(runtime, session, request);
    return { cached: !ready.built, threads: Number(ready.threads) || 1 };
  } finally {
    await session.close();
  }
}
