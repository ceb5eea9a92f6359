/**
 * Run one command as root in a throwaway sched_ext guest: boot the cached kernel under qemu with
 * bounded memory, CPUs and time, share the host's root read-only (so the command finds node, clang,
 * its files and libraries where they are on the host) plus any directories it needs, run it, return
 * its output and exit code, power off. qemu is killed when the time is up or the caller cancels.
 * Output streams back while the guest runs: the guest writes it to files in a 9p share that this
 * side reads as they grow.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { spawnChild } from '../core/exec.js';
import { findBinary } from '../core/probe.js';
import { ensureInitramfs } from './initramfs.js';
import { requireGuest, type Guest } from './kernel.js';
import { requireGuestRunTools } from './prerequisites.js';
import { chooseAccel, hostTscKhz, qemuArgv, type Accel, type QemuShare } from './qemu.js';
import { vmPaths } from './paths.js';

export interface VmRunOptions {
  argv: string[];
  /** The command's working directory in the guest (a host path; default: this process's cwd). */
  cwd?: string;
  /**
   * Added to the guest command's environment. PATH is the host's; HOME and TMPDIR are tmpfs;
   * TUNELOOP_SCHED_LIBEXEC names the static sched tools built for the guest, so tuneloop in the
   * guest attaches schedulers with libbpf 1.5 whatever the host's libbpf is.
   */
  env?: Record<string, string>;
  timeoutS: number;
  memoryMb?: number;
  cpus?: number;
  /** More host directories at the same path in the guest (the root is shared read-only already). */
  shares?: { path: string; writable: boolean }[];
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  signal?: AbortSignal;
  /** The run's scratch directory (run.sh, output files, console.log); default: a temp dir in the cache, removed after. */
  workDir?: string;
  /** Internal: the KVM probe forces its accelerator. */
  accel?: Accel;
}

export interface VmRunResult {
  /** The command's exit status; null when it did not finish (timeout, cancel, boot failure). */
  exit_code: number | null;
  timed_out: boolean;
  canceled: boolean;
  stdout: string;
  stderr: string;
  /** Why there is no exit code, in words (with the console's last lines). */
  failure: string | null;
  kernel_release: string | null;
  accel: Accel;
  accel_detail: string;
  /** Seconds from power-on to the guest's /init (its uptime then). */
  boot_s: number | null;
  duration_ms: number;
  console_tail: string[];
}

export const DEFAULT_MEMORY_MB = 2048;
export const DEFAULT_CPUS = 2;
const MAX_CAPTURE = 8 << 20;
const POLL_MS = 200;
const KVM_PROBE_TIMEOUT_S = 20;

/** The guest's own tmpfs trees: the host's files there are not visible through the root share. */
const GUEST_PRIVATE = ['/tmp', '/run', '/var/tmp'];

/**
 * The working directory, shared read-only like the root, when it lies in a tree the guest keeps to
 * itself (a checkout under /tmp) and no share covers it: the command is expected to run where it was
 * started.
 */
export function cwdShare(cwd: string, shares: { path: string }[]): { path: string; writable: boolean }[] {
  const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  if (!GUEST_PRIVATE.some((dir) => under(cwd, dir))) return [];
  if (shares.some((s) => under(cwd, resolve(s.path)))) return [];
  return existsSync(cwd) ? [{ path: cwd, writable: false }] : [];
}

/** POSIX shell single-quoting. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function runScript(argv: string[], cwd: string, env: Record<string, string>): string {
  return [
    '# written by tuneloop vm run; executed by the guest /init (tools/vm/init) as root',
    `cd -- ${shellQuote(cwd)} || { echo "tuneloop-vm: ${cwd.replace(/["$`\\]/g, '')} does not exist in the guest (paths under /tmp, /run and /var/tmp are the guest's own tmpfs: share them)" >&2; exit 125; }`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    'mkdir -p "$HOME"',
    `exec ${argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

/** Reads what a file gained since the last call. */
class Follower {
  private offset = 0;
  constructor(
    private readonly path: string,
    private readonly sink?: (text: string) => void,
  ) {}
  poll(): void {
    if (!this.sink || !existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size <= this.offset) return;
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
      const n = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += n;
      this.sink(buffer.subarray(0, n).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  }
}

function readCapped(path: string): string {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  if (size <= MAX_CAPTURE) return readFileSync(path, 'utf8');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_CAPTURE);
    readSync(fd, buffer, 0, MAX_CAPTURE, size - MAX_CAPTURE);
    return `[... ${size - MAX_CAPTURE} bytes elided ...]\n${buffer.toString('utf8')}`;
  } finally {
    closeSync(fd);
  }
}

function guestEnv(guest: Guest, extra: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(extra)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UserError(`"${key}" is not an environment variable name.`, 'Use letters, digits and "_", not starting with a digit.');
  }
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: '/tmp/home',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TUNELOOP_SCHED_LIBEXEC: guest.tools.dir,
    ...extra,
  };
}

export async function runInVm(config: Config, options: VmRunOptions): Promise<VmRunResult> {
  if (!options.argv.length) throw new UserError('vm run needs a command.', 'e.g. tuneloop vm run -- cat /sys/kernel/sched_ext/state');
  if (!(options.timeoutS > 0)) throw new UserError(`The time limit must be positive, got ${options.timeoutS}.`, 'Pass --timeout SECONDS.');
  requireGuestRunTools(config);
  const guest = await requireGuest(config);
  const qemu = findBinary('qemu-system-x86_64', config.binPath)!;
  const initramfs = await ensureInitramfs(config);
  const choice = options.accel
    ? { accel: options.accel, detail: `${options.accel} (forced)` }
    : await chooseAccel(config, guest, () => probeKvm(config));
  return boot(config, guest, qemu, initramfs, choice, options);
}

async function probeKvm(config: Config): Promise<boolean> {
  const r = await runInVm(config, { argv: ['true'], cwd: '/', timeoutS: KVM_PROBE_TIMEOUT_S, accel: 'kvm', memoryMb: 256, cpus: 1 });
  return r.exit_code === 0;
}

async function boot(config: Config, guest: Guest, qemu: string, initramfs: string, choice: { accel: Accel; detail: string }, options: VmRunOptions): Promise<VmRunResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
  const cpus = options.cpus ?? DEFAULT_CPUS;
  if (!Number.isInteger(memoryMb) || memoryMb < 256 || memoryMb > 65536) throw new UserError(`Guest memory ${memoryMb} MiB is out of range.`, 'Use 256 to 65536 MiB.');
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new UserError(`${cpus} guest CPUs is out of range.`, 'Use 1 to 64 (the guest kernel has NR_CPUS=64).');
  const ownDir = !options.workDir;
  mkdirSync(vmPaths(config).root, { recursive: true });
  const work = options.workDir ?? mkdtempSync(join(vmPaths(config).root, 'run-'));
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    const shares: QemuShare[] = [
      { tag: 'tl_root', path: '/', readonly: true },
      { tag: 'tl_out', path: out, readonly: false },
    ];
    const extra = [...(options.shares ?? []), ...cwdShare(cwd, options.shares ?? []), { path: guest.tools.dir, writable: false }].map((s, i) => {
      if (!isAbsolute(s.path) || !existsSync(s.path) || !statSync(s.path).isDirectory()) throw new UserError(`Cannot share ${s.path}: not an existing directory given by absolute path.`, 'Pass an absolute path to a directory.');
      return { tag: `tl_share${i}`, path: resolve(s.path), readonly: !s.writable };
    });
    shares.push(...extra);
    writeFileSync(join(out, 'shares'), extra.map((s) => `${s.tag} ${s.readonly ? 'ro' : 'rw'} ${s.path}\n`).join(''));
    writeFileSync(join(out, 'run.sh'), runScript(options.argv, cwd, guestEnv(guest, options.env ?? {})));

    const started = Date.now();
    const followers = [new Follower(join(out, 'stdout'), options.onStdout), new Follower(join(out, 'stderr'), options.onStderr)];
    const tscKhz = choice.accel === 'tcg' ? await hostTscKhz(config, guest) : null;
    const child = spawnChild(qemuArgv(qemu, { accel: choice.accel, memoryMb, cpus, kernel: guest.kernel.bzImage, initramfs, shares, tscKhz }), {
      timeoutMs: options.timeoutS * 1000,
      signal: options.signal,
      logFile: join(work, 'console.log'),
      maxOutputBytes: 256 * 1024,
      killGraceMs: 2000,
    });
    const timer = setInterval(() => followers.forEach((f) => f.poll()), POLL_MS);
    const r = await child.result.finally(() => clearInterval(timer));
    followers.forEach((f) => f.poll());

    const exitText = existsSync(join(out, 'exit')) ? readFileSync(join(out, 'exit'), 'utf8').trim() : '';
    const booted = existsSync(join(out, 'booted')) ? readFileSync(join(out, 'booted'), 'utf8').trim().split(/\s+/) : [];
    const consoleLines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim()).slice(-40);
    const exitCode = /^\d+$/.test(exitText) ? Number(exitText) : null;
    let failure: string | null = null;
    if (exitCode === null) {
      failure = r.timedOut
        ? `the guest did not finish within ${options.timeoutS} s; qemu was killed`
        : r.canceled
          ? 'canceled; qemu was killed'
          : r.spawnError
            ? `qemu could not start: ${r.spawnError}`
            : booted.length
              ? `the guest stopped before the command finished (qemu exit ${r.exitCode ?? r.signal})`
              : `the guest never reached its init (qemu exit ${r.exitCode ?? r.signal})`;
      if (consoleLines.length) failure += `; console: ${consoleLines.slice(-8).join(' | ')}`;
    }
    return {
      exit_code: exitCode,
      timed_out: r.timedOut,
      canceled: r.canceled,
      stdout: readCapped(join(out, 'stdout')),
      stderr: readCapped(join(out, 'stderr')),
      failure,
      kernel_release: booted[0] ?? null,
      accel: choice.accel,
      accel_detail: choice.detail,
      boot_s: booted[1] ? Number(booted[1]) : null,
      duration_ms: Date.now() - started,
      console_tail: consoleLines,
    };
  } finally {
    if (ownDir) rmSync(work, { recursive: true, force: true });
  }
}
