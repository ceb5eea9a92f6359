/**
 * The kernel's sched_ext interface, read from `<sysfsRoot>/kernel/sched_ext`. Every reader takes the
 * config so tests point it at a fake tree; the code path is the one used on real hosts.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { readNumber, readTrimmed } from '../core/proc.js';

export interface SchedExtState {
  /** The kernel exposes sched_ext at all. */
  supported: boolean;
  /** enabled, disabled, or a transitional state (enabling, disabling); null when unsupported. */
  state: string | null;
  /** root/ops: the attached scheduler's ops name; null when none is attached. */
  ops: string | null;
  /** Loads since boot: a change between two readings means a reload or an ejection happened. */
  enable_seq: number | null;
  nr_rejected: number | null;
  switch_all: number | null;
  hotplug_seq: number | null;
}

export interface KernelInfo {
  release: string;
  version: string | null;
  preempt_rt: boolean;
  btf: boolean;
  btf_path: string;
}

export function schedExtDir(config: Config): string {
  return join(config.sysfsRoot, 'kernel', 'sched_ext');
}

export function readSchedExt(config: Config): SchedExtState {
  const dir = schedExtDir(config);
  const state = readTrimmed(join(dir, 'state'));
  return {
    supported: state !== null,
    state,
    ops: readTrimmed(join(dir, 'root', 'ops')) || null,
    enable_seq: readNumber(join(dir, 'enable_seq')),
    nr_rejected: readNumber(join(dir, 'nr_rejected')),
    switch_all: readNumber(join(dir, 'switch_all')),
    hotplug_seq: readNumber(join(dir, 'hotplug_seq')),
  };
}

export function readKernelInfo(config: Config): KernelInfo {
  const version = readTrimmed(join(config.procRoot, 'sys', 'kernel', 'version'));
  const realtime = readTrimmed(join(config.sysfsRoot, 'kernel', 'realtime'));
  const btfPath = join(config.sysfsRoot, 'kernel', 'btf', 'vmlinux');
  return {
    release: readTrimmed(join(config.procRoot, 'sys', 'kernel', 'osrelease')) ?? release(),
    version,
    // RT kernels show the sched_ext files but refuse to load schedulers (EOPNOTSUPP).
    preempt_rt: realtime === '1' || /PREEMPT_RT/.test(version ?? ''),
    btf: existsSync(btfPath),
    btf_path: btfPath,
  };
}

/**
 * Whether `ops` (root/ops) names the scheduler whose ops struct is called `expected`. scx's Rust
 * schedulers append their version to the name ("bpfland_1.0.17_g1234abcd_x86_64..."), so a prefix
 * followed by "_" matches too.
 */
export function opsMatches(ops: string | null, expected: string): boolean {
  return ops !== null && (ops === expected || ops.startsWith(`${expected}_`));
}

/** Refuse early, with the reason and remedy, when this kernel cannot run a sched_ext scheduler. */
export function requireSchedExt(config: Config): SchedExtState {
  const state = readSchedExt(config);
  if (!state.supported) {
    throw new UserError(
      `This kernel has no sched_ext: ${schedExtDir(config)} does not exist.`,
      'Boot a Linux >= 6.12 kernel built with CONFIG_SCHED_CLASS_EXT=y (plus BPF_SYSCALL, BPF_JIT, DEBUG_INFO_BTF). sched_status shows what this host has.',
    );
  }
  const kernel = readKernelInfo(config);
  if (kernel.preempt_rt) {
    throw new UserError(
      `This is a PREEMPT_RT kernel (${kernel.release}): it exposes sched_ext but refuses to load schedulers (EOPNOTSUPP).`,
      'Boot a non-RT kernel with CONFIG_SCHED_CLASS_EXT=y.',
    );
  }
  return state;
}

export function describeAttached(state: SchedExtState): string {
  return state.ops ? `"${state.ops}" (state ${state.state})` : `an unnamed scheduler (state ${state.state})`;
}

/** Poll until `done(state)` or the deadline; returns the last state read. */
export async function pollSchedExt(
  config: Config,
  done: (state: SchedExtState) => boolean,
  timeoutMs: number,
  options: { intervalMs?: number; signal?: AbortSignal; stopEarly?: () => boolean } = {},
): Promise<{ state: SchedExtState; reached: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = readSchedExt(config);
    if (done(state)) return { state, reached: true };
    if (Date.now() >= deadline || options.signal?.aborted || options.stopEarly?.()) return { state, reached: false };
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
