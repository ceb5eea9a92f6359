/** How the Triton tools describe a failed candidate and a finished process in their results. */
import type { ExecResult } from '../core/exec.js';
import type { Failure } from './parties.js';
import type { ErrorInfo, PhaseRecord } from './schemas.js';

export function errorFromFailure(phase: string, f: Failure): ErrorInfo {
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

/** A process of the verify: how it ended, and whether a deadline (the whole process's, a request's, or the compile stage's) ended it. */
export function phaseRecord(phase: string, r: ExecResult, deadline: { requestTimedOut?: boolean; compileTimedOut?: boolean } = {}): PhaseRecord {
  return {
    phase,
    exit_code: r.exitCode,
    signal: r.signal,
    duration_ms: r.durationMs,
    timed_out: r.timedOut || Boolean(deadline.requestTimedOut || deadline.compileTimedOut),
    stage_timed_out: deadline.compileTimedOut ? 'compile' : null,
  };
}
