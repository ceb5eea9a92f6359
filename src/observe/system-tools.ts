/** system_monitor: what the host is doing over time (system_snapshot, what it is, is in snapshot-tool.ts). */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { defineTool } from '../core/tool.js';
import { MonitorRegistry } from './monitor.js';

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
