/** sched_status and list_schedulers: what this host can do, and what there is to run. */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { findBinary } from '../core/probe.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { PRODUCTION_STATUSES, filterCatalog, flagSchema, loadCatalog, positionalSchema } from './catalog.js';
import { detectDrift, hasDrift } from './drift.js';
import { inspectBinary } from './help.js';
import { installedNativeTool } from './native.js';
import { detectScxLoader, resolvePrivilege } from './privilege.js';
import { CUSTOM_PREFIX, schedulerRegistry } from './registry.js';
import { listCustom } from './store.js';
import { opsMatches, readKernelInfo, readSchedExt } from './sysfs.js';
import { executionLine, executionSchema, schedExtStateSchema, stateLine, viewExecution, viewRow } from './views.js';

export const schedStatusTool = defineTool({
  name: 'sched_status',
  toolset: 'sched',
  title: 'sched_ext status',
  description:
    'Show whether this host can run sched_ext schedulers and what tuneloop runs. Kernel support (sched_ext, release, BTF, PREEMPT_RT), ' +
    'the live sched_ext state (state, root/ops, enable_seq, nr_rejected, switch_all), the privilege path (root, sudo -n, scx_loader on D-Bus), ' +
    'and the scheduler executions tuneloop manages with status (running/exited/ejected/stopped/failed), uptime, output tail and exit reason. ' +
    'Call before run_scheduler; call after to see whether a scheduler is still attached.',
  annotations: READ_ONLY,
  input: z.object({
    limit: z.number().int().min(0).max(100).default(10).describe('Finished executions to list besides the live ones.'),
    output_lines: z.number().int().min(0).max(200).default(10).describe('Output lines per execution.'),
  }),
  output: z.object({
    kernel: z.object({
      release: z.string(),
      version: z.string().nullable(),
      preempt_rt: z.boolean().describe('RT kernels refuse to load schedulers.'),
      btf: z.boolean().describe('Kernel BTF present (needed to load BPF schedulers and build custom ones).'),
      btf_path: z.string(),
    }),
    sched_ext: schedExtStateSchema,
    attached_execution: z.string().nullable().describe('The tuneloop execution that root/ops shows, if any.'),
    privilege: z.object({
      path: z.enum(['root', 'sudo']).nullable().describe('How tuneloop would load a scheduler; null: it cannot.'),
      detail: z.string(),
      remedy: z.string().nullable(),
      installed_guard: z.string().nullable().describe('Root-owned guard in TUNELOOP_SCHED_LIBEXEC (required for sudo).'),
    }),
    scx_loader: z.object({
      detected: z.boolean(),
      running: z.boolean(),
      current_scheduler: z.string().nullable(),
      detail: z.string(),
      used_for: z.string(),
    }),
    can_run: z.object({ ok: z.boolean(), reasons: z.array(z.string()).describe('What stops run_scheduler on this host.') }),
    executions: z.array(executionSchema),
  }),
  async handler(args, { runtime }) {
    const config = runtime.config;
    const registry = schedulerRegistry(runtime);
    const kernel = readKernelInfo(config);
    const state = readSchedExt(config);
    const [privilege, scxLoader] = await Promise.all([resolvePrivilege(config), detectScxLoader(config)]);
    const { live, rows } = registry.list(args.limit);
    const executions = [...live.map((e) => viewExecution(e, args.output_lines)), ...rows.map((r) => viewRow(r, args.output_lines))];
    const attached = executions.find((e) => e.status === 'running' && opsMatches(state.ops, e.expected_ops));
    const reasons: string[] = [];
    if (!state.supported) reasons.push('the kernel has no sched_ext (needs Linux >= 6.12 with CONFIG_SCHED_CLASS_EXT=y)');
    if (kernel.preempt_rt) reasons.push('PREEMPT_RT kernel: sched_ext refuses to load');
    if (!privilege.path) reasons.push(`no privileges: ${privilege.detail}`);
    if (privilege.path === 'sudo' && !installedNativeTool(config, 'guard')) reasons.push(`sudo needs the guard installed root-owned in ${config.schedLibexec}`);
    return {
      kernel,
      sched_ext: state,
      attached_execution: attached?.id ?? null,
      privilege: { path: privilege.path, detail: privilege.detail, remedy: privilege.remedy, installed_guard: installedNativeTool(config, 'guard') },
      scx_loader: scxLoader,
      can_run: { ok: reasons.length === 0, reasons },
      executions,
    };
  },
  summarize(r) {
    const lines = [
      `Kernel ${r.kernel.release}${r.kernel.preempt_rt ? ' (PREEMPT_RT)' : ''}; BTF ${r.kernel.btf ? 'present' : 'absent'}`,
      stateLine(r.sched_ext),
      `Privilege: ${r.privilege.path ?? 'none'} (${r.privilege.detail}); scx_loader: ${r.scx_loader.detail}`,
      r.can_run.ok ? 'run_scheduler: possible' : `run_scheduler: not possible: ${r.can_run.reasons.join('; ')}`,
    ];
    for (const e of r.executions.slice(0, 10)) lines.push(`  ${executionLine(e)}`);
    return lines.join('\n');
  },
});

const schedulerEntry = z.object({
  name: z.string().describe('Pass to run_scheduler (custom ones are custom:<name>).'),
  kind: z.enum(['catalog', 'custom']),
  ops_name: z.string(),
  purpose: z.string(),
  algorithm: z.string(),
  use_cases: z.array(z.string()),
  characteristics: z.array(z.string()),
  limitations: z.array(z.string()),
  production_status: z.enum(PRODUCTION_STATUSES),
  status_note: z.string(),
  tuning: z.array(z.string()).describe('Tuning advice.'),
  crate_version: z.string().nullable().describe('Its version in the scx release the catalog describes.'),
  flags: z.array(flagSchema).describe('Every flag of the catalog release (empty with include_flags: false).'),
  positional: positionalSchema.nullable(),
  installed: z.boolean(),
  binary: z.string().nullable(),
  version: z.string().nullable().describe("The installed binary's --version."),
  flags_checked_against: z.enum(['binary_help', 'catalog', 'none']).describe("What run_scheduler validates this scheduler's flags against on this host: the installed binary's --help, else the catalog."),
  drift: z
    .object({ missing_in_binary: z.array(z.string()), missing_in_catalog: z.array(z.string()), mismatches: z.array(z.string()) })
    .nullable()
    .describe("Differences between the catalog and the installed binary's --help; null when not installed or not checked."),
  help_error: z.string().nullable(),
});

export const listSchedulersTool = defineTool({
  name: 'list_schedulers',
  toolset: 'sched',
  title: 'List sched_ext schedulers',
  description:
    'List the sched_ext schedulers tuneloop can run, with their flags, installation and catalog drift. ' +
    'The catalog covers every scheduler of one scx release (purpose, algorithm, use cases, characteristics, limitations, production status, tuning advice, and every flag from its clap definition: type, default, range, choices, repeatable); ' +
    'custom schedulers built and verified by build_scheduler join as custom:<name>. Filters by name, use case, characteristic, status and installed-on-this-host. ' +
    "For installed binaries it reports the version and any drift between the catalog's flags and the binary's own --help, which is what run_scheduler validates against. Use it to choose run_scheduler's scheduler and flags.",
  annotations: READ_ONLY,
  input: z.object({
    name: z.string().optional().describe('Substring of the scheduler name, e.g. "lavd".'),
    use_case: z.string().optional().describe('Substring of a use case, e.g. "gaming", "throughput", "server".'),
    characteristic: z.string().optional().describe('Substring of a characteristic, e.g. "deadline", "per-cpu".'),
    production_status: z.enum(PRODUCTION_STATUSES).optional().describe('Only schedulers with this production status.'),
    installed_only: z.boolean().default(false).describe('Only schedulers installed on this host (custom ones always are).'),
    include_flags: z.boolean().default(true).describe('Include each scheduler\'s flags.'),
    check_drift: z.boolean().default(true).describe('Run installed binaries with --help/--version to compare against the catalog.'),
  }),
  output: z.object({
    scx_version: z.string().describe('The scx release the catalog describes; an installed binary\'s --help is the truth.'),
    scx_commit: z.string(),
    schedulers: z.array(schedulerEntry),
  }),
  async handler(args, { runtime }) {
    const config = runtime.config;
    const catalog = loadCatalog();
    const dirs = [...config.schedDirs, ...config.binPath];
    const entries = await Promise.all(
      filterCatalog(catalog.schedulers, args).map(async (s) => {
        const binary = findBinary(s.name, dirs);
        const info = binary && args.check_drift ? await inspectBinary(binary) : null;
        return {
          ...s,
          kind: 'catalog' as const,
          tuning: s.tuning ?? [],
          flags: args.include_flags ? s.flags : [],
          positional: s.positional ?? null,
          installed: binary !== null,
          binary,
          version: info?.version ?? null,
          flags_checked_against: binary ? (info && !info.help ? ('catalog' as const) : ('binary_help' as const)) : ('catalog' as const),
          drift: info?.help ? detectDrift(s.flags, info.help.flags) : null,
          help_error: info?.help_error ?? null,
        };
      }),
    );
    const customs = filterCatalog(listCustom(runtime.store, 'verified')
      .filter((c) => existsSync(c.object_path))
      .map((c) => ({
        name: `${CUSTOM_PREFIX}${c.name}`,
        kind: 'custom' as const,
        ops_name: c.name,
        purpose: c.description,
        algorithm: c.template ? `tuneloop template "${c.template}" ${JSON.stringify(c.params)}` : 'client-supplied BPF source',
        use_cases: c.use_cases,
        characteristics: ['custom', ...(c.template ? [`template:${c.template}`] : [])],
        limitations: [`Verified on kernel ${c.kernel} at ${c.verified_at}; runs without flags (parameters are compiled in).`],
        production_status: 'experimental' as const,
        status_note: `Built by build_scheduler; source ${c.source_path}.`,
        tuning: [],
        crate_version: null,
        flags: [],
        positional: null,
        installed: true,
        binary: c.object_path,
        version: null,
        flags_checked_against: 'none' as const,
        drift: null,
        help_error: null,
      })), args);
    const schedulers = [...entries, ...customs].filter((s) => !args.installed_only || s.installed);
    return { scx_version: catalog.scx_version, scx_commit: catalog.scx_commit, schedulers };
  },
  summarize(r) {
    const lines = [`${r.schedulers.length} scheduler(s) (catalog: ${r.scx_version})`];
    for (const s of r.schedulers) {
      const install = s.installed ? `installed${s.version ? ` ${s.version}` : ''}` : 'not installed';
      const drift = s.drift && hasDrift(s.drift) ? `; DRIFT: ${[...s.drift.mismatches, ...s.drift.missing_in_binary.map((f) => `${f} missing in binary`), ...s.drift.missing_in_catalog.map((f) => `${f} not in catalog`)].slice(0, 3).join('; ')}` : '';
      lines.push(`- ${s.name} [${s.production_status}, ${install}]: ${s.purpose}${drift}`);
    }
    return lines.join('\n');
  },
});
