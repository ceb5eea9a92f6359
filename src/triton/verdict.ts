/**
 * The verdict, from the judge's checks, every flag, and the timing:
 *   compile_error  the candidate did not import, build, or (Triton) compile
 *   incorrect      it ran but failed a check, raised, crashed or timed out
 *   suspicious     every check passed, but something says "do not trust this": a runtime
 *                  observation (patched timers, reference files opened, threads still running),
 *                  a forbidden pattern in the source, or a speedup above 10x
 *   correct_faster correct, and significantly faster than the baseline (noise-aware)
 *   correct_slower correct, and not measurably faster (slower, or within noise)
 *   correct        correct, not timed (interpret mode, or bench: false)
 */
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
  source: 'static' | 'runtime' | 'bench';
  detail: string;
}

export interface VerdictInput {
  compileError: boolean;
  checks: Check[];
  flags: Flag[];
  timing: Timing | null;
  /** Why the candidate failed outside the judged checks (bench crash, timeout). */
  failures: string[];
}

export function decideVerdict(input: VerdictInput): { verdict: Verdict; reasons: string[] } {
  const failed = input.checks.filter((c) => c.passed === false);
  if (input.compileError) {
    return { verdict: 'compile_error', reasons: failed.slice(0, 1).map((c) => c.detail) };
  }
  if (failed.length || input.failures.length) {
    return { verdict: 'incorrect', reasons: [...input.failures, ...failed.map((c) => `${c.name}: ${c.detail}`)] };
  }
  const suspicious = input.flags.filter((f) => f.severity === 'suspicious');
  if (suspicious.length) {
    return { verdict: 'suspicious', reasons: suspicious.map((f) => `${f.code} (${f.source}): ${f.detail}`) };
  }
  const t = input.timing;
  if (!t) return { verdict: 'correct', reasons: ['every check passed; performance was not measured'] };
  const speed = `${t.speedup.toFixed(3)}x (${t.baseline.median!.toPrecision(4)} ms -> ${t.candidate.median!.toPrecision(4)} ms${t.device === 'cpu' ? ', CPU timings' : ''})`;
  if (t.verdict === 'faster') return { verdict: 'correct_faster', reasons: [`every check passed; ${speed}; ${t.explanation}`] };
  return { verdict: 'correct_slower', reasons: [`every check passed; not measurably faster: ${speed}; ${t.explanation}`] };
}

/** Flags the server adds from the bench phase (the speedup rule included). */
export function benchFlags(timing: Timing, bench: { patched: string[]; late_writes: boolean; settings_changed: string[] }): Flag[] {
  const flags: Flag[] = [];
  if (timing.over_10x) {
    flags.push({ code: 'speedup_over_10x', severity: 'suspicious', source: 'bench', detail: `a ${timing.speedup.toFixed(1)}x speedup is flagged for review, not celebrated: check what the baseline does and what the candidate skips` });
  }
  if (bench.patched.length) {
    flags.push({ code: 'patched_functions', severity: 'suspicious', source: 'bench', detail: `replaced while timing: ${bench.patched.slice(0, 10).join(', ')}` });
  }
  if (bench.late_writes) {
    flags.push({ code: 'late_writes', severity: 'suspicious', source: 'bench', detail: 'after the timed rounds, the output still changed after forward returned (work the timer did not wait for)' });
  }
  if (timing.host_check?.disagrees) {
    flags.push({
      code: 'timing_mismatch',
      severity: 'suspicious',
      source: 'bench',
      detail: `host-timed calls with a device-wide synchronize (${timing.host_check.candidate_ms.toFixed(4)} ms) disagree with the event timing (${timing.candidate.median!.toFixed(4)} ms) far more than the baseline's do: work on another stream?`,
    });
  }
  if (bench.settings_changed.length) {
    flags.push({ code: 'global_settings_changed', severity: 'warning', source: 'bench', detail: bench.settings_changed.slice(0, 5).join('; ') });
  }
  return flags;
}
