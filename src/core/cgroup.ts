/**
 * cgroup v2 primitives for containment: one cgroup per child under a per-server directory
 * (`<own cgroup>/tuneloop-<pid>/c<n>`). A cgroup lists every process of a tree wherever it went
 * (setsid, double fork), and `cgroup.kill` (Linux 5.14) SIGKILLs them all at once.
 *
 * Processes are placed with the "move, spawn, move back" pattern: the server writes its own pid into
 * the child's cgroup, forks the child (Node's spawn is synchronous up to exec), and moves itself
 * back. The child is born inside, so nothing it starts can run outside even for a microsecond, and
 * argv, pid and exit status stay exactly those of the command (no wrapper process).
 */
import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive, readText } from './proc.js';

export interface CgroupHome {
  /** This server's cgroup: where it lives and returns to after each spawn. */
  own: string;
  /** `<own>/tuneloop-<pid>`: the parent of every child cgroup of this server. */
  dir: string;
  /** Child cgroups get `memory.max` (the memory controller is enabled for them). */
  memory: boolean;
}

const HOME_PREFIX = 'tuneloop-';

/** Where this process's cgroup v2 directory is, or why there is none. */
export function ownCgroupDir(): string | { reason: string } {
  const mountinfo = readText('/proc/self/mountinfo');
  // mountinfo: "id parent maj:min root mountpoint opts ... - fstype source superopts"
  const mount = mountinfo
    ?.split('\n')
    .map((line) => line.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  if (!mount) return { reason: 'no cgroup v2 hierarchy is mounted' };
  const path = /^0::(.*)$/m.exec(readText('/proc/self/cgroup') ?? '')?.[1];
  if (path === undefined) return { reason: 'this process is not in the cgroup v2 hierarchy' };
  // In a cgroup namespace the mount's root is the namespace root, and /proc/self/cgroup is relative to it.
  const dir = join(mount[4], path);
  try {
    statSync(join(dir, 'cgroup.procs'));
  } catch {
    return { reason: `this process's cgroup ${dir} is not visible under ${mount[4]}` };
  }
  return dir;
}

/**
 * Create this server's cgroup directory and prove that it can place a process in a child of it and
 * kill through it; the answer is the home or why not (read-only cgroupfs, not delegated, kernel < 5.14).
 */
export function setupCgroupHome(): CgroupHome | { reason: string } {
  const own = ownCgroupDir();
  if (typeof own !== 'string') return own;
  sweepStaleHomes(own);
  const dir = join(own, `${HOME_PREFIX}${process.pid}`);
  const probe = join(dir, 'probe');
  clearHome(dir); // a dead server with this same pid may have left it
  try {
    mkdirSync(dir, { recursive: true });
    mkdirSync(probe, { recursive: true });
    statSync(join(probe, 'cgroup.kill'));
    moveSelf(probe);
    moveSelf(own);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    removeCgroup(probe);
    removeCgroup(dir);
    const why =
      code === 'ENOENT' ? 'the kernel has no cgroup.kill (Linux >= 5.14 needed)' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `${own} is not writable by this user (${code})` : (error as Error).message;
    return { reason: why };
  }
  removeCgroup(probe);
  return { own, dir, memory: enableMemory(dir) };
}

/** A new child cgroup of the home, with `memory.max` when asked and the controller is there. */
export function createChildCgroup(home: CgroupHome, name: string, memoryBytes?: number): { dir: string; memoryLimited: boolean } {
  const dir = join(home.dir, name);
  mkdirSync(dir);
  let memoryLimited = false;
  if (memoryBytes !== undefined && home.memory) {
    writeFileSync(join(dir, 'memory.max'), String(Math.floor(memoryBytes)));
    try {
      writeFileSync(join(dir, 'memory.swap.max'), '0');
    } catch {
      // no swap accounting: memory.max alone still bounds RAM
    }
    memoryLimited = true;
  }
  return { dir, memoryLimited };
}

/** Move this whole process (all its threads) into `dir`. */
export function moveSelf(dir: string): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
}

/** SIGKILL every process in the cgroup and its descendants. */
export function killCgroup(dir: string): void {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // already removed
  }
}

export function isPopulated(dir: string): boolean {
  return /^populated 1$/m.test(readText(join(dir, 'cgroup.events')) ?? '');
}

/** rmdir a cgroup (it must be empty); false when it is still populated or already gone. */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Kill and remove what a dead server left (its reaper died too, e.g. both OOM-killed). */
function sweepStaleHomes(own: string): void {
  let names: string[];
  try {
    names = readdirSync(own).filter((n) => n.startsWith(HOME_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(HOME_PREFIX.length));
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    clearHome(join(own, name));
  }
}

function clearHome(home: string): void {
  let children: string[];
  try {
    children = readdirSync(home, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(home, d.name));
  } catch {
    return;
  }
  for (const child of children) {
    killCgroup(child);
    removeCgroup(child);
  }
  removeCgroup(home);
}

/**
 * Memory limits need the memory controller in the children's cgroup.controllers: it must already be
 * enabled above the home (tuneloop never changes its parent's controllers), then it is switched on
 * for the home's children. Fails quietly: a sandbox then falls back to RLIMIT_AS.
 */
function enableMemory(dir: string): boolean {
  try {
    if (!readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return false;
    writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
    return true;
  } catch {
    return false;
  }
}
