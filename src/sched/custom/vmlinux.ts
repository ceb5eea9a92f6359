/**
 * vmlinux.h for the running kernel, generated with bpftool from `<sysfsRoot>/kernel/btf/vmlinux`
 * and cached per kernel release and BTF content under `<home>/cache/vmlinux/`. Written aside and
 * renamed, so servers sharing the data dir never read a half-written header.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runCommand, outputTail } from '../../core/exec.js';
import { requireBinary } from '../../core/probe.js';
import { readKernelInfo } from '../sysfs.js';

export interface VmlinuxHeader {
  dir: string;
  path: string;
  kernel_release: string;
  cached: boolean;
  /** The kernel's BTF has struct sched_ext_ops (else tuneloop's compat types are used). */
  has_sched_ext: boolean;
}

const HAS_SCX = 'struct sched_ext_ops {';

export async function ensureVmlinuxHeader(config: Config, options: { signal?: AbortSignal; logFile?: string } = {}): Promise<VmlinuxHeader> {
  const kernel = readKernelInfo(config);
  if (!kernel.btf) {
    throw new UserError(`The kernel's BTF (${kernel.btf_path}) is absent, so vmlinux.h cannot be generated.`, 'Use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every sched_ext kernel has it).');
  }
  const btf = readFileSync(kernel.btf_path);
  const digest = createHash('sha256').update(btf).digest('hex').slice(0, 12);
  const dir = join(config.home, 'cache', 'vmlinux', `${kernel.release.replace(/[^A-Za-z0-9._-]/g, '_')}-${digest}`);
  const path = join(dir, 'vmlinux.h');
  if (existsSync(path)) {
    return { dir, path, kernel_release: kernel.release, cached: true, has_sched_ext: readFileSync(path, 'utf8').includes(HAS_SCX) };
  }
  // Debian installs bpftool in /usr/sbin, which a non-root PATH lacks.
  const bpftool = requireBinary('bpftool', [...config.binPath, '/usr/sbin', '/sbin'], 'build_scheduler generates vmlinux.h with it');
  const r = await runCommand([bpftool, 'btf', 'dump', 'file', kernel.btf_path, 'format', 'c'], {
    timeoutMs: 120_000,
    signal: options.signal,
    maxOutputBytes: 512 * 1024 * 1024,
  });
  if (!r.ok || r.truncated || !r.stdout.includes('#ifndef __VMLINUX_H__')) {
    throw new UserError(`bpftool could not dump ${kernel.btf_path}: ${outputTail(r, 3, ' ') || `exit ${r.exitCode}`}`, 'Check that bpftool matches the kernel (apt-get install bpftool, or linux-tools-$(uname -r)).');
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const scratch = `${path}.${process.pid}.tmp`;
  writeFileSync(scratch, r.stdout);
  renameSync(scratch, path);
  return { dir, path, kernel_release: kernel.release, cached: false, has_sched_ext: r.stdout.includes(HAS_SCX) };
}
