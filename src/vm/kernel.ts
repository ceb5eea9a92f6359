/**
 * The guest kernel: Linux 6.12 from Debian's linux-source-6.12 with sched_ext, configured as
 * `make tinyconfig` + tools/vm/sched_ext.config + `make olddefconfig`, built out of tree. Its
 * bzImage, BTF (raw and as vmlinux.h) and config are cached under `kernels/<key>/`, where the key
 * is the source version plus the fragment's hash: a changed fragment builds a new kernel (make
 * recompiles only what the change touches), an unchanged one is reused as is.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { outputTail, runCommand } from '../core/exec.js';
import { findBinary } from '../core/probe.js';
import { buildGuestTools, findGuestTools, type GuestTools } from './guest-tools.js';
import { withBuildLock } from './lock.js';
import { CONFIG_FRAGMENT, pathSafe, sha256, vmPaths } from './paths.js';
import { requireKernelBuildTools } from './prerequisites.js';

/** Bump when the recipe (not the fragment) changes in a way that needs a new kernel. */
const RECIPE = 'tinyconfig+fragment+olddefconfig/1';
const MAKE_TIMEOUT_MS = 120 * 60_000;

export interface GuestKernel {
  key: string;
  dir: string;
  bzImage: string;
  /** The kernel's raw BTF (the .BTF section of vmlinux; what the guest shows at /sys/kernel/btf/vmlinux). */
  btf: string;
  vmlinux_h: string;
  release: string;
  source_version: string;
  fragment_sha: string;
  built_at: string;
  build_seconds: number;
}

/** A kernel ready to boot, with the static tools for it. */
export interface Guest {
  kernel: GuestKernel;
  tools: GuestTools;
}

export type Progress = (message: string) => void;

/** The Debian package version of the source tarball, else its name, size and mtime. */
export async function sourceVersion(config: Config): Promise<string> {
  const tarball = config.vmKernelSource;
  const dpkg = findBinary('dpkg-query', config.binPath);
  if (dpkg) {
    const owner = await runCommand([dpkg, '-S', tarball], { timeoutMs: 15_000 });
    const pkg = owner.ok ? owner.stdout.split(':')[0].trim() : '';
    if (pkg) {
      const version = await runCommand([dpkg, '-W', '-f', '${Version}', pkg], { timeoutMs: 15_000 });
      if (version.ok && version.stdout.trim()) return version.stdout.trim();
    }
  }
  const st = statSync(tarball);
  return `${basename(tarball).replace(/\.tar\.\w+$/, '')}-${sha256(`${st.size}:${st.mtimeMs}`).slice(0, 8)}`;
}

/** The fragment's options, without comments and blank lines: editing a comment rebuilds nothing. */
export function fragmentOptions(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .join('\n');
}

export function kernelKey(version: string): string {
  return `${pathSafe(version)}-${fragmentSha()}`;
}

function fragmentSha(): string {
  return sha256(fragmentOptions(readFileSync(CONFIG_FRAGMENT, 'utf8')), RECIPE).slice(0, 12);
}

function artifactPaths(dir: string): Pick<GuestKernel, 'dir' | 'bzImage' | 'btf' | 'vmlinux_h'> {
  return { dir, bzImage: join(dir, 'bzImage'), btf: join(dir, 'vmlinux.btf'), vmlinux_h: join(dir, 'vmlinux.h') };
}

function readManifest(dir: string): GuestKernel | null {
  try {
    // Paths are where the manifest is now: a cache may be moved or copied whole.
    const kernel: GuestKernel = { ...(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as GuestKernel), ...artifactPaths(dir) };
    return existsSync(kernel.bzImage) && existsSync(kernel.vmlinux_h) ? kernel : null;
  } catch {
    return null;
  }
}

/** The built guest for the current source and fragment, or null (then `tuneloop vm build`). */
export async function findGuest(config: Config): Promise<Guest | null> {
  if (!existsSync(config.vmKernelSource) && !existsSync(join(config.vmCache, 'kernels'))) return null;
  const version = await sourceVersion(config).catch(() => null);
  if (!version) return null;
  const kernel = readManifest(vmPaths(config).kernel(kernelKey(version)));
  const tools = kernel ? findGuestTools(config, version) : null;
  return kernel && tools ? { kernel, tools } : null;
}

/** The guest, or a UserError saying what is missing and how to build it. */
export async function requireGuest(config: Config): Promise<Guest> {
  const guest = await findGuest(config);
  if (guest) return guest;
  const version = existsSync(config.vmKernelSource) ? await sourceVersion(config).catch(() => null) : null;
  const kernel = version ? readManifest(vmPaths(config).kernel(kernelKey(version))) : null;
  throw new UserError(
    kernel
      ? `The guest kernel ${kernel.release} is built, but not tuneloop's static sched tools for this version of tools/sched (cache: ${config.vmCache}).`
      : `No sched_ext guest kernel is built for this tuneloop (cache: ${config.vmCache}).`,
    kernel
      ? 'Run `tuneloop vm build` (it rebuilds only the tools: a minute or two).'
      : 'Run `tuneloop vm build` once (about 6-15 minutes on 2 cores; it names any Debian packages it needs).',
  );
}

export async function buildGuest(config: Config, options: { progress: Progress; signal?: AbortSignal }): Promise<{ guest: Guest; kernel_cached: boolean; tools_cached: boolean }> {
  requireKernelBuildTools(config);
  const version = await sourceVersion(config);
  const paths = vmPaths(config);
  return withBuildLock(paths.buildLock, async () => {
    const key = kernelKey(version);
    let kernel = readManifest(paths.kernel(key));
    const kernelCached = kernel !== null;
    if (!kernel) kernel = await buildKernel(config, version, key, options);
    else options.progress(`kernel ${kernel.release} is cached (${kernel.dir})`);
    let tools = findGuestTools(config, version);
    const toolsCached = tools !== null;
    if (!tools) tools = await buildGuestTools(config, version, paths.source(version), options);
    else options.progress(`guest tools are cached (${tools.dir})`);
    return { guest: { kernel, tools }, kernel_cached: kernelCached, tools_cached: toolsCached };
  });
}

async function run(argv: string[], what: string, options: { cwd?: string; timeoutMs: number; signal?: AbortSignal; onLine?: (line: string) => void; logFile?: string }): Promise<string> {
  const r = await runCommand(argv, { cwd: options.cwd, timeoutMs: options.timeoutMs, signal: options.signal, onLine: options.onLine, logFile: options.logFile, maxOutputBytes: 4 << 20 });
  if (!r.ok) {
    const why = r.timedOut ? 'timed out' : r.canceled ? 'was canceled' : `failed (exit ${r.exitCode ?? r.signal})`;
    throw new UserError(`${what} ${why}:\n${outputTail(r, 25, '\n')}`, 'See the output above; the full log is in the build directory. Rerun `tuneloop vm build` after fixing it.');
  }
  return r.stdout;
}

async function extractSource(config: Config, version: string, target: string, options: { progress: Progress; signal?: AbortSignal }): Promise<void> {
  if (existsSync(join(target, 'Makefile'))) return;
  const scratch = `${target}.extracting`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  options.progress(`extracting ${config.vmKernelSource} (${version})`);
  await run(['tar', '-xf', config.vmKernelSource, '-C', scratch], 'Extracting the kernel source', { timeoutMs: 20 * 60_000, signal: options.signal });
  const [top] = readdirSync(scratch);
  if (!top || !existsSync(join(scratch, top, 'Makefile'))) throw new UserError(`${config.vmKernelSource} does not hold a kernel tree (no <dir>/Makefile).`, 'Point TUNELOOP_VM_KERNEL_SOURCE at a linux-6.12 source tarball.');
  rmSync(target, { recursive: true, force: true });
  renameSync(join(scratch, top), target);
  rmSync(scratch, { recursive: true, force: true });
}

/** Every CONFIG_X=v of the fragment that Kconfig did not keep (a dependency it lacks). */
export function unmetOptions(fragment: string, config: string): string[] {
  const have = new Map<string, string>();
  for (const line of config.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (set) have.set(set[1], set[2]);
    else if (unset) have.set(unset[1], 'n');
  }
  const unmet: string[] = [];
  for (const line of fragment.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const got = have.get(m[1]) ?? 'n';
    if (got !== m[2]) unmet.push(`${m[1]}=${m[2]} (got ${got})`);
  }
  return unmet;
}

async function buildKernel(config: Config, version: string, key: string, options: { progress: Progress; signal?: AbortSignal }): Promise<GuestKernel> {
  const paths = vmPaths(config);
  const started = Date.now();
  const source = paths.source(version);
  const objects = paths.objects(version);
  await extractSource(config, version, source, options);
  mkdirSync(objects, { recursive: true });
  const log = join(objects, 'tuneloop-build.log');
  writeFileSync(log, '');
  const make = (args: string[], what: string, timeoutMs: number, onLine?: (line: string) => void) =>
    run(['make', '-C', source, `O=${objects}`, ...args], what, { timeoutMs, signal: options.signal, onLine, logFile: log });

  options.progress(`configuring: tinyconfig + ${basename(CONFIG_FRAGMENT)} (build tree ${objects})`);
  await make(['tinyconfig'], 'make tinyconfig', 10 * 60_000);
  const fragment = readFileSync(CONFIG_FRAGMENT, 'utf8');
  writeFileSync(join(objects, '.config'), `${readFileSync(join(objects, '.config'), 'utf8')}\n${fragment}`);
  await make(['olddefconfig'], 'make olddefconfig', 10 * 60_000);
  const unmet = unmetOptions(fragment, readFileSync(join(objects, '.config'), 'utf8'));
  if (unmet.length) {
    throw new UserError(`Kconfig did not keep these options of ${CONFIG_FRAGMENT}: ${unmet.join(', ')}.`, 'An option they depend on is missing from the fragment; add it (see `make menuconfig` in the build tree for the dependency).');
  }

  const jobs = Math.max(1, availableParallelism());
  let compiled = 0;
  let lastReport = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  options.progress(`compiling bzImage with make -j${jobs} (about 6-15 minutes on 2 cores)`);
  await make([`-j${jobs}`, 'bzImage'], 'make bzImage', MAKE_TIMEOUT_MS, (line) => {
    if (/^\s+(CC|AS|LD|AR|BTF|OBJCOPY)\s/.test(line)) compiled++;
    if (Date.now() - lastReport >= 15_000) {
      lastReport = Date.now();
      options.progress(`compiling: ${compiled} steps done, ${elapsed()}`);
    }
  });

  options.progress('extracting the kernel BTF and generating vmlinux.h');
  const dir = paths.kernel(key);
  const scratch = `${dir}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  copyFileSync(join(objects, 'arch', 'x86', 'boot', 'bzImage'), join(scratch, 'bzImage'));
  copyFileSync(join(objects, '.config'), join(scratch, 'config'));
  // objcopy writes the section out while copying vmlinux; the copy itself is not kept.
  await run(['objcopy', '--dump-section', `.BTF=${join(scratch, 'vmlinux.btf')}`, join(objects, 'vmlinux'), join(scratch, 'vmlinux.discard')], 'Extracting .BTF from vmlinux', { timeoutMs: 5 * 60_000, signal: options.signal });
  rmSync(join(scratch, 'vmlinux.discard'), { force: true });
  const bpftool = findBinary('bpftool', [...config.binPath, '/usr/sbin', '/sbin'])!;
  const header = await runCommand([bpftool, 'btf', 'dump', 'file', join(scratch, 'vmlinux.btf'), 'format', 'c'], { timeoutMs: 5 * 60_000, signal: options.signal, maxOutputBytes: 512 << 20 });
  if (!header.ok || header.truncated || !header.stdout.includes('struct sched_ext_ops {')) {
    throw new UserError(`bpftool could not turn the guest kernel's BTF into vmlinux.h, or it lacks sched_ext: ${outputTail(header, 3, ' ')}`, 'Check that pahole (dwarves) >= 1.22 is installed and CONFIG_DEBUG_INFO_BTF is in the fragment.');
  }
  writeFileSync(join(scratch, 'vmlinux.h'), header.stdout);
  const release = readFileSync(join(objects, 'include', 'config', 'kernel.release'), 'utf8').trim();
  const kernel: GuestKernel = {
    key,
    ...artifactPaths(dir),
    release,
    source_version: version,
    fragment_sha: fragmentSha(),
    built_at: new Date().toISOString(),
    build_seconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(scratch, 'manifest.json'), `${JSON.stringify(kernel, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(scratch, dir);
  options.progress(`kernel ${release} built in ${kernel.build_seconds} s: ${dir}`);
  return kernel;
}
