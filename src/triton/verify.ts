/**
 * triton_verify's work: reference (cached) -> check -> judge -> bench -> (profile), each phase a
 * process of its own; then the verdict, a run in history, and the archive.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, errorMessage } from '../core/errors.js';
import { nvidiaSmiPath, queryGpus } from '../core/nvidia.js';
import type { JobContext } from '../core/jobs.js';
import type { Runtime } from '../core/runtime.js';
import type { PythonProbe } from '../core/probe.js';
import { showCase, type CaseInfo } from './cases.js';
import { pythonEnvironment, requireCandidateRuntime, requireTorch, requireTriton, resolveDevice, type Device, type DeviceRequest } from './environment.js';
import { requireResult, runPhase, tail, type PhaseOutcome } from './harness.js';
import { runProfile } from './profile.js';
import { recordVerifyRun } from './record.js';
import { ensureReference } from './reference.js';
import { compileSchema, type ErrorInfo, type PhaseRecord, type ProfileSummary, type VerifyResult } from './schemas.js';
import { benchResultSchema, summarizeTiming, type Timing } from './timing.js';
import { benchFlags, decideVerdict, type Check, type Flag } from './verdict.js';
import { writeArchive } from './archive.js';

export interface VerifyRequest {
  caseName: string;
  casesDir?: string;
  source: string;
  entry: string;
  experiment?: string;
  seeds: number;
  device: DeviceRequest;
  interpret: boolean;
  tolerances: Record<string, { atol?: number; rtol?: number }>;
  allowNondeterminism: boolean;
  bench: boolean;
  benchRounds: number;
  warmupMs: number;
  repMs: number;
  profile: boolean;
  launchParams: Record<string, string | number | boolean>;
  workload?: string;
  compileTimeoutS: number;
  checkTimeoutS: number;
  benchTimeoutS: number;
}

/**
 * What the check process reports, as far as the server and the judge read it. That process runs
 * candidate code, so its report is parsed, not trusted: a malformed one counts as a corrupted
 * result channel.
 */
const checkReportSchema = z.looseObject({
  failure: z
    .looseObject({
      stage: z.string(),
      call: z.string().nullable().optional(),
      type: z.string(),
      message: z.string(),
      is_compile_error: z.boolean().optional(),
      missing_module: z.string().nullable().optional(),
      location: z.looseObject({}).nullable().optional(),
      traceback: z.string().nullable().optional(),
    })
    .nullable(),
  calls: z.array(z.looseObject({ label: z.string(), threads_alive_after: z.number().optional() })),
  patched: z.array(z.string()).optional(),
  settings_changed: z.array(z.string()).optional(),
  audit: z.looseObject({ events: z.array(z.object({ event: z.string(), detail: z.string() })) }).optional(),
  threads: z.looseObject({}).optional(),
  compile: compileSchema.nullable().optional(),
});
export type CheckReport = z.infer<typeof checkReportSchema>;

interface JudgeResult {
  correct: boolean;
  compile_error: boolean;
  failure: CheckReport['failure'];
  checks: Check[];
  outputs: VerifyResult['outputs'];
  flags: Flag[];
  tolerances: VerifyResult['tolerances'];
}

const STEPS = 5;

export interface Prepared {
  probe: PythonProbe;
  caseInfo: CaseInfo;
  device: Device;
  notes: string[];
}

/**
 * Everything that can be refused before a job starts (so the client gets the error at once): no
 * torch, no such case, triton or CUDA missing for this candidate.
 */
export async function prepareRun(runtime: Runtime, r: { caseName: string; casesDir?: string; source: string | null; device: DeviceRequest; interpret: boolean }, signal?: AbortSignal): Promise<Prepared> {
  const probe = await pythonEnvironment(runtime);
  requireTorch(probe, runtime.config);
  const caseInfo = await showCase(runtime, r.caseName, r.casesDir, signal);
  const { device, notes } = resolveDevice(r.device, caseInfo.device ?? 'auto', probe, r.interpret);
  if (r.source !== null) requireCandidateRuntime(r.source, device, r.interpret, probe, runtime.config);
  else if (r.interpret) requireTriton(probe, runtime.config, 'interpret mode runs Triton kernels through triton\'s interpreter');
  return { probe, caseInfo, device, notes };
}

export async function verifyCandidate(runtime: Runtime, job: JobContext, req: VerifyRequest, prepared: Prepared): Promise<VerifyResult> {
  const config = runtime.config;
  const { probe, caseInfo, device } = prepared;
  const notes = [...prepared.notes];

  const sha = createHash('sha256').update(req.source).digest('hex');
  const experiment = req.experiment ?? `${caseInfo.name}-${sha.slice(0, 8)}`;
  const work = join(job.dir, 'experiment');
  const transcripts = join(work, 'harness');
  mkdirSync(join(work, 'check'), { recursive: true, mode: 0o700 });
  const candidatePath = join(work, 'candidate.py');
  writeFileSync(candidatePath, req.source);
  const phases: PhaseRecord[] = [];
  const errors: ErrorInfo[] = [];
  const common = { signal: job.signal, logFile: job.logFile, transcriptDir: transcripts, interpret: req.interpret };
  const step = (done: number, message: string) => {
    job.progress({ done, total: STEPS, message });
    job.log(`[tuneloop] ${message}`);
  };

  step(0, `reference outputs for ${caseInfo.name} (${req.seeds} seeds, ${device})`);
  const ref = await ensureReference(runtime, { caseInfo, seeds: req.seeds, device, small: req.interpret, torchVersion: probe.torch!, ...common });
  if (ref.outcome) phases.push(phaseRecord(ref.outcome));

  step(1, 'check: running the candidate on the saved inputs');
  const check = await runPhase(config, 'check', ['--reference', ref.dir, '--candidate', candidatePath, '--entry', req.entry, '--out', join(work, 'check')], {
    ...common,
    timeoutMs: req.checkTimeoutS * 1000,
    stage: { from: 'import', until: 'compiled', timeoutMs: req.compileTimeoutS * 1000 },
    tritonCacheDir: join(work, 'triton-cache', 'check'),
    cwd: join(work, 'check'),
  });
  phases.push(phaseRecord(check));
  throwIfCanceled(job);
  const report = checkReport(check, req, config.python);
  writeFileSync(join(work, 'check', 'report.json'), JSON.stringify(report));

  step(2, 'judge: comparing with the reference (no candidate code in this process)');
  const judgeArgs = ['--reference', ref.dir, '--candidate', candidatePath, '--check-dir', join(work, 'check'), '--check-result', join(work, 'check', 'report.json')];
  judgeArgs.push('--tolerances', JSON.stringify(req.tolerances));
  if (req.allowNondeterminism) judgeArgs.push('--allow-nondeterminism');
  const judgeOutcome = await runPhase<JudgeResult>(config, 'judge', judgeArgs, { ...common, interpret: false, timeoutMs: 600_000, cwd: work });
  phases.push(phaseRecord(judgeOutcome));
  const judge = requireResult(judgeOutcome, config);
  rmSync(join(work, 'check', 'outputs.pt'), { force: true }); // the largest file; the reference can recreate it
  rmSync(join(work, 'check', 'outputs.pt.json'), { force: true });
  const flags: Flag[] = [...judge.flags];
  if (check.channelProblem && check.exitCode === 0) {
    flags.push({ code: 'result_channel_tampered', severity: 'suspicious', source: 'runtime', detail: `the check process's result channel: ${check.channelProblem}` });
  }
  if (judge.failure) errors.push(errorFromFailure('check', judge.failure));

  let timing: Timing | null = null;
  const failures: string[] = [];
  if (judge.correct && req.bench && !req.interpret) {
    step(3, `bench: ${req.benchRounds} interleaved rounds (${device})`);
    const bench = await runPhase(
      config,
      'bench',
      ['--reference', ref.dir, '--candidate', candidatePath, '--entry', req.entry, '--rounds', String(req.benchRounds), '--warmup-ms', String(req.warmupMs), '--rep-ms', String(req.repMs)],
      { ...common, timeoutMs: req.benchTimeoutS * 1000, tritonCacheDir: join(work, 'triton-cache', 'bench'), cwd: work },
    );
    phases.push(phaseRecord(bench));
    throwIfCanceled(job);
    const parsed = bench.result ? benchResultSchema.safeParse(bench.result) : null;
    if (parsed?.success) {
      timing = summarizeTiming(parsed.data);
      flags.push(...benchFlags(timing, parsed.data));
    } else if (parsed) {
      const message = `the bench process's report is malformed (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`;
      errors.push({ phase: 'bench', stage: 'the process', type: 'ResultChannelCorrupted', message, location: null, traceback: null });
      failures.push(`bench: ${message}`);
      flags.push({ code: 'result_channel_tampered', severity: 'suspicious', source: 'bench', detail: message });
    } else {
      const error = errorFromPhase(bench, 'bench');
      if (error.type === 'EnvironmentMissing') throw new UserError(error.message);
      errors.push(error);
      failures.push(`bench: ${error.message}`);
    }
  } else if (req.interpret) {
    notes.push('Not timed: TRITON_INTERPRET=1 timings say nothing about kernel performance.');
  }

  let profile: ProfileSummary | null = null;
  if (req.profile && req.interpret) {
    notes.push('Not profiled: under TRITON_INTERPRET=1 a profile shows the interpreter, not the kernel.');
  } else if (req.profile && !judge.failure) {
    step(4, 'profile: torch.profiler over the candidate');
    const p = await runProfile(config, {
      jobId: job.id,
      jobDir: job.dir,
      referenceDir: ref.dir,
      candidatePath,
      entry: req.entry,
      steps: 5,
      rowLimit: 20,
      timeoutMs: req.benchTimeoutS * 1000,
      signal: job.signal,
      logFile: job.logFile,
      transcriptDir: transcripts,
    });
    phases.push(phaseRecord(p.outcome));
    profile = p.summary;
    if (!profile) errors.push(errorFromPhase(p.outcome, 'profile'));
  }
  throwIfCanceled(job);

  const { verdict, reasons } = decideVerdict({ compileError: judge.compile_error, checks: judge.checks, flags, timing, failures });
  step(5, `verdict: ${verdict}`);
  // From processes that never ran the candidate (its own report could say anything), plus the driver.
  const versions: Record<string, unknown> = { ...ref.meta.versions, triton: probe.triton, ...(await driverVersions(runtime, device)) };
  const partial = {
    experiment,
    case: caseInfo.name,
    candidate_sha256: sha,
    entry: req.entry,
    verdict,
    verdict_reasons: reasons,
    device,
    device_name: (versions.device_name as string | null | undefined) ?? null,
    interpret: req.interpret,
    notes: [...notes, ...(ref.meta.randomized_parameters.length ? [`Constant default parameters were randomized: ${ref.meta.randomized_parameters.join(', ')}.`] : [])],
    checks: judge.checks,
    flags,
    errors,
    outputs: judge.outputs,
    tolerances: judge.tolerances as VerifyResult['tolerances'],
    seeds: ref.meta.seeds,
    timing,
    compile: report.compile ?? null,
    profile,
    reference: {
      path: ref.dir,
      cached: ref.cached,
      deterministic: ref.meta.reference_deterministic,
      sensitive: ref.meta.reference_sensitive,
      randomized_parameters: ref.meta.randomized_parameters,
    },
    phases,
    versions,
    work_dir: work,
  };
  const runId = recordVerifyRun(runtime, job.id, req, partial);
  const archive = writeArchive({ home: config.home, workDir: work, caseInfo, result: { ...partial, run_id: runId } });
  return { ...partial, run_id: runId, archive };
}

/** The check's report for the judge: the process's own, or a failure describing how it ended. */
function checkReport(outcome: PhaseOutcome, req: VerifyRequest, python: string): CheckReport {
  if (outcome.result) {
    const parsed = checkReportSchema.safeParse(outcome.result);
    if (!parsed.success) {
      const message = `the check process's report is malformed (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`;
      return { failure: { stage: 'the process', call: null, type: 'ResultChannelCorrupted', message, location: null, traceback: null }, calls: [] };
    }
    const failure = parsed.data.failure;
    if (failure?.missing_module === 'triton') {
      throw new UserError(`The candidate imports triton, which is not installed for ${python}.`, 'pip install triton (needs an NVIDIA or AMD GPU for real kernels), or verify a pure-PyTorch candidate.');
    }
    return parsed.data;
  }
  const e = outcome.error;
  if (e?.kind === 'environment') throw new UserError(e.message, e.remedy ?? undefined);
  if (e && e.kind !== 'candidate') throw new Error(`harness check failed (${e.kind}: ${e.message}); stderr: ${tail(outcome.stderr, 1500)}`);
  const err = errorFromPhase(outcome, 'check', req);
  const stage = outcome.stageTimedOut ? 'first call' : outcome.timedOut ? 'the calls' : 'the process';
  return { failure: { stage, call: null, type: err.type, message: err.message, is_compile_error: false, location: null, traceback: err.traceback }, calls: [] };
}

function errorFromFailure(phase: string, f: NonNullable<CheckReport['failure']>): ErrorInfo {
  const location = f.location as { file?: unknown; line?: unknown; column?: unknown } | null | undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const int = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    phase,
    stage: f.stage,
    type: f.type,
    message: f.call ? `${f.message} (during ${f.call})` : f.message,
    location: location ? { file: text(location.file), line: int(location.line), column: int(location.column) } : null,
    traceback: f.traceback || null,
  };
}

/** How a phase ended without a result: timeout, crash, a corrupted channel, or the candidate failing. */
function errorFromPhase(outcome: PhaseOutcome<unknown>, phase: string, req?: VerifyRequest): ErrorInfo {
  const base = { phase, location: null, traceback: tail(outcome.stderr, 4000) || null };
  if (outcome.stageTimedOut) {
    return { ...base, stage: 'timeout', type: 'Timeout', message: `importing the candidate and its first call (Triton compiles there) took longer than compile_timeout_s=${req?.compileTimeoutS}; its process group was killed` };
  }
  if (outcome.timedOut) return { ...base, stage: 'timeout', type: 'Timeout', message: `the ${phase} phase ran past its timeout (${Math.round(outcome.durationMs / 1000)} s); its process group was killed` };
  if (outcome.error) return { ...base, stage: outcome.error.kind, type: outcome.error.kind === 'environment' ? 'EnvironmentMissing' : 'CandidateFailure', message: outcome.error.message };
  if (outcome.channelProblem && outcome.exitCode === 0) return { ...base, stage: 'crash', type: 'ResultChannelCorrupted', message: `the ${phase} process's result channel: ${outcome.channelProblem}` };
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
  return { ...base, stage: 'crash', type: 'ProcessDied', message: `the ${phase} process ${how} without a result (a segfault, an illegal memory access or os._exit ends the process)` };
}

/** The NVIDIA driver and GPU names for the archive, when nvidia-smi is there. */
async function driverVersions(runtime: Runtime, device: Device): Promise<Record<string, unknown>> {
  if (device !== 'cuda' || !nvidiaSmiPath(runtime.config)) return {};
  try {
    const rows = await queryGpus(runtime.config, ['name', 'driver_version']);
    return { driver_version: rows[0]?.driver_version?.value ?? null, gpus: rows.map((r) => r.name?.value ?? null) };
  } catch (error) {
    return { driver_version: null, driver_error: errorMessage(error) };
  }
}

function phaseRecord(o: PhaseOutcome<unknown>): PhaseRecord {
  return { phase: o.phase, exit_code: o.exitCode, signal: o.signal, duration_ms: o.durationMs, timed_out: o.timedOut || o.stageTimedOut !== null, stage_timed_out: o.stageTimedOut };
}

function throwIfCanceled(job: JobContext): void {
  if (job.signal.aborted) throw new Error('canceled');
}
