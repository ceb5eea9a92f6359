/**
 * A sandbox for untrusted code (Triton candidates, client-written programs): the command sees only
 * what is bound explicitly, writes only where it may, has no network, its own PID namespace (so
 * nothing it starts survives it), bounded memory and a bounded time (exec's timeout).
 *
 * Isolation, best first, probed once per process:
 * - `bwrap` (bubblewrap): mount, PID, network, IPC, UTS and cgroup namespaces, no capabilities,
 *   no_new_privs, --die-with-parent;
 * - `unshare` (util-linux), when bwrap is missing or unusable: mount, PID and network namespaces
 *   (plus a user namespace when not root), a new root assembled on a tmpfs and entered with
 *   pivot_root, capabilities dropped with setpriv. The command is PID 1 of its namespace there, so a
 *   stop signal it does not handle is ignored and it is SIGKILLed after the grace period;
 * - `none`: the run still happens, in the given environment and directory, and the result says so.
 *
 * The base system is always visible read-only (/usr and the /bin, /lib... links into it, the
 * dynamic loader's cache and Debian's alternatives), with a private /proc, a minimal /dev and an
 * empty private /tmp. Nothing else exists inside unless bound: not $HOME, not the data dir.
 * Memory: `memory.max` of the child's cgroup where the cgroup v2 memory controller is delegated,
 * else RLIMIT_AS via prlimit (which bounds address space, not RSS: CUDA reserves far more address
 * space than it uses, so on GPU hosts give it room or rely on the cgroup).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { findBinary } from './which.js';
import { isAbsolute } from 'node:path';

export interface SandboxSpec {
  /** Paths visible read-only inside, at the same place. */
  roBinds: string[];
  /** Paths visible read-write inside, at the same place. */
  rwBinds?: string[];
  /** Device nodes visible inside (e.g. /dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm). */
  devBinds?: string[];
  /** Extra empty private writable directories (a private /tmp is always there). */
  tmpfs?: string[];
  /** Default false: a network namespace with only a down loopback. */
  network?: boolean;
  /** Memory bound for the whole sandbox. */
  memoryBytes?: number;
  /** Working directory inside (default /tmp). */
  cwd?: string;
  /** The whole environment inside, plus PWD (the working directory) (default: PATH, HOME=/tmp, LANG=C.UTF-8). */
  env?: Record<string, string>;
}

export type Isolation = 'bwrap' | 'unshare' | 'none';
export type SandboxPreference = 'auto' | 'unshare' | 'none';
export const SANDBOX_PREFERENCES = ['auto', 'unshare', 'none'] as const;
export type MemoryLimit = 'cgroup' | 'rlimit' | 'none';

/** How a sandboxed command is actually started. */
export interface SandboxLaunch {
  argv: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  isolation: Isolation;
  memoryLimit: MemoryLimit;
}

const DEFAULT_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
/** Files from /etc the dynamic loader (and Debian's alternatives, e.g. libblas) need. */
const BASE_ETC = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives'];
/** Where the unshare fallback may mount the new root (any empty-enough directory not bound). */
const NEW_ROOT_CANDIDATES = ['/mnt', '/media', '/srv', '/opt'];

let preference: SandboxPreference = 'auto';
let probed: { isolation: Isolation; detail: string } | null = null;

export function setSandboxPreference(p: SandboxPreference): void {
  if (p !== preference) probed = null;
  preference = p;
}

/** What a sandboxed run gets on this host (probed once). */
export function sandboxIsolation(): Isolation {
  return probeSandbox().isolation;
}

/** The isolation and why (for doctor). */
export function sandboxInfo(): { isolation: Isolation; detail: string } {
  return probeSandbox();
}

/**
 * The argv, environment and directory that run `argv` under `spec`. `cgroupMemory` says whether the
 * caller's cgroup already bounds memory (then no rlimit is added).
 */
export function sandboxLaunch(argv: string[], spec: SandboxSpec, cgroupMemory: boolean): SandboxLaunch {
  validateSpec(spec);
  const isolation = sandboxIsolation();
  const cwd = spec.cwd ?? '/tmp';
  // bwrap always sets PWD; the others do the same so that the environment does not depend on the isolation.
  const env = { ...(spec.env ?? DEFAULT_ENV), PWD: cwd };
  let command: string[];
  if (isolation === 'bwrap') command = bwrapArgv(argv, spec, cwd);
  else if (isolation === 'unshare') command = unshareArgv(argv, spec, cwd);
  else command = argv;
  let memoryLimit: MemoryLimit = 'none';
  if (spec.memoryBytes !== undefined) {
    const prlimit = findSystemBinary('prlimit');
    if (cgroupMemory) memoryLimit = 'cgroup';
    else if (prlimit) {
      const bytes = String(Math.floor(spec.memoryBytes));
      command = [prlimit, `--as=${bytes}:${bytes}`, '--', ...command];
      memoryLimit = 'rlimit';
    }
  }
  return { argv: command, env, cwd: isolation === 'none' ? cwd : undefined, isolation, memoryLimit };
}

function validateSpec(spec: SandboxSpec): void {
  const paths = [...spec.roBinds, ...(spec.rwBinds ?? []), ...(spec.devBinds ?? [])];
  for (const p of [...paths, ...(spec.tmpfs ?? []), ...(spec.cwd ? [spec.cwd] : [])]) {
    if (!isAbsolute(p) || p.includes('\0')) throw new Error(`sandbox: path must be absolute: ${JSON.stringify(p)}`);
  }
  for (const p of paths) if (!existsSync(p)) throw new Error(`sandbox: bound path does not exist: ${p}`);
  if (spec.memoryBytes !== undefined && !(spec.memoryBytes > 0)) throw new Error(`sandbox: memoryBytes must be > 0, got ${spec.memoryBytes}`);
}

/** /usr read-only and the top-level links into it (merged /usr), or the directories themselves. */
function baseEntries(): { kind: 'ro' | 'symlink'; path: string; target?: string }[] {
  const out: { kind: 'ro' | 'symlink'; path: string; target?: string }[] = [{ kind: 'ro', path: '/usr' }];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${name}`;
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.push({ kind: 'symlink', path, target: readlinkSync(path) });
      else if (st.isDirectory()) out.push({ kind: 'ro', path });
    } catch {
      // absent on this host
    }
  }
  for (const path of BASE_ETC) if (existsSync(path)) out.push({ kind: 'ro', path });
  return out;
}

function bwrapArgv(argv: string[], spec: SandboxSpec, cwd: string): string[] {
  const args = [findSystemBinary('bwrap')!, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (!spec.network) args.push('--unshare-net');
  args.push('--cap-drop', 'ALL');
  for (const e of baseEntries()) args.push(...(e.kind === 'symlink' ? ['--symlink', e.target!, e.path] : ['--ro-bind', e.path, e.path]));
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const p of spec.tmpfs ?? []) args.push('--tmpfs', p);
  for (const p of spec.roBinds) args.push('--ro-bind', p, p);
  for (const p of spec.rwBinds ?? []) args.push('--bind', p, p);
  for (const p of spec.devBinds ?? []) args.push('--dev-bind', p, p);
  args.push('--remount-ro', '/', '--chdir', cwd, '--', ...argv);
  return args;
}

/**
 * The unshare fallback: a shell (PID 1 of the new namespaces) builds the new root on a tmpfs from
 * "kind:path" entries, pivots into it, drops every capability and execs the command.
 */
const UNSHARE_SETUP = `set -eu
__tl_had_oldpwd=\${OLDPWD+1} __tl_oldpwd=\${OLDPWD-}
__tl_root=$1 __tl_mount=$2 __tl_pivot=$3 __tl_umount=$4 __tl_setpriv=$5 __tl_cwd=$6
shift 6
$__tl_mount -t tmpfs -o mode=0755 tuneloop-sandbox "$__tl_root"
while [ "$1" != -- ]; do
  __tl_kind=\${1%%:*} __tl_path=\${1#*:}
  shift
  case $__tl_kind in
    symlink) ln -s "\${__tl_path%%:*}" "$__tl_root\${__tl_path#*:}" ;;
    tmpfs) mkdir -p "$__tl_root$__tl_path"; $__tl_mount -t tmpfs -o mode=1777 tuneloop-tmp "$__tl_root$__tl_path" ;;
    *) if [ -d "$__tl_path" ]; then mkdir -p "$__tl_root$__tl_path"; else mkdir -p "$__tl_root\${__tl_path%/*}"; : > "$__tl_root$__tl_path"; fi
       $__tl_mount --bind "$__tl_path" "$__tl_root$__tl_path"
       if [ "$__tl_kind" = ro ]; then $__tl_mount -o remount,bind,ro "$__tl_root$__tl_path"; fi ;;
  esac
done
shift
mkdir -p "$__tl_root/proc" "$__tl_root/dev" "$__tl_root/.old"
$__tl_mount -t proc proc "$__tl_root/proc"
for __tl_dev in null zero full random urandom; do : > "$__tl_root/dev/$__tl_dev"; $__tl_mount --bind "/dev/$__tl_dev" "$__tl_root/dev/$__tl_dev"; done
ln -s /proc/self/fd "$__tl_root/dev/fd"
ln -s /proc/self/fd/0 "$__tl_root/dev/stdin"; ln -s /proc/self/fd/1 "$__tl_root/dev/stdout"; ln -s /proc/self/fd/2 "$__tl_root/dev/stderr"
cd "$__tl_root"
$__tl_mount -o remount,ro "$__tl_root"
$__tl_pivot . .old
$__tl_umount -l /.old
cd "$__tl_cwd"
unset OLDPWD
export PWD="$__tl_cwd"
if [ -n "$__tl_had_oldpwd" ]; then export OLDPWD="$__tl_oldpwd"; fi
exec $__tl_setpriv --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"
`;

function unshareArgv(argv: string[], spec: SandboxSpec, cwd: string): string[] {
  const tools = unshareTools()!;
  const entries: string[] = [];
  for (const e of baseEntries()) entries.push(e.kind === 'symlink' ? `symlink:${e.target}:${e.path}` : `ro:${e.path}`);
  entries.push('tmpfs:/tmp');
  for (const p of spec.tmpfs ?? []) entries.push(`tmpfs:${p}`);
  for (const p of spec.roBinds) entries.push(`ro:${p}`);
  for (const p of spec.rwBinds ?? []) entries.push(`rw:${p}`);
  for (const p of spec.devBinds ?? []) entries.push(`dev:${p}`);
  const sources = [...spec.roBinds, ...(spec.rwBinds ?? []), ...(spec.devBinds ?? [])];
  const newRoot = NEW_ROOT_CANDIDATES.find((d) => isDirectory(d) && !sources.some((s) => s === d || s.startsWith(`${d}/`)));
  if (!newRoot) throw new Error(`sandbox: no free mount point for the new root among ${NEW_ROOT_CANDIDATES.join(', ')}`);
  const namespaces = ['--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private'];
  if (!spec.network) namespaces.push('--net');
  if (process.getuid?.() !== 0) namespaces.push('--user', '--map-root-user');
  return [tools.unshare, ...namespaces, '--', tools.sh, '-c', UNSHARE_SETUP, 'tuneloop-sandbox', newRoot, tools.mount, tools.pivotRoot, tools.umount, tools.setpriv, cwd, ...entries, '--', ...argv];
}

function unshareTools(): { unshare: string; sh: string; mount: string; pivotRoot: string; umount: string; setpriv: string } | null {
  const [unshare, sh, mount, pivotRoot, umount, setpriv] = ['unshare', 'sh', 'mount', 'pivot_root', 'umount', 'setpriv'].map(findSystemBinary);
  // After pivot_root only /usr is there: the tools used after it must live under /usr (or a link into it).
  if (!unshare || !sh || !mount || !pivotRoot || !umount || !setpriv) return null;
  return { unshare, sh, mount, pivotRoot, umount, setpriv };
}

function probeSandbox(): { isolation: Isolation; detail: string } {
  if (probed) return probed;
  const reasons: string[] = [];
  const works = (isolation: Isolation): boolean => {
    const launch = { bwrap: bwrapArgv, unshare: unshareArgv, none: (a: string[]) => a }[isolation];
    const argv = launch(['/usr/bin/true'], { roBinds: [] }, '/');
    const r = spawnSync(argv[0], argv.slice(1), { env: DEFAULT_ENV, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' });
    if (r.status === 0) return true;
    reasons.push(`${isolation}: ${(r.stderr ?? '').trim().split('\n').at(-1) || r.error?.message || `exit ${r.status ?? r.signal}`}`);
    return false;
  };
  if (preference === 'auto') {
    if (!findSystemBinary('bwrap')) reasons.push('bwrap: not installed (apt-get install bubblewrap)');
    else if (works('bwrap')) return (probed = { isolation: 'bwrap', detail: 'bubblewrap: mount, PID, network, IPC, UTS namespaces; no capabilities' });
  }
  if (preference !== 'none') {
    if (!unshareTools()) reasons.push('unshare: util-linux unshare/mount/pivot_root/setpriv not all found');
    else if (works('unshare')) {
      return (probed = { isolation: 'unshare', detail: `unshare: mount, PID, network namespaces${process.getuid?.() !== 0 ? ' in a user namespace' : ''}; no capabilities${reasons.length ? ` (${reasons.join('; ')})` : ''}` });
    }
  }
  if (preference !== 'auto') reasons.push(`TUNELOOP_SANDBOX=${preference}`);
  return (probed = { isolation: 'none', detail: `no isolation: ${reasons.join('; ')}` });
}

/** A system binary (/usr/bin, /bin, /usr/sbin, /sbin): what sandboxing relies on is not taken from $PATH. */
export function findSystemBinary(name: string): string | null {
  return findBinary(name, SYSTEM_DIRS);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
