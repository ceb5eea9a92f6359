/**
 * The schedulers this server attached: one registry per server (runtime.service), one scheduler
 * attached at a time system-wide (the kernel allows one), operations serialised. On server
 * shutdown every scheduler it started is stopped; if the server is SIGKILLed, each guard sees its
 * control pipe close and stops its scheduler.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { findBinary } from '../core/probe.js';
import { isProcessAlive } from '../core/proc.js';
import type { Runtime } from '../core/runtime.js';
import { findCatalogScheduler, loadCatalog } from './catalog.js';
import { Execution, orphanFinding, type StoppedBy } from './execution.js';
import { specFromCatalog, specFromHelp } from './flag-spec.js';
import { validateFlags } from './flags.js';
import { inspectBinary } from './help.js';
import { installedNativeTool, nativeTool } from './native.js';
import { detectScxLoader, requirePrivilege, requireRootOwned, resolvePrivilege, stopScxLoaderScheduler, type PrivilegePath } from './privilege.js';
import { findCustom, openOrphans, recentExecutions, recordOrphan, type ExecutionRow } from './store.js';
import { describeAttached, opsMatches, pollSchedExt, requireSchedExt, type SchedExtState } from './sysfs.js';

export const CUSTOM_PREFIX = 'custom:';

export interface RunRequest {
  scheduler: string;
  flags: string[];
  allowUnlistedFlags: boolean;
  replace: boolean;
  maxDurationS: number;
  attachTimeoutS: number;
}

export interface ResolvedScheduler {
  name: string;
  kind: 'catalog' | 'custom';
  binary: string;
  args: string[];
  expectedOps: string;
}

/** A request whose scheduler and flags were checked; the binary may be missing on this host. */
interface CheckedRequest {
  name: string;
  kind: 'catalog' | 'custom';
  /** The installed scheduler binary (catalog schedulers), null when not installed. */
  binary: string | null;
  custom: { object: string; ops: string } | null;
  args: string[];
  expectedOps: string;
}

export interface RunOutcome {
  execution: Execution;
  replaced: string | null;
}

export class SchedulerRegistry {
  private readonly executions = new Map<string, Execution>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly runtime: Runtime) {
    for (const row of openOrphans(runtime.store, hostname(), (pid) => isProcessAlive(pid))) recordOrphan(runtime.store, row.id, orphanFinding(row, runtime.config));
    runtime.onShutdown(() => this.stopAll(1500, 'shutdown'));
  }

  /**
   * Check everything, attach, and wait until the kernel shows it enabled (or report why not).
   * The scheduler name and its flags are checked first, also on a host that cannot run it, so a
   * wrong request is never hidden behind "no sched_ext here".
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const checked = await this.check(request);
    requireSchedExt(this.runtime.config);
    return this.attach(await this.requireInstalled(checked), request);
  }

  /** Attach an already resolved scheduler (build_scheduler's verification attaches its loader this way). */
  attach(target: ResolvedScheduler, options: Pick<RunRequest, 'replace' | 'maxDurationS' | 'attachTimeoutS'>): Promise<RunOutcome> {
    return this.serialize(async () => {
      const config = this.runtime.config;
      const state = requireSchedExt(config);
      const privilege = await resolvePrivilege(config);
      requirePrivilege(privilege);
      const guard = await this.guardFor(privilege, target);
      const replaced = await this.clearTheWay(state, options.replace, privilege);

      const id = `sx-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
      const dir = join(config.home, 'sched', 'executions');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const logPath = join(dir, `${id}.log`);
      writeFileSync(logPath, '', { mode: 0o600 });
      const execution = new Execution(
        {
          id,
          scheduler: target.name,
          kind: target.kind,
          binary: target.binary,
          args: target.args,
          expectedOps: target.expectedOps,
          privilege: privilege.path!,
          prefix: privilege.prefix,
          guard,
          maxDurationS: options.maxDurationS,
          logPath,
        },
        config,
        this.runtime.store,
      );
      this.executions.set(id, execution);
      await execution.start(options.attachTimeoutS * 1000, (by) => void this.stop(id, 5000, by).catch(() => {}));
      return { execution, replaced };
    });
  }

  /** Stop one execution (default: the live one) and wait until the kernel no longer shows it. */
  stop(id: string | undefined, graceMs: number, by: StoppedBy): Promise<{ execution: Execution; stateAfter: SchedExtState }> {
    return this.serialize(async () => {
      const execution = id ? this.executions.get(id) : this.live();
      if (!execution) {
        const known = recentExecutions(this.runtime.store, 50).find((r) => r.id === id);
        if (known && known.owner_pid !== process.pid) {
          throw new UserError(`Execution ${id} belongs to another tuneloop server (pid ${known.owner_pid}).`, 'Stop it from the session that started it; its guard stops it when that server exits.');
        }
        throw new UserError(id ? `No execution "${id}" in this server.` : 'No scheduler started by this server is running.', 'sched_status lists executions; run_scheduler starts one.');
      }
      await execution.stop(graceMs, by);
      const { state } = await pollSchedExt(this.runtime.config, (s) => !opsMatches(s.ops, execution.spec.expectedOps) && s.state !== 'enabled', 5000);
      return { execution, stateAfter: state };
    });
  }

  live(): Execution | undefined {
    return [...this.executions.values()].find((e) => e.live);
  }

  /** Live executions of this server first, then recent rows from every server sharing the data dir. */
  list(limit: number): { live: Execution[]; rows: ExecutionRow[] } {
    const live = [...this.executions.values()].filter((e) => e.live);
    const liveIds = new Set(live.map((e) => e.spec.id));
    const rows = recentExecutions(this.runtime.store, limit + liveIds.size).filter((r) => !liveIds.has(r.id)).slice(0, limit);
    return { live, rows };
  }

  async stopAll(graceMs: number, by: StoppedBy): Promise<void> {
    await Promise.all([...this.executions.values()].filter((e) => e.live).map((e) => e.stop(graceMs, by)));
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Name and flags checked, binary found: what to attach (benchmark_workload resolves its arm B this way). */
  async resolve(request: Pick<RunRequest, 'scheduler' | 'flags' | 'allowUnlistedFlags'>): Promise<ResolvedScheduler> {
    return this.requireInstalled(await this.check(request));
  }

  /**
   * The scheduler named and its flags validated: against the installed binary's own --help where
   * it is installed (cached per binary path, mtime and size), else against the catalog.
   */
  private async check(request: Pick<RunRequest, 'scheduler' | 'flags' | 'allowUnlistedFlags'>): Promise<CheckedRequest> {
    const config = this.runtime.config;
    if (request.scheduler.startsWith(CUSTOM_PREFIX)) {
      const name = request.scheduler.slice(CUSTOM_PREFIX.length);
      const custom = findCustom(this.runtime.store, name);
      if (!custom) throw new UserError(`No custom scheduler "${name}".`, 'build_scheduler builds one; list_schedulers shows the verified ones as custom:<name>.');
      if (custom.verdict !== 'verified') {
        throw new UserError(`custom:${name} was built but not verified (${custom.verdict}: ${custom.reason ?? 'no reason recorded'}).`, 'Only verified custom schedulers can be run: rebuild it with build_scheduler on a host where verification can run.');
      }
      if (request.flags.length) throw new UserError(`custom:${name} takes no flags (its parameters are compiled in).`, 'Rebuild it with build_scheduler and different template_params.');
      return { name: request.scheduler, kind: 'custom', binary: null, custom: { object: custom.object_path, ops: name }, args: [], expectedOps: name };
    }
    const catalog = loadCatalog();
    const entry = findCatalogScheduler(catalog, request.scheduler);
    if (!entry) {
      throw new UserError(
        `Unknown scheduler "${request.scheduler}".`,
        `The scx ${catalog.scx_version} schedulers: ${catalog.schedulers.map((s) => s.name).join(', ')}; custom ones are custom:<name> (list_schedulers).`,
      );
    }
    const binary = findBinary(entry.name, [...config.schedDirs, ...config.binPath]);
    const help = binary ? (await inspectBinary(binary)).help : null;
    const spec = binary && help ? specFromHelp(entry, help, binary) : specFromCatalog(entry, catalog.scx_version);
    const args = validateFlags(spec, request.flags, request.allowUnlistedFlags);
    return { name: entry.name, kind: 'catalog', binary, custom: null, args, expectedOps: entry.ops_name };
  }

  /** The binary to run: the installed scheduler, or for a custom one tuneloop's loader (built on demand). */
  private async requireInstalled(checked: CheckedRequest): Promise<ResolvedScheduler> {
    const { name, kind, args, expectedOps } = checked;
    if (checked.custom) {
      const loader = await nativeTool(this.runtime.config, 'loader');
      return { name, kind, binary: loader.path, args: ['run', checked.custom.object, checked.custom.ops], expectedOps };
    }
    if (!checked.binary) {
      const dirs = [...this.runtime.config.schedDirs, ...this.runtime.config.binPath];
      throw new UserError(
        `${name} is not installed (searched ${dirs.join(':') || 'an empty PATH'}); its flags were checked against the catalog.`,
        'Install the scx schedulers (Debian/Ubuntu: the scx-scheds package where available; otherwise `cargo install --locked ' + name + '` or build github.com/sched-ext/scx), or set TUNELOOP_SCHED_DIRS to where they are.',
      );
    }
    return { name, kind, binary: checked.binary, args, expectedOps };
  }

  private async guardFor(privilege: PrivilegePath, target: ResolvedScheduler): Promise<string> {
    if (privilege.path === 'root') return (await nativeTool(this.runtime.config, 'guard')).path;
    const guard = installedNativeTool(this.runtime.config, 'guard');
    if (!guard) {
      throw new UserError(
        `Under sudo, tuneloop needs its guard installed root-owned in ${this.runtime.config.schedLibexec} (it is not there).`,
        'Run `sudo make -C tools/sched install` and add the NOPASSWD rule from the README; or set TUNELOOP_SCHED_LIBEXEC to where it is installed.',
      );
    }
    requireRootOwned(guard, 'The guard');
    requireRootOwned(target.binary, 'The scheduler binary');
    return guard;
  }

  /** Refuse, or with replace stop whatever is attached (ours, scx_loader's, or via SysRq-S as root). */
  private async clearTheWay(state: SchedExtState, replace: boolean, privilege: PrivilegePath): Promise<string | null> {
    const config = this.runtime.config;
    const ours = this.live();
    const attached = state.state !== 'disabled' || state.ops !== null;
    if (!attached && !ours) return null;
    const what = ours ? `${describeAttached(state)}, started by this server as execution ${ours.spec.id} (${ours.spec.scheduler})` : describeAttached(state);
    if (!replace) {
      throw new UserError(
        `Another sched_ext scheduler is attached: ${what}.`,
        ours ? `Stop it with stop_scheduler {"execution_id": "${ours.spec.id}"}, or pass replace: true.` : 'Stop it where it was started (its loader, scxctl stop), or pass replace: true to have tuneloop detach it.',
      );
    }
    let how: string;
    if (ours) {
      await ours.stop(5000, 'replace');
      how = `stopped execution ${ours.spec.id}`;
    } else {
      const loader = await detectScxLoader(config);
      if (loader.running && loader.current_scheduler) {
        const r = await stopScxLoaderScheduler(config);
        if (!r.ok) throw new UserError(`Could not replace ${what}: ${r.detail}.`, 'Stop it with `scxctl stop`, then retry.');
        how = r.detail;
      } else if (privilege.path === 'root') {
        // The kernel's own "revert to the default scheduler" switch; the foreign loader sees its exit.
        writeFileSync(join(config.procRoot, 'sysrq-trigger'), 'S');
        how = 'SysRq-S (the kernel reverted to the default scheduler)';
      } else {
        throw new UserError(`Cannot replace ${what}: it was not started by this server, scx_loader does not run it, and without root tuneloop cannot use SysRq-S.`, 'Stop it where it was started, then retry.');
      }
    }
    const { reached, state: after } = await pollSchedExt(config, (s) => s.state === 'disabled' && s.ops === null, 10_000);
    if (!reached) throw new UserError(`Tried to replace ${what} (${how}), but after 10 s the state is ${after.state} with root/ops ${after.ops ?? 'absent'}.`, 'Check sched_status; stop it where it was started.');
    return `${state.ops ?? 'unnamed scheduler'}: ${how}`;
  }
}

export function schedulerRegistry(runtime: Runtime): SchedulerRegistry {
  return runtime.service('sched.registry', (rt) => new SchedulerRegistry(rt));
}

