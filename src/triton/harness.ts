/**
 * The bridge to tools/triton/harness.py for its one-shot phases (probe, paths, cases, validate,
 * profile); the long-lived ones of a verify are sessions (session.ts). Every phase is its own child
 * process started through core/exec (contained, own timeout, killed as a tree), with its own
 * TRITON_CACHE_DIR and without tuneloop's own TUNELOOP_* variables; a phase that runs candidate
 * code (a candidate's profile) runs in the sandbox the caller gives.
 *
 * The harness prints exactly one JSON document on stdout; anything else there (a candidate that
 * found the result descriptor) is reported as a corrupted result channel, never trusted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { spawnChild, type ExecResult } from '../core/exec.js';
import type { SandboxSpec } from '../core/sandbox.js';

export const HARNESS_PATH = fileURLToPath(new URL('../../tools/triton/harness.py', import.meta.url));
export const BUILTIN_CASES_DIR = fileURLToPath(new URL('../../tools/triton/cases', import.meta.url));

export type Phase = 'probe' | 'paths' | 'cases' | 'validate' | 'profile';

/** An error document's body; its kind matches the exit code (see harness.py: 1 internal, 2 usage,
 * 3 environment, 4 case, 5 candidate). */
export interface HarnessError {
  kind: 'internal' | 'usage' | 'environment' | 'case' | 'candidate';
  message: string;
  remedy: string | null;
}

export interface PhaseOutcome<R = Record<string, unknown>> {
  phase: Phase;
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** The phase ran past its whole-process timeout. */
  timedOut: boolean;
  canceled: boolean;
  spawnError?: string;
  stdout: string;
  stderr: string;
  result: R | null;
  error: HarnessError | null;
  /** Why stdout could not be taken as one result document (null when it could). */
  channelProblem: string | null;
  /** The process as core/exec reports it (containment, isolation). */
  exec: ExecResult;
}

export interface PhaseOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  logFile?: string;
  cwd?: string;
  /** Folder for TRITON_CACHE_DIR (created). */
  tritonCacheDir?: string;
  interpret?: boolean;
  /** Where to keep <phase>.stdout.json / <phase>.stderr.txt (archives copy them). */
  transcriptDir?: string;
  /** Candidate code runs in this phase: run it in this sandbox (its env replaces harnessEnv's). */
  sandbox?: SandboxSpec;
}

const MAX_OUTPUT = 8 << 20;

export async function runPhase<R = Record<string, unknown>>(config: Config, phase: Phase, args: string[], options: PhaseOptions): Promise<PhaseOutcome<R>> {
  const argv = [config.python, HARNESS_PATH, phase, ...args];
  if (options.tritonCacheDir) mkdirSync(options.tritonCacheDir, { recursive: true, mode: 0o700 });
  const child = spawnChild(argv, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    logFile: options.logFile,
    ...(options.sandbox ? { sandbox: options.sandbox } : { cwd: options.cwd, env: harnessEnv(options) }),
    maxOutputBytes: MAX_OUTPUT,
  });
  const r = await child.result;
  const parsed = parseDocument(r.stdout);
  const outcome: PhaseOutcome<R> = {
    phase,
    argv,
    exitCode: r.exitCode,
    signal: r.signal,
    durationMs: r.durationMs,
    timedOut: r.timedOut,
    canceled: r.canceled,
    spawnError: r.spawnError,
    stdout: r.stdout,
    stderr: r.stderr,
    result: parsed.document?.ok ? ((parsed.document.result ?? {}) as R) : null,
    error: parsed.document && !parsed.document.ok ? (parsed.document.error as HarnessError) : null,
    channelProblem: parsed.problem,
    exec: r,
  };
  if (options.transcriptDir) {
    mkdirSync(options.transcriptDir, { recursive: true });
    writeFileSync(join(options.transcriptDir, `${phase}.stdout.json`), r.stdout);
    writeFileSync(join(options.transcriptDir, `${phase}.stderr.txt`), r.stderr);
  }
  return outcome;
}

/** A trusted harness process's environment over the server's: no TUNELOOP_* variables, its own Triton cache. */
export function harnessEnv(options: { tritonCacheDir?: string; interpret?: boolean }): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith('TUNELOOP_')) env[key] = undefined;
  env.PYTHONDONTWRITEBYTECODE = '1';
  env.PYTHONUNBUFFERED = '1';
  env.TRITON_CACHE_DIR = options.tritonCacheDir;
  env.TRITON_INTERPRET = options.interpret ? '1' : undefined;
  return env;
}

interface Document {
  ok: boolean;
  phase: string;
  result?: unknown;
  error?: unknown;
}

export function parseDocument(stdout: string): { document: Document | null; problem: string | null } {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return { document: null, problem: 'no result document' };
  if (lines.length > 1) return { document: null, problem: `${lines.length} lines on the result channel where the harness writes one document` };
  try {
    const value = JSON.parse(lines[0]) as Document;
    if (!value || typeof value !== 'object' || typeof value.ok !== 'boolean') return { document: null, problem: 'the result is not a harness document' };
    if (value.ok && (typeof value.result !== 'object' || value.result === null)) return { document: null, problem: 'the result document has no result' };
    if (!value.ok && (typeof value.error !== 'object' || value.error === null)) return { document: null, problem: 'the error document has no error' };
    return { document: value, problem: null };
  } catch (error) {
    return { document: null, problem: `the result is not JSON (${(error as Error).message})` };
  }
}

/**
 * The result of a phase that must succeed (probe, cases, reference, judge): environment and case
 * problems become UserErrors with the harness's remedy, anything else an Error with stderr's tail.
 */
export function requireResult<R>(outcome: PhaseOutcome<R>, config: Config): R {
  if (outcome.result) return outcome.result;
  if (outcome.canceled) throw new Error(`the ${outcome.phase} phase was canceled`);
  if (outcome.spawnError) {
    throw new UserError(`The Python interpreter ${config.python} could not be started: ${outcome.spawnError}.`, 'Install python3, or set TUNELOOP_PYTHON to an interpreter that has torch.');
  }
  if (outcome.timedOut) {
    throw new UserError(`The harness's ${outcome.phase} phase timed out after ${Math.round(outcome.durationMs / 1000)} s.`, 'The case may be too large for this machine: use smaller shapes (the stderr is in the job log).');
  }
  const e = outcome.error;
  if (e?.kind === 'environment') throw new UserError(e.message, e.remedy ?? undefined);
  if (e?.kind === 'case') throw new UserError(`The case is invalid: ${e.message}`, e.remedy ?? 'Fix manifest.yaml or model.py.');
  const why = e ? `${e.kind}: ${e.message}` : `exit ${outcome.exitCode ?? outcome.signal}, ${outcome.channelProblem}`;
  throw new Error(`harness ${outcome.phase} failed (${why}); stderr: ${tail(outcome.stderr, 1500)}`);
}

export function tail(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}
