/** run_scheduler and stop_scheduler: attach a scheduler safely, and take it down again. */
import { z } from 'zod';
import { errorLine } from '../core/failure.js';
import { defineTool } from '../core/tool.js';
import { schedulerRegistry } from './registry.js';
import { executionLine, executionSchema, schedExtStateSchema, stateLine, viewExecution } from './views.js';
import { opsMatches, readSchedExt } from './sysfs.js';

export const runSchedulerTool = defineTool({
  name: 'run_scheduler',
  toolset: 'sched',
  title: 'Run a sched_ext scheduler',
  description:
    'Attach a sched_ext scheduler, from the catalog or a verified custom one, with flags validated first: against the installed binary\'s own --help, or the catalog where the binary is not installed (also on hosts without sched_ext). ' +
    'The scheduler is a catalog name such as scx_lavd, or custom:<name>. ' +
    'Refuses when another sched_ext scheduler is attached unless replace is true; starts it as root or through sudo -n (never a password) under a guard that ' +
    "detaches it if tuneloop dies; waits until the kernel reports state enabled with root/ops naming it. Returns status running, or failed with the scheduler's output and the kernel's reason. " +
    'A watchdog stops it after max_duration_s; an exit or ejection is noticed and shown by sched_status. Stop it with stop_scheduler.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({
    scheduler: z.string().min(1).describe('Catalog name ("scx_lavd" or "lavd") or "custom:<name>" (list_schedulers shows them).'),
    flags: z.array(z.string()).default([]).describe('Arguments as the binary takes them, e.g. ["--slice-us", "5000", "--performance"]. Validated against the binary\'s --help (or the catalog).'),
    allow_unlisted_flags: z.boolean().default(false).describe('Pass flags the binary\'s --help (or the catalog) does not list through unchecked (known flags are still checked).'),
    replace: z.boolean().default(false).describe('Detach whatever scheduler is attached first (ours, scx_loader\'s, or via SysRq-S as root).'),
    max_duration_s: z.number().int().min(1).max(7 * 24 * 3600).default(3600).describe('Watchdog: stop it after this many seconds.'),
    attach_timeout_s: z.number().min(1).max(120).default(30).describe('How long to wait for state enabled before giving up (the verifier can take seconds).'),
  }),
  output: z.object({
    execution: executionSchema,
    replaced: z.string().nullable().describe('What was detached first, with replace.'),
    sched_ext: schedExtStateSchema,
  }),
  async handler(args, { runtime }) {
    const registry = schedulerRegistry(runtime);
    const { execution, replaced } = await registry.run({
      scheduler: args.scheduler,
      flags: args.flags,
      allowUnlistedFlags: args.allow_unlisted_flags,
      replace: args.replace,
      maxDurationS: args.max_duration_s,
      attachTimeoutS: args.attach_timeout_s,
    });
    return { execution: viewExecution(execution, 30), replaced, sched_ext: readSchedExt(runtime.config) };
  },
  summarize(r) {
    const e = r.execution;
    const head = e.status === 'running' ? `Attached ${e.scheduler} as execution ${e.id} (pid ${e.pid}); watchdog at ${e.max_duration_s}s.` : `FAILED to attach ${e.scheduler}: ${e.exit_reason ?? 'see output'}`;
    const lines = [head, stateLine(r.sched_ext)];
    if (r.replaced) lines.push(`Replaced: ${r.replaced}`);
    if (e.status !== 'running' && e.output_tail.length) lines.push('Output:', ...e.output_tail.slice(-10).map((l) => `  ${l}`));
    return lines.join('\n');
  },
  // Not running when we answer (never attached, or gone already): the binary's own error line first.
  failure: ({ execution: e }) =>
    e.status === 'running' ? null : `${e.scheduler} did not attach: ${errorLine(e.output_tail) ?? e.exit_reason ?? e.output_tail.at(-1) ?? `status ${e.status}`}`,
});

export const stopSchedulerTool = defineTool({
  name: 'stop_scheduler',
  toolset: 'sched',
  title: 'Stop a sched_ext scheduler',
  description:
    'Stop a scheduler this server started: SIGINT (the scheduler detaches and prints its exit reason), SIGTERM after grace_s, SIGKILL after 3 s more; ' +
    'then confirm the kernel shows state disabled. Returns the execution (status, run time, output tail, exit reason) and the sched_ext state after. ' +
    'Without execution_id it stops the one running.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({
    execution_id: z.string().optional().describe('From run_scheduler or sched_status; default: the running one.'),
    grace_s: z.number().min(0.1).max(60).default(5).describe('Seconds between SIGINT and SIGTERM.'),
  }),
  output: z.object({
    execution: executionSchema,
    sched_ext: schedExtStateSchema.describe('State after stopping.'),
    disabled: z.boolean().describe('The kernel no longer shows this scheduler attached.'),
  }),
  async handler(args, { runtime }) {
    const { execution, stateAfter } = await schedulerRegistry(runtime).stop(args.execution_id, args.grace_s * 1000, 'client');
    return {
      execution: viewExecution(execution, 30),
      sched_ext: stateAfter,
      disabled: stateAfter.state !== 'enabled' && stateAfter.ops === null,
    };
  },
  summarize(r) {
    return [executionLine(r.execution), stateLine(r.sched_ext), r.disabled ? 'Kernel: back to the default scheduler.' : 'WARNING: the kernel still shows a scheduler attached.'].join('\n');
  },
  // Another scheduler attached afterwards is not this stop's failure; this one still attached is.
  failure: ({ execution: e, sched_ext: s }) =>
    e.status === 'running' || (s.state === 'enabled' && opsMatches(s.ops, e.expected_ops))
      ? `${e.scheduler} is still attached after stop_scheduler (state ${s.state}, root/ops ${s.ops ?? 'absent'}): ${e.events.at(-1) ?? 'no event'}`
      : null,
});

