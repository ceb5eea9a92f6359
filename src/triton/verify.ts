/**
 * triton_verify's work, three parties (see parties.ts): the trusted process loads the reference
 * and writes the candidate's inputs into its sandbox; the candidate's process runs the check calls
 * there; the trusted process judges them; the bench times both sides in alternation and checks
 * what the candidate's timed calls returned; then the verdict, a run in history, and the archive.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from '../core/exec.js';
import { UserError, errorMessage } from '../core/errors.js';
import { nvidiaSmiPath, queryGpus } from '../core/nvidia.js';
import { sandboxIsolation, type Isolation } from '../core/sandbox.js';
import type { JobContext } from '../core/jobs.js';
import type { Runtime } from '../core/runtime.js';
import type { PythonProbe } from '../core/probe.js';
import { showCase, type CaseInfo } from './cases.js';
import { pythonEnvironment, requireCandidateRuntime, requireTorch, requireTriton, resolveDevice, type Device, type DeviceRequest } from './environment.js';
import { runBench, type BenchOutcome } from './bench.js';
import { errorFromFailure, phaseRecord } from './failures.js';
import { awaitTrusted, runCheck, sandboxDirs, startCandidate, startTrusted, type Failure } from './parties.js';
import { runProfile } from './profile.js';
import { recordVerifyRun } from './record.js';
import { referenceEntry } from './reference.js';
import type { ErrorInfo, PhaseRecord, ProfileSummary, VerifyResult } from './schemas.js';
import { decideVerdict, benchFlags, isolationFlag, type Check, type Flag } from './verdict.js';
import { writeArchive } from './archive.js';

export interface VerifyRequest {
  caseName: string;
  casesDir?: string;
  source: Buffer;
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
export async function prepareRun(runtime: Runtime, r: { caseName: string; casesDir?: string; source: Buffer | null; device: DeviceRequest; interpret: boolean }, signal?: AbortSignal): Promise<Prepared> {
  const probe = await pythonEnvironment(runtime);
  requireTorch(probe, runtime.config);
  const caseInfo = await showCase(runtime, r.caseName, r.casesDir, signal);
  const { device, notes } = resolveDevice(r.device, caseInfo.device ?? 'auto', probe, r.interpret);
  if (r.source !== null) requireCandidateRuntime(r.source.toString('utf8'), device, r.interpret, probe, runtime.config);
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
  const dirs = sandboxDirs(work, req.source);
  const candidatePath = join(dirs.input, 'candidate.py');
  const errors: ErrorInfo[] = [];
  const started = performance.now();
  const step = (done: number, message: string) => {
    job.progress({ done, total: STEPS, message });
    job.log(`[tuneloop] +${((performance.now() - started) / 1000).toFixed(1)}s ${message}`);
  };

  step(0, `reference (${req.seeds} seeds, ${device}) and the candidate's sandbox, side by side`);
  const entry = referenceEntry(runtime, { caseInfo, seeds: req.seeds, device, torchVersion: probe.torch! });
  const candidateReq = { dirs, entry: req.entry, device, interpret: req.interpret, compileTimeoutS: req.compileTimeoutS, checkTimeoutS: req.checkTimeoutS, benchTimeoutS: req.benchTimeoutS, job, forbidden: [config.home, caseInfo.path] };
  const candidate = await startCandidate(runtime, candidateReq);
  const trustedReq = {
    caseInfo,
    entry,
    seeds: req.seeds,
    device,
    sandboxIn: dirs.input,
    candidatePath,
    systemRoots: candidate.allowedRoots,
    tolerances: req.tolerances,
    allowNondeterminism: req.allowNondeterminism,
    job,
    work,
  };
  const trustedSession = startTrusted(runtime, trustedReq);
  try {
    const trusted = await awaitTrusted(runtime, trustedSession, trustedReq).catch(async (error) => {
      await candidate.session.kill();
      throw error;
    });
    if (trusted.integrity) notes.push(`${trusted.integrity}.`);
    if (candidate.dropped.length) notes.push(`Left out of the sandbox because they contain the data dir: ${candidate.dropped.join(', ')}.`);
    const meta = trusted.ready.meta as Record<string, any>;

    step(1, 'check: the candidate on every shape variant and seed, in its sandbox');
    const { report, file } = await runCheck(candidate, candidateReq, Number(trusted.ready.threads) || 1, config.python);
    throwIfCanceled(job);

    step(2, 'judge: the trusted process compares with the reference');
    const judge = await trusted.session.request('judge_check', { report, audit: candidate.audit, file }, 600_000);
    const checks: Check[] = [...(judge.checks as Check[])];
    const flags: Flag[] = [...(judge.flags as Flag[])];
    if (judge.failure) errors.push(errorFromFailure('check', judge.failure as Failure));
    const failures: string[] = [];

    let bench: BenchOutcome | null = null;
    if (judge.correct && req.bench && !req.interpret) {
      step(3, `bench: ${req.benchRounds} rounds per side, alternating (${device})`);
      bench = await runBench(trusted.session, candidate.session, {
        rounds: req.benchRounds,
        warmupMs: req.warmupMs,
        repMs: req.repMs,
        leaves: (meta.outputs?.main ?? []).length || 1,
        outDir: dirs.output,
        deadline: Date.now() + req.benchTimeoutS * 1000,
        device,
        progress: (message) => step(3, message),
      });
      throwIfCanceled(job);
      if (bench.failure) {
        failures.push(`bench: ${bench.failure}`);
        errors.push({ phase: 'bench', stage: 'the rounds', type: 'BenchFailure', message: bench.failure, location: null, traceback: null });
      } else {
        const late = await candidate.session.request('late', {}, req.checkTimeoutS * 1000).catch((error: Error) => ({ failure: { type: 'ProcessDied', message: error.message } }));
        const lateJudged = await trusted.session.request('judge_late', { file: join(dirs.output, 'late.pt'), failure: late.failure ?? null }, 600_000);
        checks.push(...(lateJudged.checks as Check[]));
        if (bench.timing) flags.push(...benchFlags(bench.timing, bench.patched));
      }
    } else if (req.interpret) {
      notes.push('Not timed: TRITON_INTERPRET=1 timings say nothing about kernel performance.');
    }
    const [candidateEnd, trustedEnd] = await Promise.all([candidate.session.close(), trusted.session.close()]);
    writeTranscripts(join(work, 'harness'), { trusted: trustedEnd, candidate: candidateEnd });
    const isolation: Isolation = candidateEnd.isolation ?? sandboxIsolation();
    const problems = candidate.session.problems;
    if (problems.length) flags.push({ code: 'result_channel_tampered', severity: 'suspicious', source: 'runtime', detail: `the candidate's process wrote to the server what the harness never writes: ${problems.slice(0, 3).join('; ')}` });
    const noIsolation = isolationFlag(isolation);
    if (noIsolation) flags.push(noIsolation);

    let profile: ProfileSummary | null = null;
    const phases: PhaseRecord[] = [
      phaseRecord('trusted', trustedEnd, { requestTimedOut: trusted.session.timedOut }),
      phaseRecord('candidate', candidateEnd, { requestTimedOut: candidate.session.timedOut, compileTimedOut: candidate.compileTimedOut() }),
    ];
    if (req.profile && req.interpret) {
      notes.push('Not profiled: under TRITON_INTERPRET=1 a profile shows the interpreter, not the kernel.');
    } else if (req.profile && judge.correct) {
      step(4, 'profile: torch.profiler over the candidate, in its sandbox');
      const p = await runProfile(runtime, { jobId: job.id, jobDir: job.dir, candidate: { dirs, entry: req.entry, forbidden: candidateReq.forbidden, threads: Number(trusted.ready.threads) || 1 }, caseDir: caseInfo.path, device, steps: 5, rowLimit: 20, timeoutMs: req.benchTimeoutS * 1000, signal: job.signal, logFile: job.logFile });
      phases.push(phaseRecord('profile', p.end));
      profile = p.summary;
      if (!profile) errors.push({ phase: 'profile', stage: 'the process', type: 'ProfileFailed', message: p.error ?? 'no profile', location: null, traceback: null });
    }
    throwIfCanceled(job);

    const { verdict, reasons } = decideVerdict({ compileError: Boolean(judge.compile_error), checks, flags, timing: bench?.timing ?? null, failures, benchProblems: bench?.problems ?? [] });
    step(5, `verdict: ${verdict}`);
    const versions: Record<string, unknown> = { ...(meta.versions as Record<string, unknown>), triton: probe.triton, ...(await driverVersions(runtime, device)) };
    const partial = {
      experiment,
      case: caseInfo.name,
      candidate_sha256: sha,
      entry: req.entry,
      verdict,
      verdict_reasons: reasons,
      isolation,
      device,
      device_name: (versions.device_name as string | null | undefined) ?? null,
      interpret: req.interpret,
      notes: [...notes, ...(meta.randomized_parameters.length ? [`Constant default parameters were randomized: ${meta.randomized_parameters.join(', ')}.`] : [])],
      checks,
      flags,
      errors,
      outputs: judge.outputs as VerifyResult['outputs'],
      tolerances: trusted.ready.tolerances as VerifyResult['tolerances'],
      seeds: meta.seeds as number[],
      shape_variants: meta.variants as string[],
      timing: bench?.timing ?? null,
      compile: (report.compile as VerifyResult['compile']) ?? null,
      profile,
      reference: {
        path: entry.dir,
        cached: !trusted.ready.built,
        integrity: trusted.integrity,
        deterministic: Boolean(meta.reference_deterministic),
        sensitive: Boolean(meta.reference_sensitive),
        randomized_parameters: meta.randomized_parameters as string[],
      },
      phases,
      versions,
      work_dir: work,
    };
    const runId = recordVerifyRun(runtime, job.id, req, partial);
    const archive = writeArchive({ home: config.home, workDir: work, caseInfo, result: { ...partial, run_id: runId } });
    return { ...partial, run_id: runId, archive };
  } finally {
    await Promise.all([candidate.session.kill(), trustedSession.kill()]);
  }
}

/** The processes' stderr (the candidate's prints included) for the archive. */
function writeTranscripts(dir: string, ends: Record<string, ExecResult>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, r] of Object.entries(ends)) writeFileSync(join(dir, `${name}.stderr.txt`), r.stderr);
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

function throwIfCanceled(job: JobContext): void {
  if (job.signal.aborted) throw new UserError('The verify was canceled.');
}
