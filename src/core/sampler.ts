/**
 * Periodic sampling of /proc (and GPUs through one streaming nvidia-smi) into bounded per-metric
 * series. Shared by system_monitor and by benchmark_workload, which summarizes each run's system
 * behaviour. Rates (utilisation, context switches, PSI stall time, schedstat run delay) are computed
 * from counter deltas between samples, so they cover the whole interval, not an instant.
 *
 * Memory is bounded: per metric an exact count/mean/min/max plus a reservoir of at most
 * RESERVOIR samples for percentiles (exact until the reservoir fills, a uniform sample after).
 */
import { join } from 'node:path';
import type { Config } from './config.js';
import { outputTail, type Child } from './exec.js';
import { num, nvidiaSmiPath, streamGpus } from './nvidia.js';
import { closeSync, openSync, readSync } from 'node:fs';

export const RESERVOIR = 4096;

export interface MetricSummary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
}

export interface SamplerSummary {
  samples: number;
  duration_s: number;
  interval_ms: number;
  metrics: Record<string, MetricSummary>;
  /** Mean and max utilisation per CPU (percent). */
  per_cpu: { cpu: number; mean_util_pct: number; max_util_pct: number }[];
  /** Sources that could not be read on this host, with why: reported as missing, never as zeros. */
  missing: { source: string; reason: string }[];
}

/** One metric: exact count, mean, min and max; percentiles from a bounded uniform reservoir. */
export class Series {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly reservoir: number[] = [];
  private seen = 0;

  add(value: number): void {
    this.n++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.seen++;
    if (this.reservoir.length < RESERVOIR) this.reservoir.push(value);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < RESERVOIR) this.reservoir[j] = value;
    }
  }

  summary(): MetricSummary {
    const sorted = [...this.reservoir].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
    return { n: this.n, mean: round(this.sum / this.n), p50: round(q(0.5)), p95: round(q(0.95)), min: round(this.min), max: round(this.max) };
  }
}

interface CpuTimes {
  total: number;
  idle: number;
  user: number;
  system: number;
  iowait: number;
  steal: number;
}

interface Reading {
  at: number;
  cpus: Map<string, CpuTimes>;
  ctxt: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
  psi: Record<string, number | null>;
  runDelayNs: number | null;
}

const PSI_KEYS = ['cpu_some', 'memory_some', 'memory_full', 'io_some', 'io_full'] as const;
const PSI_TOTAL = /^(some|full) .*total=(\d+)/gm;
const MEM_TOTAL = /^MemTotal:\s+(\d+)/m;
const MEM_AVAILABLE = /^MemAvailable:\s+(\d+)/m;
const GPU_FIELDS = ['index', 'utilization.gpu', 'utilization.memory', 'memory.used', 'power.draw'];

export interface SamplerOptions {
  intervalMs: number;
  maxDurationMs: number;
  /** Sample GPUs when nvidia-smi is present (default true). */
  gpus?: boolean;
}

export class Sampler {
  private readonly series = new Map<string, Series>();
  private readonly perCpu = new Map<number, Series>();
  private readonly missing = new Map<string, string>();
  private readonly fds = new Map<string, number>();
  private buffer = Buffer.alloc(16 * 1024);
  private timer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private gpuChild: Child | undefined;
  private previous: Reading | null = null;
  private readonly startedAt = Date.now();
  private stoppedAt: number | null = null;
  private samples = 0;
  readonly latest: Record<string, number> = {};

  constructor(
    private readonly config: Config,
    private readonly options: SamplerOptions,
  ) {
    this.previous = this.read();
    this.timer = setInterval(() => this.tick(), options.intervalMs);
    this.timer.unref();
    this.stopTimer = setTimeout(() => this.stop(), options.maxDurationMs);
    this.stopTimer.unref();
    if (options.gpus !== false) this.startGpus();
  }

  get running(): boolean {
    return this.stoppedAt === null;
  }

  get elapsedS(): number {
    return ((this.stoppedAt ?? Date.now()) - this.startedAt) / 1000;
  }

  get sampleCount(): number {
    return this.samples;
  }

  /**
   * Stop sampling (idempotent); the summary stays available. A last sample covers the time since
   * the previous one, so a window shorter than the interval (a short benchmark run) still has one.
   */
  stop(): void {
    if (this.stoppedAt !== null) return;
    this.tick();
    this.stoppedAt = Date.now();
    clearInterval(this.timer);
    clearTimeout(this.stopTimer);
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    void this.gpuChild?.terminate('SIGTERM');
  }

  summary(): SamplerSummary {
    const metrics: Record<string, MetricSummary> = {};
    for (const [name, s] of [...this.series.entries()].sort(([a], [b]) => a.localeCompare(b))) if (s.n) metrics[name] = s.summary();
    return {
      samples: this.samples,
      duration_s: round(this.elapsedS),
      interval_ms: this.options.intervalMs,
      metrics,
      per_cpu: [...this.perCpu.entries()]
        .sort(([a], [b]) => a - b)
        .map(([cpu, s]) => ({ cpu, mean_util_pct: round(s.sum / s.n), max_util_pct: round(s.max) })),
      missing: [...this.missing.entries()].map(([source, reason]) => ({ source, reason })),
    };
  }

  private add(name: string, value: number | null): void {
    if (value === null || !Number.isFinite(value)) return;
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = new Series()));
    s.add(value);
    this.latest[name] = round(value);
  }

  private tick(): void {
    const now = this.read();
    const prev = this.previous;
    this.previous = now;
    if (!prev) return;
    const dt = (now.at - prev.at) / 1000;
    if (dt <= 0) return;
    this.samples++;

    for (const [name, cur] of now.cpus) {
      const old = prev.cpus.get(name);
      if (!old) continue;
      const total = cur.total - old.total;
      if (total <= 0) continue;
      const pct = (v: number) => (100 * v) / total;
      const util = 100 - pct(cur.idle - old.idle);
      if (name === 'cpu') {
        this.add('cpu.util_pct', util);
        this.add('cpu.user_pct', pct(cur.user - old.user));
        this.add('cpu.system_pct', pct(cur.system - old.system));
        this.add('cpu.iowait_pct', pct(cur.iowait - old.iowait));
        this.add('cpu.steal_pct', pct(cur.steal - old.steal));
      } else {
        const index = Number(name.slice(3));
        let s = this.perCpu.get(index);
        if (!s) this.perCpu.set(index, (s = new Series()));
        s.add(util);
      }
    }
    if (now.ctxt !== null && prev.ctxt !== null) this.add('sched.ctxt_per_s', (now.ctxt - prev.ctxt) / dt);
    this.add('sched.procs_running', now.procsRunning);
    this.add('sched.procs_blocked', now.procsBlocked);
    for (const key of PSI_KEYS) {
      const a = prev.psi[key];
      const b = now.psi[key];
      // PSI totals are microseconds stalled: delta / interval = share of time stalled.
      if (a !== null && b !== null) this.add(`psi.${key}_pct`, ((b - a) / 1e6 / dt) * 100);
    }
    if (now.runDelayNs !== null && prev.runDelayNs !== null) {
      this.add('schedstat.run_delay_ms_per_s', (now.runDelayNs - prev.runDelayNs) / 1e6 / dt);
    }
    const mem = this.readMemory();
    this.add('mem.used_pct', mem.usedPct);
    this.add('mem.available_mib', mem.availableMib);
  }

  /**
   * Read a source. Files stay open and are re-read from offset 0 (procfs regenerates them on each
   * read): at 10 Hz, open/close per sample would cost more than the reading. A source missing once
   * is not retried (sources do not appear at run time).
   */
  private source(path: string, whyMissing: string): string | null {
    const name = `/proc/${path}`;
    if (this.missing.has(name)) return null;
    let fd = this.fds.get(path);
    if (fd === undefined) {
      try {
        fd = openSync(join(this.config.procRoot, path), 'r');
      } catch {
        this.missing.set(name, whyMissing);
        return null;
      }
      this.fds.set(path, fd);
    }
    try {
      let length = 0;
      for (let n; (n = readSync(fd, this.buffer, length, this.buffer.length - length, length)) > 0; ) {
        length += n;
        if (length === this.buffer.length) this.buffer = Buffer.concat([this.buffer, Buffer.alloc(this.buffer.length)]);
      }
      return this.buffer.toString('latin1', 0, length);
    } catch {
      this.missing.set(name, `${whyMissing} (read failed)`);
      return null;
    }
  }

  private read(): Reading {
    const reading: Reading = { at: performance.now(), cpus: new Map(), ctxt: null, procsRunning: null, procsBlocked: null, psi: {}, runDelayNs: null };
    const stat = this.source('stat', 'unreadable');
    if (stat !== null) {
      for (const line of stat.split('\n')) {
        if (line.startsWith('cpu')) {
          const [name, ...f] = line.split(/\s+/);
          const v = f.map(Number);
          // user nice system idle iowait irq softirq steal (guest time is already in user)
          const idle = v[3] + (v[4] || 0);
          const total = v.slice(0, 8).reduce((s, x) => s + (x || 0), 0);
          reading.cpus.set(name, { total, idle, user: v[0] + v[1], system: v[2] + (v[5] || 0) + (v[6] || 0), iowait: v[4] || 0, steal: v[7] || 0 });
        } else if (line.startsWith('ctxt ')) reading.ctxt = Number(line.slice(5));
        else if (line.startsWith('procs_running ')) reading.procsRunning = Number(line.slice(14));
        else if (line.startsWith('procs_blocked ')) reading.procsBlocked = Number(line.slice(14));
      }
    }
    for (const resource of ['cpu', 'memory', 'io'] as const) {
      const text = this.source(`pressure/${resource}`, 'absent: kernel without PSI (CONFIG_PSI, or boot with psi=1)');
      if (text === null) continue;
      for (const m of text.matchAll(PSI_TOTAL)) reading.psi[`${resource}_${m[1]}`] = Number(m[2]);
    }
    for (const key of PSI_KEYS) reading.psi[key] ??= null;
    const schedstat = this.source('schedstat', 'absent: kernel without CONFIG_SCHEDSTATS');
    if (schedstat !== null) {
      // "cpuN yld_count 0 sched_count sched_goidle ttwu_count ttwu_local rq_cpu_time run_delay pcount"
      let sum = 0;
      for (const line of schedstat.split('\n')) {
        if (/^cpu\d/.test(line)) sum += Number(line.split(/\s+/)[8]) || 0;
      }
      reading.runDelayNs = sum;
    }
    return reading;
  }

  private readMemory(): { usedPct: number | null; availableMib: number | null } {
    const text = this.source('meminfo', 'unreadable');
    if (text === null) return { usedPct: null, availableMib: null };
    const total = Number(MEM_TOTAL.exec(text)?.[1] ?? NaN);
    const available = Number(MEM_AVAILABLE.exec(text)?.[1] ?? NaN);
    return { usedPct: (100 * (total - available)) / total, availableMib: available / 1024 };
  }

  private startGpus(): void {
    if (!nvidiaSmiPath(this.config)) {
      this.missing.set('nvidia-smi', 'not installed: GPU utilisation not sampled');
      return;
    }
    this.gpuChild = streamGpus(this.config, GPU_FIELDS, Math.max(this.options.intervalMs, 100), this.options.maxDurationMs + 5000, (row) => {
      const index = num(row, 'index');
      if (index === null) return;
      this.add(`gpu${index}.util_pct`, num(row, 'utilization.gpu'));
      this.add(`gpu${index}.mem_util_pct`, num(row, 'utilization.memory'));
      this.add(`gpu${index}.mem_used_mib`, num(row, 'memory.used'));
      this.add(`gpu${index}.power_w`, num(row, 'power.draw'));
    });
    void this.gpuChild.result.then((r) => {
      if (this.running && !r.ok) this.missing.set('nvidia-smi', `stopped early: ${outputTail(r) || `exit ${r.exitCode}`}`);
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
