/**
 * What the candidate's sandbox contains (core/sandbox does the isolating): the base system, the
 * interpreter and its packages, the harness (harness.py and tlharness/ only, not the example
 * cases), the candidate's in/ folder read-only, its out/ folder read-write, and a private /tmp
 * (TMPDIR, HOME and the Triton cache live there). Not bound, so absent inside: the data dir (the reference cache, tuneloop.db,
 * other jobs), the case folder, the rest of the job folder, the network.
 *
 * And freezing: while the baseline is timed, every process of the candidate's sandbox is stopped
 * (SIGSTOP to each descendant of its leader, repeated until no new one appears), so a thread or a
 * forked helper left running cannot steal CPU from the baseline (a baseline made slower makes the
 * candidate look faster).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import type { Isolation, SandboxSpec } from '../core/sandbox.js';
import { listDir, readText, statFields } from '../core/proc.js';
import { HARNESS_PATH } from './harness.js';

/** Where a verify keeps the candidate's side: in/ (read-only inside), out/ (writable), and tmp/ (its /tmp when no sandbox is available). */
export interface SandboxDirs {
  input: string;
  output: string;
  tmp: string;
}

export interface CandidateSandboxRequest {
  dirs: SandboxDirs;
  /** Folders the interpreter needs (the harness probe's `paths.roots`). */
  pythonRoots: string[];
  /** Never visible inside, even when a Python root contains it (the data dir). */
  forbidden: string[];
  device: 'cpu' | 'cuda';
  interpret: boolean;
  /** What core/sandbox will give: with 'none', the candidate's tmp is a folder of the job, not the host's /tmp. */
  isolation: Isolation;
}

/** Base folders core/sandbox makes visible read-only in every sandbox (opens there are normal). */
const SYSTEM_ROOTS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc', '/proc', '/dev', '/sys'];

/**
 * The spec; the Python folders dropped because they contain the data dir; and the folders where
 * the candidate's opens are normal (the audit flags the others).
 */
export function candidateSandbox(r: CandidateSandboxRequest): { spec: SandboxSpec; dropped: string[]; allowedRoots: string[] } {
  const harnessDir = dirname(HARNESS_PATH);
  const forbidden = r.forbidden.map((p) => resolve(p));
  const dropped: string[] = [];
  const roots = new Set<string>();
  for (const root of r.pythonRoots) {
    const path = resolve(root);
    if (path === '/usr' || path.startsWith(`/usr${sep}`) || under(path, harnessDir) || path === '/') continue;
    if (forbidden.some((f) => under(f, path) || under(path, f))) {
      dropped.push(path);
      continue;
    }
    roots.add(path);
  }
  const devices = r.device === 'cuda' ? readdirSafe('/dev').filter((n) => n.startsWith('nvidia')).map((n) => `/dev/${n}`) : [];
  // Inside a sandbox /tmp is private; without one, a folder of this verify stands in for it.
  const tmp = r.isolation === 'none' ? r.dirs.tmp : '/tmp';
  mkdirSync(r.dirs.tmp, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: tmp,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    TRITON_CACHE_DIR: join(tmp, 'triton-cache'),
  };
  if (r.interpret) env.TRITON_INTERPRET = '1';
  for (const key of ['PYTHONPATH', 'CUDA_VISIBLE_DEVICES', 'LD_LIBRARY_PATH']) {
    if (process.env[key]) env[key] = process.env[key]!;
  }
  const spec: SandboxSpec = {
    roBinds: [HARNESS_PATH, join(harnessDir, 'tlharness'), ...roots, r.dirs.input, ...(r.device === 'cuda' && existsSync('/sys') ? ['/sys'] : [])],
    rwBinds: [r.dirs.output],
    devBinds: devices,
    network: false,
    cwd: tmp,
    env,
  };
  // Half the RAM. Not for CUDA: where no cgroup memory controller is delegated core/sandbox bounds
  // memory with RLIMIT_AS, and CUDA reserves far more address space than it uses.
  if (r.device === 'cpu') spec.memoryBytes = Math.floor(totalmem() / 2);
  return { spec, dropped, allowedRoots: [...SYSTEM_ROOTS, ...spec.roBinds, ...(spec.rwBinds ?? [])] };
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * Every live descendant of `pid`: through /proc/<pid>/task/<tid>/children (a walk of the tree
 * alone), or, where the kernel lacks that file, by parent links over all of /proc.
 */
export function descendants(pid: number): number[] {
  if (readText(`/proc/${pid}/task/${pid}/children`) === null) return descendantsByScan(pid);
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const tid of listDir(`/proc/${parent}/task`)) {
      for (const child of (readText(`/proc/${parent}/task/${tid}/children`) ?? '').split(' ').filter(Boolean).map(Number)) {
        if (!out.includes(child)) {
          out.push(child);
          frontier.push(child);
        }
      }
    }
  }
  return out;
}

function descendantsByScan(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of listDir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (!fields) continue;
    const ppid = Number(fields[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length) {
    for (const child of children.get(frontier.pop()!) ?? []) {
      out.push(child);
      frontier.push(child);
    }
  }
  return out;
}

/** Stop `pid` and everything under it; returns a function that lets them run again. */
export function freezeTree(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  const stopped = new Set<number>();
  for (let pass = 0; pass < 5; pass++) {
    const fresh = [pid, ...descendants(pid)].filter((p) => !stopped.has(p));
    if (!fresh.length) break;
    for (const p of fresh) {
      if (signal(p, 'SIGSTOP')) stopped.add(p);
    }
  }
  return () => {
    for (const p of [pid, ...descendants(pid)]) signal(p, 'SIGCONT');
    for (const p of stopped) signal(p, 'SIGCONT');
  };
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
