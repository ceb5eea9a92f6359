/**
 * The verdict, from the judge's checks, every flag, and the timing:
 *   compile_error  the candidate did not import, build, or (Triton) compile
 *   incorrect      it ran but failed a check (the bench's check of what the timed calls returned
 *                  included), raised, crashed or timed out
 *   suspicious     every check passed, but something says "do not trust this": a runtime
 *                  observation (patched timers, reference files looked for, threads still
 *                  running), a forbidden pattern in the source, a timer that disagrees with the
 *                  wall clock, or a speedup above 10x
 *   correct_faster correct, and significantly faster than the baseline (noise-aware)
 *   correct_slower correct, and not measurably faster (slower, or within noise)
 *   correct        correct, not timed (interpret mode, or bench: false)
 * Without a sandbox (isolation: none) the verdict is computed the same way and carries the
 * `no_isolation` flag; history never takes such a run as a best config (record.ts).
 */
import type { Isolation } from '../core/sandbox.js';
import type { Timing } from './timing.js';

export const VERDICTS = ['compile_error', 'incorrect', 'suspicious', 'correct_faster', 'correct_slower', 'correct'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Check {
  name: string;
  passed: boolean | null;
  detail: string;
}

export interface Flag {
  code: string;
  severity: 'suspicious' | 'warning';
  source: 'static' | 'runtime' | 'bench' | 'isolation';
  detail: string;
}

export interface VerdictInput {
  compileError: boolean;
  checks: Check[];
  flags: Flag[];
  timing: Timing | null;
  /** Why the candidate failed outside the judged checks (bench crash, timeout). */
  failures: string[];
  /** What the trusted process found wrong in the timed calls' outputs. */
  benchProblems: string[];
}

export function decideVerdict(input: VerdictInput): { verdict: Verdict; reasons: string[] } {
  const failed = input.checks.filter((c) => c.passed === false);
  if (input.compileError) {
    return { verdict: 'compile_error', reasons: failed.slice(0, 1).map((c) => c.detail) };
  }
  if (failed.length || input.failures.length) {
    return { verdict: 'incorrect', reasons: [...input.failures, ...failed.map((c) => `${c.name}: ${c.detail}`)] };
  }
  if (input.benchProblems.length) {
    return { verdict: 'incorrect', reasons: input.benchProblems.slice(0, 5).map((p) => `bench_outputs: ${p}`) };
  }
  const caveat = input.flags.filter((f) => f.source === 'isolation').map((f) => `${f.code}: ${f.detail}`);
  const suspicious = input.flags.filter((f) => f.severity === 'suspicious');
  if (suspicious.length) {
    return { verdict: 'suspicious', reasons: [...suspicious.map((f) => `${f.code} (${f.source}): ${f.detail}`), ...caveat] };
  }
  const t = input.timing;
  if (!t) return { verdict: 'correct', reasons: ['every check passed; performance was not measured', ...caveat] };
  const speed = `${t.speedup.toFixed(3)}x (${t.baseline.median!.toPrecision(4)} ms -> ${t.candidate.median!.toPrecision(4)} ms${t.device === 'cpu' ? ', CPU timings' : ''})`;
  if (t.verdict === 'faster') return { verdict: 'correct_faster', reasons: [`every check passed; ${speed}; ${t.explanation}`, ...caveat] };
  return { verdict: 'correct_slower', reasons: [`every check passed; not measurably faster: ${speed}; ${t.explanation}`, ...caveat] };
}

/** Flags from the bench: the timer cross-check, the speedup rule, functions patched while timing. */
export function benchFlags(timing: Timing, patched: string[]): Flag[] {
  const flags: Flag[] = [];
  if (timing.timer_check.mismatch) {
    flags.push({ code: 'timer_mismatch', severity: 'suspicious', source: 'bench', detail: timing.timer_check.detail });
  }
  if (timing.over_10x) {
    flags.push({ code: 'speedup_over_10x', severity: 'suspicious', source: 'bench', detail: `a ${timing.speedup.toFixed(1)}x speedup is flagged for review, not celebrated: check what the baseline does and what the candidate skips` });
  }
  if (patched.length) {
    flags.push({ code: 'patched_functions', severity: 'suspicious', source: 'bench', detail: `replaced while timing: ${patched.slice(0, 10).join(', ')}` });
  }
  return flags;
}

/** Every verdict reached without a sandbox says so. */
export function isolationFlag(isolation: Isolation): Flag | null {
  if (isolation !== 'none') return null;
  return {
    code: 'no_isolation',
    severity: 'warning',
    source: 'isolation',
    detail: 'the candidate ran without a sandbox (no bubblewrap or unshare here, or TUNELOOP_SANDBOX=none): it could read or change what it was judged against, so this verdict is not evidence and history never takes it as a best config',
  };
}
