/**
 * Containment: nothing a child starts may outlive it, whatever it does (background jobs, setsid,
 * double forks). Every child exec.ts starts is contained by the best mechanism this host offers,
 * probed once per process:
 *
 * - `cgroup`: a cgroup v2 per child (cgroup.ts). Exact: the child is born inside, its argv, pid and
 *   exit status are its own, and `cgroup.kill` ends the whole tree. Needs a writable cgroup v2
 *   (root, or a delegated subtree such as a systemd user service with Delegate=yes).
 * - `pidns`: the child runs under `bwrap --dev-bind / / --unshare-pid --die-with-parent` (the whole
 *   filesystem as is, only a new PID namespace): when bwrap or its init dies, the kernel kills
 *   everything in the namespace. bwrap reports a death by signal N as exit 128+N, which is mapped
 *   back; processes inside see namespace pids; as non-root it runs in a user namespace, so setuid
 *   programs (sudo) cannot work there: those run in a process group instead.
 * - `pgroup`: the child's own process group (detached), as before; a setsid grandchild escapes it.
 *
 * Whatever the mechanism, the first (graceful) signal of a timeout, cancel or shutdown goes to the
 * child's process group, as a terminal's ^C does, and the final SIGKILL goes to everything contained.
 * `TUNELOOP_CONTAINMENT` (config) caps the mechanism: auto (best available), pidns, pgroup.
 */
import { readdirSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { createChildCgroup, isPopulated, killCgroup, moveSelf, removeCgroup, setupCgroupHome, type CgroupHome } from './cgroup.js';
import { readText, statFields } from './proc.js';
import { registerContained, registerHome, unregisterContained } from './reaper.js';
import { findSystemBinary, sandboxInfo, sandboxLaunch, setSandboxPreference, type Isolation, type SandboxLaunch, type SandboxPreference, type SandboxSpec } from './sandbox.js';

export type ContainmentMode = 'cgroup' | 'pidns' | 'pgroup';
export type ContainmentPreference = 'auto' | 'pidns' | 'pgroup';
export const CONTAINMENT_PREFERENCES = ['auto', 'pidns', 'pgroup'] as const;

export interface ContainmentInfo {
  mode: ContainmentMode;
  detail: string;
}

interface HostContainment extends ContainmentInfo {
  home?: CgroupHome;
  bwrap?: string;
}

let preference: ContainmentPreference = 'auto';
let host: HostContainment | null = null;
/** Set up once per process: children may still live in it when the preference changes. */
let cgroupHome: CgroupHome | { reason: string } | null = null;
let childSeq = 0;

/** Set from the config before the first child (server start, doctor); tests use it to force a mode. */
export function configureIsolation(options: { containment?: ContainmentPreference; sandbox?: SandboxPreference }): void {
  if (options.containment && options.containment !== preference) {
    preference = options.containment;
    host = null;
  }
  if (options.sandbox) setSandboxPreference(options.sandbox);
}

/** Which containment every child gets on this host, and why. */
export function containmentInfo(): ContainmentInfo {
  const { mode, detail } = probeHost();
  return { mode, detail };
}

/** Containment and sandbox isolation in one line each, for doctor. */
export function isolationSummary(): { containment: ContainmentInfo; sandbox: { isolation: Isolation; detail: string } } {
  return { containment: containmentInfo(), sandbox: sandboxInfo() };
}

function probeHost(): HostContainment {
  if (host) return host;
  const reasons: string[] = [];
  if (preference === 'auto') {
    if (!cgroupHome) {
      cgroupHome = setupCgroupHome();
      if ('dir' in cgroupHome) registerHome(cgroupHome.dir);
    }
    const home = cgroupHome;
    if ('dir' in home) {
      return (host = { mode: 'cgroup', detail: `a cgroup v2 per child under ${home.dir}${home.memory ? ' (memory controller delegated)' : ''}`, home });
    }
    reasons.push(`cgroup: ${home.reason}`);
  }
  if (preference !== 'pgroup') {
    const bwrap = findSystemBinary('bwrap');
    const probe = bwrap ? spawnSync(bwrap, [...PIDNS_ARGS, '/usr/bin/true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' }) : null;
    if (bwrap && probe?.status === 0) {
      const user = process.getuid?.() !== 0 ? ' in a user namespace (setuid programs such as sudo run in a process group)' : '';
      return (host = { mode: 'pidns', detail: `a PID namespace per child (bubblewrap)${user}${reasons.length ? `; ${reasons.join('; ')}` : ''}`, bwrap });
    }
    reasons.push(`pidns: ${bwrap ? `bwrap failed: ${(probe?.stderr ?? '').trim().split('\n').at(-1) || probe?.error?.message}` : 'bwrap is not installed (apt-get install bubblewrap)'}`);
  }
  if (preference !== 'auto') reasons.push(`TUNELOOP_CONTAINMENT=${preference}`);
  return (host = { mode: 'pgroup', detail: `a process group per child; a setsid grandchild can escape it (${reasons.join('; ')})` });
}

const PIDNS_ARGS = ['--dev-bind', '/', '/', '--unshare-pid', '--die-with-parent', '--'];

export interface ContainOptions {
  sandbox?: SandboxSpec;
  /** Plain process group even where more is available (benchmarks of containment itself). */
  uncontained?: boolean;
  /** The child's PATH and working directory: where argv[0] is found. */
  path: string | undefined;
  cwd?: string;
}

/** One contained child: how to start it, signal it, kill it and clean up after it. */
export class Container {
  readonly mode: ContainmentMode;
  /** What to spawn (the command, or a wrapper that runs it). */
  readonly argv: string[];
  /** With a sandbox: its environment, directory, isolation and memory bound. */
  readonly launch?: SandboxLaunch;
  private readonly home?: CgroupHome;
  private cgroup: string | null = null;
  /** The leader is bwrap: it dies on a signal and reports the command's signal as 128+N. */
  private readonly bwrapLeader: boolean;
  private pgid: number | undefined;

  constructor(argv: string[], options: ContainOptions) {
    const hostInfo = probeHost();
    let mode: ContainmentMode = options.uncontained ? 'pgroup' : hostInfo.mode;
    // Placing a child moves the whole process (every thread) for a moment: only the main thread,
    // which starts all other children, may do it; a worker thread's children get their process group.
    if (mode === 'cgroup' && !isMainThread) mode = 'pgroup';
    let command = argv;
    if (options.sandbox) {
      const cgroupMemory = mode === 'cgroup' && options.sandbox.memoryBytes !== undefined && !!hostInfo.home?.memory;
      this.launch = sandboxLaunch(argv, options.sandbox, cgroupMemory);
      command = this.launch.argv;
      // The sandbox's own PID namespace (--die-with-parent / --kill-child) contains it at least that well.
      if (mode !== 'cgroup') mode = this.launch.isolation === 'none' ? 'pgroup' : 'pidns';
    } else if (mode === 'pidns') {
      const resolved = resolveExecutable(argv[0], options.path, options.cwd);
      // Unresolvable: spawn it bare so the error is the usual ENOENT/EACCES. setuid: see above.
      if (!resolved || (process.getuid?.() !== 0 && isSetuid(resolved))) mode = 'pgroup';
      else command = [hostInfo.bwrap!, ...PIDNS_ARGS, ...argv];
    }
    if (mode === 'cgroup') {
      this.home = hostInfo.home;
      const memory = this.launch?.memoryLimit === 'cgroup' ? options.sandbox!.memoryBytes : undefined;
      try {
        this.cgroup = createChildCgroup(this.home!, `c${++childSeq}`, memory).dir;
      } catch (error) {
        // e.g. cgroup.max.descendants reached: this child gets its process group (or its sandbox's namespace).
        process.stderr.write(`tuneloop: no cgroup for a child (${(error as Error).message})\n`);
        mode = this.launch && this.launch.isolation !== 'none' ? 'pidns' : 'pgroup';
      }
    }
    this.mode = mode;
    this.argv = command;
    this.bwrapLeader = (mode === 'pidns' && !options.sandbox) || this.launch?.isolation === 'bwrap';
  }

  /** Run `start` (which forks the child synchronously) so that the child is born contained. */
  spawn<T>(start: () => T): T {
    if (!this.cgroup) return start();
    try {
      moveSelf(this.cgroup);
    } catch {
      // Cannot place it (cgroup removed under us): it runs in its process group only.
      removeCgroup(this.cgroup);
      this.cgroup = null;
      return start();
    }
    try {
      return start();
    } finally {
      this.returnHome();
    }
  }

  /** After spawn: the reaper kills the tree if this server dies without cleaning up. */
  attach(pid: number): void {
    this.pgid = pid;
    registerContained(pid, this.cgroup);
  }

  /** The graceful signal: the child's process group, minus the bwrap wrapper (which would die at once). */
  signal(signal: NodeJS.Signals): void {
    if (this.pgid === undefined) return;
    if (signal === 'SIGKILL') return this.kill();
    if (this.bwrapLeader) signalGroupInside(this.pgid, signal);
    else signalGroup(this.pgid, signal);
  }

  /** SIGKILL everything contained. */
  kill(): void {
    if (this.cgroup) killCgroup(this.cgroup);
    if (this.pgid !== undefined) signalGroup(this.pgid, 'SIGKILL');
  }

  /** The leader has exited: kill what it left, wait until it is gone (bounded), forget it. */
  async release(): Promise<void> {
    this.kill();
    if (this.cgroup) {
      const dir = this.cgroup;
      await waitUntil(() => !isPopulated(dir));
      removeCgroup(dir);
    } else if (this.bwrapLeader && this.pgid !== undefined) {
      // bwrap exits as soon as the command does; its init, still in the group, then kills the
      // namespace and lives until every member is gone.
      const pgid = this.pgid;
      await waitUntil(() => groupMembers(pgid).length === 0);
    }
    if (this.pgid !== undefined) unregisterContained(this.pgid);
  }

  /** The command's own exit status (bwrap turns a death by signal N into exit 128+N). */
  exitStatus(exitCode: number | null, signal: NodeJS.Signals | null): { exitCode: number | null; signal: NodeJS.Signals | null } {
    if (this.bwrapLeader && exitCode !== null && exitCode > 128 && exitCode <= 128 + 64) {
      const name = SIGNAL_NAMES.get(exitCode - 128);
      if (name) return { exitCode: null, signal: name };
    }
    return { exitCode, signal };
  }

  private returnHome(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        moveSelf(this.home!.own);
        return;
      } catch (error) {
        if (attempt === 2) {
          // Never cgroup.kill a cgroup the server itself may still be in.
          process.stderr.write(`tuneloop: could not leave child cgroup ${this.cgroup}: ${(error as Error).message}\n`);
          this.cgroup = null;
        }
      }
    }
  }
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone. EPERM: a member changed uid (sudo); the owner of that member must stop it.
  }
}

/** Signal the members of process group `pgid` except its leader and PID-namespace inits (bwrap's). */
function signalGroupInside(pgid: number, signal: NodeJS.Signals): void {
  for (const pid of groupMembers(pgid)) {
    if (pid === pgid) continue;
    const nspid = /^NSpid:\s*(.*)$/m.exec(readText(`/proc/${pid}/status`) ?? '')?.[1].trim().split(/\s+/);
    if (nspid?.at(-1) === '1') continue;
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** Live (not zombie) processes of process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const [state, , pgrp] = statFields(pid) ?? [];
    if (Number(pgrp) === pgid && state !== 'Z') out.push(pid);
  }
  return out;
}

/** Poll `done` (1 ms, doubling to 20 ms) for at most 2 s: processes killed with SIGKILL take a moment to exit. */
async function waitUntil(done: () => boolean): Promise<void> {
  for (let waited = 0, step = 1; !done() && waited < 2000; waited += step, step = Math.min(step * 2, 20)) {
    await new Promise((r) => setTimeout(r, step));
  }
}

/** argv[0] as execvp would find it (relative to `cwd` when it has a slash), or null. */
function resolveExecutable(file: string, path: string | undefined, cwd: string | undefined): string | null {
  const candidates = file.includes('/') ? [isAbsolute(file) ? file : resolve(cwd ?? process.cwd(), file)] : (path ?? '').split(delimiter).filter(Boolean).map((d) => join(resolve(cwd ?? process.cwd(), d), file));
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // next
    }
  }
  return null;
}

function isSetuid(path: string): boolean {
  try {
    return (statSync(path).mode & 0o6000) !== 0;
  } catch {
    return false;
  }
}
