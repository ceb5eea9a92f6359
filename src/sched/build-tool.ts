/** build_scheduler: compile, check and (where the host allows) verify a custom BPF scheduler. */
import { z } from 'zod';
import { jobOutputSchema } from '../core/jobs.js';
import { errorLine } from '../core/failure.js';
import { defineTool, runAsJob, summarizeJob, waitSeconds } from '../core/tool.js';
import { buildScheduler, validateBuildInput, type BuildResult } from './custom/build.js';
import { VERIFY_IN } from './custom/target.js';
import { listTemplates } from './custom/templates.js';
import { schedExtStateSchema } from './views.js';

const diagnostic = z.object({
  file: z.string().describe('scheduler.bpf.c, tuneloop/scx.bpf.h, vmlinux.h, ...'),
  line: z.number().int(),
  column: z.number().int(),
  severity: z.enum(['error', 'warning', 'note', 'fatal error']),
  message: z.string(),
  context: z.array(z.string()).describe('The source line and the caret under it.'),
});

const buildResultSchema = z.object({
  name: z.string(),
  verdict: z
    .enum(['verified', 'compiled_only', 'failed'])
    .describe(
      'verified: the kernel (see verified_in) loaded it, it ran attached under load and detached cleanly; compiled_only: compiled and checked but never loaded by any kernel (no verifier has seen it; reason says why and how to get a VM); failed: see reason and diagnostics.',
    ),
  reason: z.string().nullable(),
  source_path: z.string(),
  object_path: z.string().nullable().describe('Set when the build was kept (verified or compiled_only).'),
  template: z.string().nullable(),
  params: z.record(z.string(), z.number()),
  vmlinux: z.object({ path: z.string(), kernel_release: z.string(), cached: z.boolean(), has_sched_ext: z.boolean() }).nullable(),
  compile: z
    .object({
      ok: z.boolean(),
      command: z.array(z.string()),
      diagnostics: z.array(diagnostic),
      errors: z.number().int(),
      warnings: z.number().int(),
      output_tail: z.array(z.string()),
    })
    .nullable(),
  static_checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
  ops: z
    .object({ variable: z.string(), name: z.string().nullable(), callbacks: z.array(z.object({ member: z.string(), program: z.string(), sleepable: z.boolean() })) })
    .nullable(),
  loader: z
    .object({
      path: z.string(),
      libbpf_build: z.string(),
      libbpf_runtime: z.string(),
      struct_ops_link: z.boolean(),
      kernel_btf: z.boolean(),
      kernel_sched_ext_ops: z.boolean(),
      limitation: z.string().nullable(),
    })
    .nullable()
    .describe("tuneloop's libbpf loader and what it can do here."),
  libbpf_check: z
    .object({
      open_error: z.string().nullable().describe('libbpf refused to open the object (its own words).'),
      license: z.string().nullable(),
      programs: z.array(z.object({ name: z.string(), section: z.string(), type: z.string(), sleepable: z.boolean(), insns: z.number().int() })),
      maps: z.array(z.object({ name: z.string(), type: z.string(), value_size: z.number().int() })),
      struct_ops: z.array(
        z.object({
          section: z.string(),
          variable: z.string(),
          type: z.string(),
          size: z.number().int(),
          members: z.array(z.object({ name: z.string(), offset: z.number().int(), program: z.string().optional(), value: z.number().optional(), string: z.string().optional() })),
        }),
      ),
      struct_ops_map: z.string().nullable(),
      attachable: z.boolean(),
      limitation: z.string().nullable(),
      libbpf_notes: z.string(),
      error: z.string().nullable(),
    })
    .nullable()
    .describe("The object as tuneloop's loader reads it with libbpf and libelf (no kernel needed): license, programs, maps, struct_ops layout."),
  verification: z
    .object({
      ran: z.boolean(),
      passed: z.boolean(),
      reasons: z.array(z.string()),
      execution_id: z.string().nullable(),
      attach_ms: z.number().nullable(),
      smoke: z.record(z.string(), z.number()).nullable().describe('Smoke load counts: spin_rounds, wakeups, min_pair_bounces.'),
      state_during: schedExtStateSchema.nullable(),
      state_after: schedExtStateSchema.nullable(),
      exit_reason: z.string().nullable(),
      output_tail: z.array(z.string()).describe('Loader output, with the verifier log when loading failed.'),
    })
    .nullable(),
  verified_in: z
    .object({
      where: z.enum(['host', 'vm']),
      kernel_release: z.string(),
      accel: z.enum(['kvm', 'tcg']).nullable(),
      boot_s: z.number().nullable(),
      note: z.string(),
    })
    .nullable()
    .describe('Where verification ran: this host, or a throwaway sched_ext guest (tuneloop vm). Timings in a VM say nothing about performance.'),
  compiled_against: z
    .object({ kernel_release: z.string(), compat_types: z.boolean(), note: z.string() })
    .nullable()
    .describe("Whose BTF the object was compiled against; compat_types: tuneloop's sched_ext types stood in for a host without sched_ext."),
  custom_name: z.string().nullable().describe('custom:<name> for run_scheduler, when verified.'),
});

export const buildSchedulerTool = defineTool({
  name: 'build_scheduler',
  toolset: 'sched',
  title: 'Build a custom sched_ext scheduler',
  description:
    'Compile, check and, where the host allows, verify a custom BPF sched_ext scheduler. ' +
    "The source is yours or one of tuneloop's templates (vtime: global virtual-time/FIFO queue; percpu: per-CPU queues with stealing), compiled " +
    "against vmlinux.h of the running kernel (generated with bpftool, cached) and tuneloop's header <tuneloop/scx.bpf.h> (kfuncs, TL_OPS, TL_EXIT_INFO_*). " +
    'Returns clang diagnostics with file:line:column on failure; static checks (ops in .struct_ops.link with a name matching, GPL license, callbacks); ' +
    "then verification on this host or, without sched_ext here, in a throwaway sched_ext guest VM (verify_in): attach with tuneloop's libbpf loader, smoke load for verify_s, confirm enabled/named/not ejected, detach, confirm disabled. " +
    'Verdict verified (then runnable as custom:<name>), compiled_only (never loaded anywhere; the reason says why) or failed. A job: poll with job_status.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({
    name: z.string().describe('Scheduler name: 1-32 of [a-z0-9_], starting with a letter. Becomes the ops name (root/ops) and custom:<name>.'),
    source: z.string().optional().describe('Full BPF C source. #include <tuneloop/scx.bpf.h>; set .name = TL_NAME (defined as the name); SEC(".struct_ops.link") via TL_OPS_SECTION.'),
    template: z.enum(listTemplates() as [string, ...string[]]).optional().describe('Build one of tuneloop\'s templates instead of source.'),
    template_params: z.record(z.string(), z.number()).optional().describe('Template parameters, e.g. {"SLICE_US": 3000, "FIFO": 1} (vtime) or {"SLICE_US": 2000, "STEAL": 0} (percpu).'),
    description: z.string().max(2000).default('').describe('What it is for (shown by list_schedulers).'),
    use_cases: z.array(z.string()).default([]).describe('Use cases it targets (list_schedulers filters on them).'),
    verify_s: z.number().int().min(1).max(120).default(10).describe('Seconds to keep it attached under the smoke load during verification.'),
    verify_in: z
      .enum(VERIFY_IN)
      .default('auto')
      .describe(
        'Where to verify: host (this kernel; an error if it cannot), vm (a sched_ext guest kernel built by `tuneloop vm build`, booted under qemu), auto (host if it can, else the VM if built, else compiled_only).',
      ),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(buildResultSchema),
  async handler(args, ctx) {
    const input = { ...args, use_cases: args.use_cases.length ? args.use_cases : ['custom'] };
    validateBuildInput(input);
    const params = { ...args, source: args.source === undefined ? undefined : `${args.source.length} characters` };
    return runAsJob(ctx, 'build_scheduler', params, args.wait_s, (job) => buildScheduler(ctx.runtime, job, input), buildFailure);
  },
  summarize: (v) => summarizeJob(v, summarizeBuild),
});

/** compiled_only is an answer (verification impossible here, and why); failed is not: the compiler's first error first. */
function buildFailure(r: BuildResult): string | null {
  if (r.verdict !== 'failed') return null;
  const first = r.compile?.diagnostics.find((d) => d.severity === 'error' || d.severity === 'fatal error');
  if (first) return `${first.file}:${first.line}:${first.column}: ${first.severity}: ${first.message}`;
  return (r.compile && !r.compile.ok ? errorLine(r.compile.output_tail) : null) ?? r.reason ?? 'the build failed';
}

function summarizeBuild(r: BuildResult): string {
  const lines = [`${r.name}: ${r.verdict.toUpperCase()}${r.reason ? ` - ${r.reason}` : ''}`];
  for (const d of r.compile?.diagnostics.filter((x) => x.severity !== 'note').slice(0, 8) ?? []) lines.push(`  ${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
  if (r.ops) lines.push(`ops "${r.ops.name}": ${r.ops.callbacks.map((c) => c.member).join(', ')}`);
  if (r.verified_in) lines.push(`Verified ${r.verified_in.note}.`);
  if (r.compiled_against) lines.push(`${r.compiled_against.note[0].toUpperCase()}${r.compiled_against.note.slice(1)}.`);
  if (r.custom_name) lines.push(`Run it with run_scheduler {"scheduler": "${r.custom_name}"}.`);
  lines.push(`Source: ${r.source_path}`);
  return lines.join('\n');
}
