/**
 * Synthetic noisy landscapes shaped like real tuning problems, for the suggester benchmark (and its
 * tests). Each has mixed categorical + integer parameters, interactions, and one narrow optimum.
 * Values are deterministic functions of the config; a trial adds multiplicative noise.
 */
import { validateParams, type ParamSpec, type Point } from '../src/learn/suggest/space.js';

export interface Landscape {
  name: string;
  direction: 'lower' | 'higher';
  params: ParamSpec[];
  /** The noiseless objective. */
  value(point: Point): number;
  /** Relative standard deviation of one measurement. */
  noise: number;
}

const KIB = 1024;

/**
 * NCCL-like: busbw (GB/s, higher is better) of one all-reduce size band on 8 GPUs. Algorithm x
 * protocol set the ceiling; the best channel count depends on the protocol (LL saturates early,
 * Simple wants many channels), threads and buffer size interact with the protocol, and NVLS +
 * Simple with 16-40 channels and a 2-8 MiB buffer is a narrow peak above everything else.
 */
export const ncclLike: Landscape = {
  name: 'nccl-like (algo x proto x channels x threads x buffsize)',
  direction: 'higher',
  noise: 0.03,
  params: [
    { name: 'NCCL_ALGO', type: 'categorical', choices: ['Ring', 'Tree', 'NVLS', 'CollnetDirect'], default: 'Ring' },
    { name: 'NCCL_PROTO', type: 'categorical', choices: ['LL', 'LL128', 'Simple'], default: 'Simple' },
    { name: 'NCCL_MIN_CTAS', type: 'int', min: 1, max: 64, log: true, default: 8 },
    { name: 'NCCL_NTHREADS', type: 'categorical', choices: [64, 128, 256, 512], default: 512 },
    { name: 'NCCL_BUFFSIZE', type: 'categorical', choices: [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384].map((k) => k * KIB), default: 4096 * KIB },
  ],
  value(p) {
    const algo = p.NCCL_ALGO as string;
    const proto = p.NCCL_PROTO as string;
    const ch = p.NCCL_MIN_CTAS as number;
    const threads = p.NCCL_NTHREADS as number;
    const buff = Math.log2((p.NCCL_BUFFSIZE as number) / KIB); // 6..14
    const ceiling: Record<string, number> = { Ring: 150, Tree: 120, NVLS: 175, CollnetDirect: 90 };
    const protoFactor: Record<string, number> = { LL: 0.45, LL128: 0.85, Simple: 1 };
    const bestChannels: Record<string, number> = { LL: 4, LL128: 12, Simple: 24 };
    // Channels: unimodal in log space around the protocol's sweet spot.
    const dch = Math.log2(ch) - Math.log2(bestChannels[proto]);
    const channelFactor = Math.exp(-0.18 * dch * dch);
    // Threads: Simple likes 512, LL is indifferent, LL128 prefers 256 (interaction).
    const tBest = proto === 'LL128' ? 256 : 512;
    const threadFactor = proto === 'LL' ? 1 : 1 - (proto === 'Simple' ? 0.015 : 0.08) * Math.abs(Math.log2(threads) - Math.log2(tBest));
    // Buffer: best near 4 MiB (log2 KiB = 12), milder for LL.
    const db = buff - 12;
    const buffFactor = 1 - (proto === 'LL' ? 0.004 : 0.008) * db * db;
    let v = ceiling[algo] * protoFactor[proto] * channelFactor * threadFactor * Math.max(0.2, buffFactor);
    // The narrow peak: NVLS + Simple, 16-40 channels, 2-8 MiB, 256+ threads.
    if (algo === 'NVLS' && proto === 'Simple' && ch >= 16 && ch <= 40 && buff >= 11 && buff <= 13 && threads >= 256) v *= 1.22;
    return v;
  },
};

/**
 * Scheduler-like: p99 wake-up latency (ms, lower is better) of an interactive workload under load.
 * The scheduler sets the baseline, its slice interacts with the power mode, a boolean flag helps only
 * one scheduler, and scx_lavd in performance mode with a 500-2000 us slice and per-CPU DSQs is a
 * narrow valley below everything else.
 */
export const schedLike: Landscape = {
  name: 'sched-like (scheduler x mode x slice x per-cpu-dsq x preempt-shift)',
  direction: 'lower',
  noise: 0.04,
  params: [
    { name: 'scheduler', type: 'categorical', choices: ['eevdf', 'scx_bpfland', 'scx_lavd', 'scx_rusty', 'scx_flash'], default: 'eevdf' },
    { name: 'mode', type: 'categorical', choices: ['autopilot', 'performance', 'powersave', 'balanced'], default: 'autopilot' },
    { name: 'slice_us', type: 'int', min: 100, max: 20000, log: true, default: 5000 },
    { name: 'per_cpu_dsq', type: 'bool', default: false },
    { name: 'preempt_shift', type: 'int', min: 0, max: 10, default: 6 },
  ],
  value(p) {
    const sched = p.scheduler as string;
    const mode = p.mode as string;
    const slice = p.slice_us as number;
    const perCpu = p.per_cpu_dsq as boolean;
    const shift = p.preempt_shift as number;
    const base: Record<string, number> = { eevdf: 9, scx_bpfland: 5.5, scx_lavd: 5, scx_rusty: 8, scx_flash: 6 };
    const modeFactor: Record<string, number> = { autopilot: 1, performance: 0.9, powersave: 1.35, balanced: 1.05 };
    // Slice: best around 1 ms for interactive schedulers, 4 ms for the others; powersave wants longer.
    const best = (sched === 'scx_lavd' || sched === 'scx_bpfland' || sched === 'scx_flash' ? 1000 : 4000) * (mode === 'powersave' ? 3 : 1);
    const ds = Math.log2(slice / best);
    const sliceFactor = 1 + 0.06 * ds * ds;
    const dsqFactor = perCpu ? (sched === 'scx_lavd' ? 0.95 : 1.04) : 1;
    const shiftFactor = sched === 'scx_lavd' ? 1 + 0.012 * (shift - 4) ** 2 : 1;
    let v = base[sched] * modeFactor[mode] * sliceFactor * dsqFactor * shiftFactor;
    if (sched === 'scx_lavd' && mode === 'performance' && slice >= 500 && slice <= 2000 && perCpu && shift >= 2 && shift <= 6) v *= 0.8;
    return v;
  },
};

export const LANDSCAPES = [ncclLike, schedLike].map((l) => ({ ...l, params: validateParams(l.params) }));

/** Calls `visit` with every point of a space whose parameters are all discrete (one object, reused). */
export function forEachPoint(params: ParamSpec[], visit: (point: Point) => void): void {
  const values = params.map((p) => (p.type === 'int' ? Array.from({ length: p.max! - p.min! + 1 }, (_, i) => p.min! + i) : p.type === 'bool' ? [false, true] : p.choices!));
  const point: Point = {};
  const walk = (j: number): void => {
    if (j === params.length) return visit(point);
    for (const v of values[j]) {
      point[params[j].name] = v;
      walk(j + 1);
    }
  };
  walk(0);
}

/** The optimum and the share of the space within `tolerance` of it. */
export function optimum(l: Landscape, tolerance: number): { best: number; share: number; isNear: (v: number) => boolean } {
  let best = l.direction === 'higher' ? -Infinity : Infinity;
  forEachPoint(l.params, (p) => {
    const v = l.value(p);
    best = l.direction === 'higher' ? Math.max(best, v) : Math.min(best, v);
  });
  const isNear = (v: number) => (l.direction === 'higher' ? v >= best * (1 - tolerance) : v <= best * (1 + tolerance));
  let near = 0;
  let total = 0;
  forEachPoint(l.params, (p) => {
    total++;
    if (isNear(l.value(p))) near++;
  });
  return { best, share: near / total, isNear };
}
