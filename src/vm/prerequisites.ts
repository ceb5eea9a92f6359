/**
 * What `tuneloop vm build` and `tuneloop vm run` need from the host, as Debian package names. tuneloop
 * installs nothing itself: a missing piece is a UserError naming the packages to install.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { findBinary } from '../core/probe.js';

interface Requirement {
  what: string;
  package: string;
  found: (config: Config) => string | null;
}

const SBIN = ['/usr/sbin', '/sbin'];
const binary = (name: string) => (config: Config) => findBinary(name, [...config.binPath, ...SBIN]);

/** Multiarch library and header dirs (/usr/lib/x86_64-linux-gnu, /usr/include/x86_64-linux-gnu). */
function underMultiarch(root: string, file: string): string | null {
  const dirs = [root, ...(existsSync(root) ? readdirSync(root).filter((d) => d.endsWith('-linux-gnu')).map((d) => join(root, d)) : [])];
  return dirs.map((d) => join(d, file)).find((p) => existsSync(p)) ?? null;
}
const header = (file: string) => () => underMultiarch('/usr/include', file);
const library = (file: string) => () => underMultiarch('/usr/lib', file);

/**
 * A busybox that runs without a dynamic loader (Debian's busybox-static), for the initramfs. The
 * dynamic `busybox` package installs the same path; its program interpreter's name sits in the
 * .interp section right after the ELF headers, within the first page.
 */
export function staticBusybox(config: Config): string | null {
  const path = findBinary('busybox', [...config.binPath, '/bin', '/usr/bin']);
  if (!path) return null;
  const head = Buffer.alloc(4096);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.includes('/ld-linux') || head.includes('/ld-musl') ? null : path;
}

const KERNEL_BUILD: Requirement[] = [
  { what: 'the kernel source', package: 'linux-source-6.12', found: (c) => (existsSync(c.vmKernelSource) ? c.vmKernelSource : null) },
  { what: 'make', package: 'make', found: binary('make') },
  { what: 'gcc', package: 'gcc', found: binary('gcc') },
  { what: 'flex', package: 'flex', found: binary('flex') },
  { what: 'bison', package: 'bison', found: binary('bison') },
  { what: 'bc', package: 'bc', found: binary('bc') },
  { what: 'perl', package: 'perl', found: binary('perl') },
  { what: 'xz', package: 'xz-utils', found: binary('xz') },
  { what: 'pahole (BTF for the kernel)', package: 'dwarves', found: binary('pahole') },
  { what: 'objcopy', package: 'binutils', found: binary('objcopy') },
  { what: 'bpftool (vmlinux.h)', package: 'bpftool', found: binary('bpftool') },
  { what: 'OpenSSL headers', package: 'libssl-dev', found: header('openssl/opensslv.h') },
  { what: 'libelf headers and static library', package: 'libelf-dev', found: library('libelf.a') },
  { what: 'zlib static library', package: 'zlib1g-dev', found: library('libz.a') },
  { what: 'the static C library', package: 'libc6-dev', found: library('libc.a') },
];

const GUEST_RUN: Requirement[] = [
  { what: 'qemu-system-x86_64', package: 'qemu-system-x86', found: binary('qemu-system-x86_64') },
  { what: 'a static busybox (the initramfs)', package: 'busybox-static', found: staticBusybox },
  { what: 'cpio (the initramfs)', package: 'cpio', found: binary('cpio') },
];

function missing(config: Config, requirements: Requirement[]): Requirement[] {
  return requirements.filter((r) => !r.found(config));
}

function requireAll(config: Config, requirements: Requirement[], doing: string): void {
  if (process.arch !== 'x64') throw new UserError(`tuneloop vm runs x86_64 guests under qemu's microvm machine; this host is ${process.arch}.`, 'Use an x86_64 Linux host, or a host kernel with sched_ext (verify_in: host).');
  const absent = missing(config, requirements);
  if (!absent.length) return;
  const packages = [...new Set(absent.map((r) => r.package))];
  throw new UserError(
    `${doing} needs ${absent.map((r) => r.what).join(', ')}, which ${absent.length === 1 ? 'is' : 'are'} missing.`,
    `Install the Debian packages: apt-get install ${packages.join(' ')}${absent.some((r) => r.package === 'linux-source-6.12') ? ` (or point TUNELOOP_VM_KERNEL_SOURCE at a linux-6.12 source tarball; looked for ${config.vmKernelSource})` : ''}.`,
  );
}

export function requireKernelBuildTools(config: Config): void {
  requireAll(config, [...KERNEL_BUILD, ...GUEST_RUN], 'Building the guest kernel');
}

export function requireGuestRunTools(config: Config): void {
  requireAll(config, GUEST_RUN, 'Running a guest');
}

/** Why a guest cannot run here (missing packages, wrong architecture), or null when it can. */
export function guestRunBlocker(config: Config): string | null {
  try {
    requireGuestRunTools(config);
    return null;
  } catch (error) {
    return error instanceof UserError ? `${error.message} ${error.hint ?? ''}`.trim() : String(error);
  }
}

/** Package names still missing for `vm build` + `vm run` (doctor shows them). */
export function missingVmPackages(config: Config): string[] {
  return [...new Set(missing(config, [...KERNEL_BUILD, ...GUEST_RUN]).map((r) => r.package))];
}
