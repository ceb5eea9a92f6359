/**
 * Timed rounds -> a timing summary. The samples are the rounds' median call times, one per round
 * and side (baseline in the trusted process, candidate in its sandbox, alternating ABBA...), and
 * "faster" is claimed only when THE statistics module (learn/stats compare) finds the candidate's
 * rounds significantly lower; the speedup is a ratio of medians.
 *
 * The in-process timers are the candidate's own claim, so they are cross-checked against the wall
 * time the server observed for each round: wall = calls x (time per call + untimed overhead per
 * call). The overhead is the same code on both sides (input writes, sketches), so the baseline's
 * rounds measure it; the candidate's wall then implies a time per call. When that implied time is
 * far above what its timer reported (work done where the timer does not look: a patched timer, a
 * background thread, a side stream), or a timer reports more than the wall allows, `timer_mismatch`.
 */
import { median, sum } from 'simple-statistics';
import { z } from 'zod';
import { compare, summarize, type Summary } from '../learn/stats.js';

const ms = z.number().nonnegative().finite();

/** One side's round as the server saw it: the process's reported call times, and the wall. */
export interface RoundSample {
  times_ms: number[];
  host_ms: number[] | null;
  wall_ms: number;
  /** The baseline's (trusted) report of building the round's inputs: the same work on both sides. */
  setup_ms?: number;
}

export const roundReplySchema = z.looseObject({
  times_ms: z.array(ms).min(1),
  host_ms: z.array(ms).nullable(),
  setup_ms: ms.optional(),
});

export interface VariantTiming extends Summary {
  rounds_ms: number[];
  wall_ms: number[];
  calls_per_s: number | null;
}

export interface TimerCheck {
  baseline_overhead_ms: number;
  candidate_timed_ms: number;
  candidate_implied_ms: number;
  mismatch: boolean;
  detail: string;
}

export interface Timing {
  device: string;
  method: string;
  label: string;
  rounds: number;
  calls_per_round: number;
  baseline: VariantTiming;
  candidate: VariantTiming;
  /** median(baseline) / median(candidate): > 1 means the candidate is faster. */
  speedup: number;
  verdict: 'faster' | 'slower' | 'no significant difference';
  p_value: number | null;
  ci95_ms: [number, number] | null;
  explanation: string;
  over_10x: boolean;
  timer_check: TimerCheck;
}

export const SUSPICIOUS_SPEEDUP = 10;
/** The candidate's wall may imply up to this much more time per call than its timer says... */
const IMPLIED_FACTOR = 1.25;
/** ...plus the harness's own untimed overhead per call once more (it varies with load between rounds)... */
const OVERHEAD_SLACK = 1;
/** ...plus this (ms per call): pipe latency, scheduling. */
const ABSOLUTE_SLACK_MS = 0.05;

export function summarizeTiming(meta: { device: string; method: string; label: string; n: number }, baseline: RoundSample[], candidate: RoundSample[]): Timing {
  const baseMedians = baseline.map((r) => median(r.times_ms));
  const candMedians = candidate.map((r) => median(r.times_ms));
  const comparison = compare(baseMedians, candMedians, 'lower', { metric: 'latency_ms' });
  const base = variant(baseMedians, baseline);
  const cand = variant(candMedians, candidate);
  const speedup = base.median! / Math.max(cand.median!, 1e-9);
  return {
    device: meta.device,
    method: meta.method,
    label: meta.label,
    rounds: baseline.length,
    calls_per_round: meta.n,
    baseline: base,
    candidate: cand,
    speedup: round(speedup, 4),
    verdict: comparison.verdict === 'better' ? 'faster' : comparison.verdict === 'worse' ? 'slower' : 'no significant difference',
    p_value: comparison.p_value,
    ci95_ms: comparison.ci95,
    explanation: `Candidate vs baseline: ${comparison.explanation.replace(/^b's/, "the candidate's").replace(/ than a's/, " than the baseline's")}`,
    over_10x: speedup > SUSPICIOUS_SPEEDUP,
    timer_check: timerCheck(baseline, candidate),
  };
}

/**
 * The cross-check described at the top. Building a round's inputs is the same work on both sides;
 * the baseline reports how long it took, and it is taken out of both walls before dividing by the
 * calls. Load on a shared machine only ever adds wall time, unevenly between rounds, so the round
 * that fits its timer best decides, against the largest untimed overhead any baseline round showed:
 * a flag needs every round of the candidate to hide work beyond what load did to the baseline,
 * which work done off the clock does on every call and a preempted honest round does not.
 */
export function timerCheck(baseline: RoundSample[], candidate: RoundSample[]): TimerCheck {
  const perCall = (b: RoundSample) => Math.max(0, b.wall_ms - (b.setup_ms ?? 0) - sum(b.times_ms)) / b.times_ms.length;
  const overheads = baseline.map(perCall);
  const worstOverhead = Math.max(...overheads);
  const rounds = candidate.map((c, i) => {
    const timedPerCall = sum(c.times_ms) / c.times_ms.length;
    const implied = Math.max(0, c.wall_ms - (baseline[i].setup_ms ?? 0)) / c.times_ms.length - overheads[i];
    return { timedPerCall, implied, excess: implied - (IMPLIED_FACTOR * timedPerCall + OVERHEAD_SLACK * worstOverhead + ABSOLUTE_SLACK_MS) };
  });
  const overhead = median(overheads);
  const timed = median(rounds.map((r) => r.timedPerCall));
  const implied = median(rounds.map((r) => r.implied));
  const best = rounds.reduce((a, r) => (r.excess < a.excess ? r : a));
  const reasons: string[] = [];
  if (best.excess > 0) {
    reasons.push(
      `the wall time of its rounds implies ${implied.toPrecision(3)} ms per call where its timer reported ${timed.toPrecision(3)} ms, in every round (the closest: ${best.implied.toPrecision(3)} ms implied, ${best.timedPerCall.toPrecision(3)} ms timed; the baseline's untimed overhead is ${overhead.toPrecision(3)} ms per call, at most ${worstOverhead.toPrecision(3)}): work happened where the timer did not look`,
    );
  }
  const impossible = candidate.filter((r) => sum(r.times_ms) > r.wall_ms * 1.05 + 2).length;
  if (impossible) reasons.push(`in ${impossible} round(s) its timer reported more time than the whole round took`);
  const gap = hostGap(candidate);
  const baseGap = hostGap(baseline);
  if (gap !== null && baseGap !== null && gap > 2 * baseGap + 0.05 && gap > 0.5 * timed) {
    reasons.push(`its host-timed calls (with a device-wide synchronize) take ${gap.toPrecision(3)} ms longer than its CUDA events say (the baseline's: ${baseGap.toPrecision(3)} ms): work on another stream?`);
  }
  return {
    baseline_overhead_ms: round(overhead, 6),
    candidate_timed_ms: round(timed, 6),
    candidate_implied_ms: round(implied, 6),
    mismatch: reasons.length > 0,
    detail: reasons.length ? reasons.join('; ') : `the wall time of the candidate's rounds agrees with its timer (implied ${implied.toPrecision(3)} ms per call, timed ${timed.toPrecision(3)} ms)`,
  };
}

function hostGap(rounds: RoundSample[]): number | null {
  const gaps = rounds.filter((r) => r.host_ms && r.host_ms.length === r.times_ms.length).map((r) => median(r.host_ms!.map((h, i) => h - r.times_ms[i])));
  return gaps.length ? median(gaps) : null;
}

function variant(medians: number[], rounds: RoundSample[]): VariantTiming {
  const s = summarize(medians);
  return { ...s, rounds_ms: medians.map((v) => round(v, 6)), wall_ms: rounds.map((r) => round(r.wall_ms, 3)), calls_per_s: s.median ? round(1000 / s.median, 3) : null };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
