/** system_snapshot and system_monitor: what the host is and what it is doing. */
import { z } from 'zod';
import { UserError, errorMessage } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { nvidiaSmiPath, queryGpus } from '../core/nvidia.js';
import { MonitorRegistry } from './monitor.js';
import {
  readCgroup,
  readGovernors,
  readKernel,
  readLoad,
  readMeminfo,
  readPsi,
  readSchedExtBrief,
  readTopology,
  topProcesses,
} from './system.js';

const psiLine = z.object({ avg10: z.number(), avg60: z.number(), avg300: z.number(), total_us: z.number() }).nullable();
const psi = z.object({ some: psiLine, full: psiLine }).nullable();
const SNAPSHOT_GPU_FIELDS = ['index', 'name', 'pci.bus_id', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw'];

export const systemSnapshotTool = defineTool({
  name: 'system_snapshot',
  toolset: 'observe',
  title: 'System snapshot',
  description:
    'A point-in-time picture of this host for tuning decisions. Kernel, CPU model and topology (sockets/cores/threads, SMT, NUMA), memory, load, ' +
    'pressure stall info (PSI), CPU frequency governors, the limits of the cgroup tuneloop runs in, sched_ext state, GPUs (when nvidia-smi exists), ' +
    'and the top processes by CPU over a short window. Start here; use system_monitor to watch over time.',
  annotations: READ_ONLY,
  input: z.object({
    top: z.number().int().min(0).max(50).default(10).describe('How many top processes by CPU to list (0: skip).'),
    sample_ms: z.number().int().min(100).max(5000).default(500).describe('Window for measuring per-process CPU.'),
  }),
  output: z.object({
    kernel: z.object({ release: z.string().nullable(), version: z.string().nullable(), hostname: z.string(), uptime_s: z.number().nullable() }),
    cpu: z.object({
      cpu_model: z.string().nullable(),
      sockets: z.number().int(),
      cores: z.number().int(),
      threads: z.number().int(),
      smt_active: z.boolean().nullable(),
      numa_nodes: z.array(z.object({ node: z.number().int(), cpus: z.string(), mem_total_mib: z.number().nullable() })),
    }),
    memory: z
      .object({
        total_mib: z.number(),
        available_mib: z.number().nullable(),
        swap_total_mib: z.number().nullable(),
        swap_free_mib: z.number().nullable(),
        hugepages_total: z.number().nullable(),
      })
      .nullable(),
    load: z.object({ load1: z.number(), load5: z.number(), load15: z.number(), runnable: z.number(), tasks: z.number() }).nullable(),
    pressure: z.object({ cpu: psi, memory: psi, io: psi }).describe('PSI averages (% of time stalled); null: kernel without PSI.'),
    cpufreq: z.object({ governors: z.record(z.string(), z.number()), driver: z.string().nullable() }).nullable().describe('Governor -> number of CPUs; null: no cpufreq (VMs).'),
    cgroup: z
      .object({
        version: z.union([z.literal(1), z.literal(2)]),
        path: z.string(),
        cpu_quota_cores: z.number().nullable(),
        cpuset: z.string().nullable(),
        memory_limit_bytes: z.number().nullable(),
        memory_current_bytes: z.number().nullable(),
        pids_limit: z.number().nullable(),
      })
      .nullable()
      .describe("Limits of tuneloop's own cgroup (null fields: unlimited)."),
    sched_ext: z.object({ supported: z.boolean(), state: z.string().nullable(), ops: z.string().nullable(), enable_seq: z.number().nullable() }),
    gpus: z
      .object({
        available: z.boolean(),
        error: z.string().nullable(),
        devices: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
      })
      .describe('GPUs via nvidia-smi; available=false when it is not installed.'),
    top_processes: z.array(
      z.object({ pid: z.number().int(), comm: z.string(), cmdline: z.string(), cpu_pct: z.number(), rss_mib: z.number().nullable(), state: z.string() }),
    ),
    missing: z.array(z.string()).describe('Sources this host does not expose.'),
  }),
  async handler(args, { runtime }) {
    const config = runtime.config;
    const missing: string[] = [];
    const mem = readMeminfo(config);
    if (!mem) missing.push('meminfo');
    const mib = (kb: number | undefined) => (kb === undefined ? null : Math.round(kb / 1024));
    const pressure = readPsi(config);
    if (!pressure.cpu) missing.push('PSI (/proc/pressure): kernel without CONFIG_PSI or booted with psi=0');
    const cpufreq = readGovernors(config);
    if (!cpufreq) missing.push('cpufreq: no scaling governors exposed (typical in VMs)');
    const sched = readSchedExtBrief(config);
    if (!sched.supported) missing.push('sched_ext: kernel without CONFIG_SCHED_CLASS_EXT');

    let gpus: { available: boolean; error: string | null; devices: Record<string, string | number | null>[] } = { available: false, error: null, devices: [] };
    if (nvidiaSmiPath(config)) {
      try {
        const rows = await queryGpus(config, SNAPSHOT_GPU_FIELDS);
        gpus = { available: true, error: null, devices: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, f]) => [k, f.value]))) };
      } catch (error) {
        gpus = { available: true, error: errorMessage(error), devices: [] };
      }
    } else missing.push('GPUs: nvidia-smi not installed');

    return {
      kernel: readKernel(config),
      cpu: readTopology(config),
      memory: mem
        ? {
            total_mib: mib(mem.MemTotal) ?? 0,
            available_mib: mib(mem.MemAvailable),
            swap_total_mib: mib(mem.SwapTotal),
            swap_free_mib: mib(mem.SwapFree),
            hugepages_total: mem.HugePages_Total ?? null,
          }
        : null,
      load: readLoad(config),
      pressure,
      cpufreq,
      cgroup: readCgroup(config),
      sched_ext: sched,
      gpus,
      top_processes: args.top > 0 ? await topProcesses(config, args.top, args.sample_ms) : [],
      missing,
    };
  },
  summarize(r) {
    const c = r.cpu;
    const lines = [
      `${r.kernel.hostname}: Linux ${r.kernel.release ?? '?'}; ${c.cpu_model ?? 'unknown CPU'}; ${c.sockets} socket(s), ${c.cores} cores, ${c.threads} threads, SMT ${c.smt_active ?? 'unknown'}, ${c.numa_nodes.length || 1} NUMA node(s)`,
      r.memory ? `Memory: ${r.memory.available_mib} of ${r.memory.total_mib} MiB available` : 'Memory: unreadable',
      r.load ? `Load: ${r.load.load1} ${r.load.load5} ${r.load.load15}` : 'Load: unreadable',
      r.pressure.cpu?.some ? `PSI cpu some avg10 ${r.pressure.cpu.some.avg10}%, memory some ${r.pressure.memory?.some?.avg10 ?? '?'}%, io some ${r.pressure.io?.some?.avg10 ?? '?'}%` : 'PSI: not available',
      `sched_ext: ${r.sched_ext.supported ? `${r.sched_ext.state}${r.sched_ext.ops ? ` (${r.sched_ext.ops})` : ''}` : 'not supported by this kernel'}`,
      `GPUs: ${r.gpus.available ? (r.gpus.error ?? `${r.gpus.devices.length}`) : 'none (no nvidia-smi)'}`,
    ];
    if (r.top_processes.length) lines.push(`Top CPU: ${r.top_processes.slice(0, 5).map((p) => `${p.comm}(${p.pid}) ${p.cpu_pct}%`).join(', ')}`);
    return lines.join('\n');
  },
});

const metricSummary = z.object({ n: z.number(), mean: z.number(), p50: z.number(), p95: z.number(), min: z.number(), max: z.number() });
const sessionStatus = z.object({
  session_id: z.string(),
  label: z.string().nullable(),
  running: z.boolean(),
  started_at: z.string(),
  elapsed_s: z.number(),
  samples: z.number().int(),
  latest: z.record(z.string(), z.number()).describe('Most recent value per metric.'),
});

export const systemMonitorTool = defineTool({
  name: 'system_monitor',
  toolset: 'observe',
  title: 'Monitor the system',
  description:
    'Watch the system over time. Samples /proc: total and per-CPU utilisation, memory, context switches, runnable/blocked tasks, PSI stall % for cpu/memory/io, ' +
    'schedstat run delay, and GPU utilisation/memory/power when nvidia-smi exists. start returns a session_id (several may run at once); ' +
    'status shows the latest values; stop returns mean/p50/p95/min/max per metric (nothing is stored: record_run keeps what matters). Sessions stop themselves after max_duration_s.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    action: z.enum(['start', 'stop', 'status']).describe('start a session, stop one (returns its summary), or status of one/all.'),
    session_id: z.string().optional().describe('stop/status: the session (status without it lists all).'),
    interval_ms: z.number().int().min(100).max(10_000).default(1000).describe('start: sampling interval.'),
    max_duration_s: z.number().int().min(1).max(86_400).default(600).describe('start: the session stops sampling after this long.'),
    label: z.string().max(200).optional().describe('start: a note on what is being watched.'),
    gpus: z.boolean().default(true).describe('start: sample GPUs when nvidia-smi exists.'),
  }),
  output: z.object({
    action: z.enum(['start', 'stop', 'status']),
    sessions: z.array(sessionStatus),
    summary: z
      .object({
        samples: z.number().int(),
        duration_s: z.number(),
        interval_ms: z.number(),
        metrics: z.record(z.string(), metricSummary),
        per_cpu: z.array(z.object({ cpu: z.number().int(), mean_util_pct: z.number(), max_util_pct: z.number() })),
        missing: z.array(z.object({ source: z.string(), reason: z.string() })),
      })
      .optional()
      .describe('stop: the summary.'),
    missing: z.array(z.object({ source: z.string(), reason: z.string() })).optional().describe('start: sources this host does not have.'),
  }),
  async handler(args, { runtime }) {
    const registry = runtime.service('observe.monitor', (rt) => new MonitorRegistry(rt));
    if (args.action === 'start') {
      const { missing, ...status } = registry.start({ intervalMs: args.interval_ms, maxDurationS: args.max_duration_s, label: args.label, gpus: args.gpus });
      return { action: 'start' as const, sessions: [status], missing };
    }
    if (args.action === 'status') {
      return { action: 'status' as const, sessions: args.session_id ? [registry.get(args.session_id)] : registry.list() };
    }
    if (!args.session_id) {
      const ids = registry.list().map((s) => s.session_id);
      throw new UserError('stop needs session_id.', ids.length ? `Running sessions: ${ids.join(', ')}.` : 'No sessions are running.');
    }
    const { summary, ...status } = registry.stop(args.session_id);
    return { action: 'stop' as const, sessions: [status], summary };
  },
  summarize(r) {
    if (r.action === 'start') {
      const s = r.sessions[0];
      return `Monitoring as ${s.session_id}${r.missing?.length ? `; missing: ${r.missing.map((m) => m.source).join(', ')}` : ''}. Stop with system_monitor {action: "stop", session_id: "${s.session_id}"}.`;
    }
    if (r.action === 'status') return r.sessions.map((s) => `${s.session_id}: ${s.running ? 'running' : 'ended'}, ${s.samples} samples, ${s.elapsed_s}s`).join('\n') || 'No monitor sessions.';
    const m = r.summary!.metrics;
    const pick = (k: string) => (m[k] ? `${k} mean ${m[k].mean} p95 ${m[k].p95} max ${m[k].max}` : null);
    return [
      `Session ${r.sessions[0].session_id}: ${r.summary!.samples} samples over ${r.summary!.duration_s}s`,
      ...['cpu.util_pct', 'psi.cpu_some_pct', 'sched.ctxt_per_s', 'mem.used_pct', 'schedstat.run_delay_ms_per_s'].map(pick).filter(Boolean),
    ].join('\n');
  },
});

export const systemTools = [systemSnapshotTool, systemMonitorTool];
