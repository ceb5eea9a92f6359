/** Output shapes shared by the sched tools, and the conversions that fill them. */
import { z } from 'zod';
import { EXECUTION_STATUSES, type Execution } from './execution.js';
import type { ExecutionRow } from './store.js';
import type { SchedExtState } from './sysfs.js';

export const schedExtStateSchema = z.object({
  supported: z.boolean().describe('The kernel exposes /sys/kernel/sched_ext.'),
  state: z.string().nullable().describe('enabled, disabled, or a transitional state.'),
  ops: z.string().nullable().describe('root/ops: the attached scheduler, null when none.'),
  enable_seq: z.number().nullable().describe('Loads since boot.'),
  nr_rejected: z.number().nullable(),
  switch_all: z.number().nullable(),
  hotplug_seq: z.number().nullable(),
});

export const executionSchema = z.object({
  id: z.string().describe('Execution id (stop_scheduler takes it).'),
  scheduler: z.string(),
  kind: z.enum(['catalog', 'custom']),
  args: z.array(z.string()),
  binary: z.string(),
  privilege: z.enum(['root', 'sudo']),
  expected_ops: z.string().describe('The ops name root/ops must show.'),
  pid: z.number().int().nullable().describe("The scheduler's pid (its guard is its parent)."),
  status: z.enum(EXECUTION_STATUSES).describe('running; failed (never attached); exited (left on its own); ejected (the kernel disabled it); stopped (by the client, the watchdog, a replace or shutdown); orphaned (the server that started it died: exit_reason says what was checked, its pid and sysfs).'),
  stopped_by: z.string().nullable(),
  started_at: z.string(),
  attached_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  uptime_s: z.number().nullable().describe('Seconds attached so far (running) or in total (ended).'),
  max_duration_s: z.number().describe('The watchdog stops it after this long.'),
  exit_reason: z.string().nullable().describe('From the scheduler\'s "EXIT: ..." line (the kernel\'s reason) or the guard.'),
  exit_code: z.number().int().nullable(),
  output_tail: z.array(z.string()).describe('Last lines of its output.'),
  events: z.array(z.string()).describe('What tuneloop saw: attach, ejection, enable_seq changes, stop, escalation.'),
  log_path: z.string().describe('Full output.'),
  this_server: z.boolean().describe('Started by this server process (others sharing the data dir are listed too).'),
});
export type ExecutionView = z.infer<typeof executionSchema>;

export function viewExecution(e: Execution, lines: number): ExecutionView {
  return viewRow(e.row(), lines, e.outputTail(lines));
}

export function viewRow(row: ExecutionRow, lines: number, tail?: string[]): ExecutionView {
  const attached = row.attached_at ? Date.parse(row.attached_at) : null;
  const end = row.ended_at ? Date.parse(row.ended_at) : Date.now();
  return {
    id: row.id,
    scheduler: row.scheduler,
    kind: row.kind,
    args: row.args,
    binary: row.binary,
    privilege: row.privilege,
    expected_ops: row.expected_ops,
    pid: row.pid,
    status: row.status as ExecutionView['status'],
    stopped_by: row.stopped_by,
    started_at: row.started_at,
    attached_at: row.attached_at,
    ended_at: row.ended_at,
    uptime_s: attached === null ? null : Math.round((end - attached) / 100) / 10,
    max_duration_s: row.max_duration_s,
    exit_reason: row.exit_reason,
    exit_code: row.exit_code,
    output_tail: (tail ?? row.output_tail).slice(-lines),
    events: row.events.slice(-20),
    log_path: row.log_path,
    this_server: row.owner_pid === process.pid,
  };
}

export function executionLine(e: ExecutionView): string {
  const up = e.uptime_s !== null ? `, ${e.uptime_s}s attached` : '';
  const reason = e.exit_reason ? `; reason: ${e.exit_reason}` : '';
  return `${e.id} ${e.scheduler}${e.args.length ? ` ${e.args.join(' ')}` : ''}: ${e.status}${e.stopped_by ? ` by ${e.stopped_by}` : ''}${up}${reason}`;
}

export function stateLine(s: SchedExtState): string {
  if (!s.supported) return 'sched_ext: not supported by this kernel';
  return `sched_ext: ${s.state}${s.ops ? `, attached: ${s.ops}` : ''}, enable_seq ${s.enable_seq ?? '?'}`;
}
