import { homedir } from 'node:os';
import { join, resolve, delimiter } from 'node:path';
import { UserError } from './errors.js';
import { CONTAINMENT_PREFERENCES, type ContainmentPreference } from './contain.js';
import { SANDBOX_PREFERENCES, type SandboxPreference } from './sandbox.js';

/** Toolsets, each declared once. `jobs` is always on: every job-starting tool needs it. */
export const TOOLSETS = ['observe', 'sched', 'nccl', 'triton', 'history', 'jobs'] as const;
export type Toolset = (typeof TOOLSETS)[number];

/** One typed configuration: flags > environment (TUNELOOP_*) > defaults. */
export interface Config {
  /** The data dir: tuneloop.db, jobs/, archives/, schedulers/, cache/. */
  home: string;
  toolsets: Toolset[];
  readOnly: boolean;
  /** Root of sysfs (default /sys). Tests point it at a fake tree; production never changes it. */
  sysfsRoot: string;
  /** Root of procfs (default /proc). */
  procRoot: string;
  /** Directories searched for external binaries, in order (default: $PATH). */
  binPath: string[];
  /** Python interpreter for the Triton harness (TUNELOOP_PYTHON, default python3). */
  python: string;
  /** Extra Triton case roots (TUNELOOP_CASES, path-list). */
  casesDirs: string[];
  /** Where nccl-tests binaries live (TUNELOOP_NCCL_TESTS_DIR, path-list), searched before binPath. */
  ncclTestsDirs: string[];
  /** Hosts scrape_metrics may reach besides loopback (TUNELOOP_METRICS_HOSTS, comma list). */
  metricsHosts: string[];
  /** Where scx_* scheduler binaries live (TUNELOOP_SCHED_DIRS, path-list), searched before binPath. */
  schedDirs: string[];
  /**
   * Installed (root-owned) sched helpers: tuneloop-sched-guard, -loader, -smoke (TUNELOOP_SCHED_LIBEXEC,
   * default /usr/local/libexec/tuneloop). A helper found here is used as is; otherwise it is built
   * into the data dir's cache. The sudo path requires the installed guard.
   */
  schedLibexec: string;
  /**
   * The guest kernel cache of `tuneloop vm` (TUNELOOP_VM_CACHE, default `<home>/cache/vm`): kernel
   * source tree, build tree, bzImage + BTF per source version and config fragment, static guest tools.
   */
  vmCache: string;
  /** The kernel source tarball `tuneloop vm build` builds from (TUNELOOP_VM_KERNEL_SOURCE). */
  vmKernelSource: string;
  /** Cap on how children are contained (TUNELOOP_CONTAINMENT: auto = best available, pidns, pgroup). */
  containment: ContainmentPreference;
  /** Cap on sandbox isolation for untrusted code (TUNELOOP_SANDBOX: auto = bwrap, unshare, none). */
  sandbox: SandboxPreference;
}

export interface ConfigFlags {
  home?: string;
  toolsets?: string;
  readOnly?: boolean;
}

type Env = Record<string, string | undefined>;

export function loadConfig(flags: ConfigFlags = {}, rawEnv: Env = process.env): Config {
  const env = expandPlaceholders(rawEnv);
  const home = resolve(flags.home ?? env.TUNELOOP_HOME ?? defaultHome(env));
  return {
    home,
    toolsets: parseToolsets(flags.toolsets ?? env.TUNELOOP_TOOLSETS),
    readOnly: flags.readOnly ?? parseBool(env.TUNELOOP_READ_ONLY, 'TUNELOOP_READ_ONLY'),
    sysfsRoot: env.TUNELOOP_SYSFS_ROOT || '/sys',
    procRoot: env.TUNELOOP_PROC_ROOT || '/proc',
    binPath: splitPathList(env.PATH),
    python: env.TUNELOOP_PYTHON || 'python3',
    casesDirs: splitPathList(env.TUNELOOP_CASES),
    ncclTestsDirs: splitPathList(env.TUNELOOP_NCCL_TESTS_DIR),
    metricsHosts: (env.TUNELOOP_METRICS_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    schedDirs: splitPathList(env.TUNELOOP_SCHED_DIRS),
    schedLibexec: resolve(env.TUNELOOP_SCHED_LIBEXEC || '/usr/local/libexec/tuneloop'),
    vmCache: resolve(env.TUNELOOP_VM_CACHE || join(home, 'cache', 'vm')),
    vmKernelSource: resolve(env.TUNELOOP_VM_KERNEL_SOURCE || '/usr/src/linux-source-6.12.tar.xz'),
    containment: parseChoice('TUNELOOP_CONTAINMENT', env.TUNELOOP_CONTAINMENT, CONTAINMENT_PREFERENCES),
    sandbox: parseChoice('TUNELOOP_SANDBOX', env.TUNELOOP_SANDBOX, SANDBOX_PREFERENCES),
  };
}

/**
 * A client that does not expand `${VAR}` / `${VAR:-default}` in its config (.mcp.json, Claude
 * Desktop's file) passes the placeholder itself. For TUNELOOP_* variables such a value means what
 * the config meant: the default after `:-`, or unset. Said once on stderr, never refused.
 */
function expandPlaceholders(env: Env): Env {
  let out: Env | undefined;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TUNELOOP_') || value === undefined) continue;
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}$/.exec(value.trim());
    if (!m) continue;
    out ??= { ...env };
    out[name] = m[2] === undefined ? undefined : m[2];
    process.stderr.write(`tuneloop: warning: ${name} is "${value}", a placeholder the MCP client did not expand; using ${m[2] === undefined ? 'the default' : `"${m[2]}"`}.\n`);
  }
  return out ?? env;
}

function defaultHome(env: Env): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'tuneloop');
}

export function parseToolsets(value: string | undefined): Toolset[] {
  if (!value || value.trim() === '' || value.trim() === 'all') return [...TOOLSETS];
  const chosen = new Set<Toolset>(['jobs']);
  for (const raw of value.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (!(TOOLSETS as readonly string[]).includes(name)) {
      throw new UserError(
        `Unknown toolset "${name}".`,
        `Choose from: ${TOOLSETS.join(', ')} (comma-separated), or "all".`,
      );
    }
    chosen.add(name as Toolset);
  }
  return TOOLSETS.filter((t) => chosen.has(t));
}

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UserError(`${name}="${value}" is not a boolean.`, `Set ${name} to 1/true or 0/false.`);
}

function parseChoice<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T {
  if (value === undefined || value === '') return choices[0];
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UserError(`${name}="${value}" is not one of ${choices.join(', ')}.`, `Set ${name} to ${choices.join(' or ')}, or leave it unset (${choices[0]}).`);
}

function splitPathList(value: string | undefined): string[] {
  return (value ?? '').split(delimiter).filter(Boolean);
}
