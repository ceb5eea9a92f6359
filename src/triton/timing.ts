/**
 * Bench rounds -> a timing summary with a noise verdict from THE statistics module: the speedup is
 * a ratio of medians, and "faster" is claimed only when compare() finds the candidate's rounds
 * significantly lower (rank test and bootstrap CI agree).
 */
import { z } from 'zod';
import { compare, summarize, type Summary } from '../learn/stats.js';

/** The bench process's report. It runs candidate code: parsed, not trusted (positive finite times). */
const ms = z.number().positive().finite();
export const benchResultSchema = z.looseObject({
  device: z.string(),
  method: z.string(),
  label: z.string(),
  rounds: z.number().int().positive(),
  warmup_ms: z.number(),
  rep_ms: z.number(),
  baseline_ms: z.array(ms).min(1),
  candidate_ms: z.array(ms).min(1),
  torch_threads: z.number(),
  memory: z.object({ baseline_peak_bytes: z.number(), candidate_peak_bytes: z.number() }).nullable(),
  host_check: z.object({ baseline_ms: z.number(), candidate_ms: z.number(), disagrees: z.boolean() }).nullable(),
  late_writes: z.boolean(),
  patched: z.array(z.string()),
  settings_changed: z.array(z.string()),
});
export type BenchResult = z.infer<typeof benchResultSchema>;

export interface VariantTiming extends Summary {
  rounds_ms: number[];
  calls_per_s: number | null;
  peak_memory_bytes: number | null;
}

export interface Timing {
  device: string;
  method: string;
  /** Says what the numbers are: CPU timings are labelled as such. */
  label: string;
  rounds: number;
  baseline: VariantTiming;
  candidate: VariantTiming;
  /** median(baseline) / median(candidate): > 1 means the candidate is faster. */
  speedup: number;
  verdict: 'faster' | 'slower' | 'no significant difference';
  p_value: number | null;
  /** 95% CI of median(candidate) - median(baseline), in ms. */
  ci95_ms: [number, number] | null;
  explanation: string;
  over_10x: boolean;
  host_check: BenchResult['host_check'];
}

export const SUSPICIOUS_SPEEDUP = 10;

export function summarizeTiming(bench: BenchResult): Timing {
  const comparison = compare(bench.baseline_ms, bench.candidate_ms, 'lower', { metric: 'latency_ms' });
  const base = variant(bench.baseline_ms, bench.memory?.baseline_peak_bytes ?? null);
  const cand = variant(bench.candidate_ms, bench.memory?.candidate_peak_bytes ?? null);
  const speedup = base.median! / cand.median!;
  const verdict = comparison.verdict === 'better' ? 'faster' : comparison.verdict === 'worse' ? 'slower' : 'no significant difference';
  return {
    device: bench.device,
    method: bench.method,
    label: bench.label,
    rounds: bench.rounds,
    baseline: base,
    candidate: cand,
    speedup: round(speedup, 4),
    verdict,
    p_value: comparison.p_value,
    ci95_ms: comparison.ci95,
    explanation: `Candidate vs baseline: ${comparison.explanation.replace(/^b's/, "the candidate's").replace(/ than a's/, " than the baseline's")}`,
    over_10x: speedup > SUSPICIOUS_SPEEDUP,
    host_check: bench.host_check,
  };
}

function variant(ms: number[], peak: number | null): VariantTiming {
  const s = summarize(ms);
  return { ...s, rounds_ms: ms.map((v) => round(v, 6)), calls_per_s: s.median ? round(1000 / s.median, 3) : null, peak_memory_bytes: peak };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
