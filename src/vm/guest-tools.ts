/**
 * tuneloop's sched helpers (tools/sched: loader, guard, smoke) for the guest: linked statically
 * against the kernel tree's own libbpf (tools/lib/bpf, 1.5 in 6.12), because attaching sched_ext
 * needs struct_ops links (libbpf >= 1.2) and Debian bookworm ships 1.1. Static, so they run in the
 * guest whatever its userland, and on the host too. Keyed by the kernel source (libbpf's version)
 * and the helpers' sources, so editing loader.c rebuilds them without rebuilding the kernel.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { outputTail, runCommand } from '../core/exec.js';
import { NATIVE_TOOLS } from '../sched/native.js';
import { NATIVE_SOURCES_DIR } from '../sched/paths.js';
import type { Progress } from './kernel.js';
import { VM_SOURCES_DIR, pathSafe, sha256, vmPaths } from './paths.js';

export interface GuestTools {
  dir: string;
  libbpf_version: string;
}

/** Measures the host's TSC rate for the guest's clock (see tools/vm/tsc-khz.c); built with the guest tools. */
export const TSC_KHZ_TOOL = 'tuneloop-tsc-khz';
const TSC_KHZ_SOURCE = join(VM_SOURCES_DIR, 'tsc-khz.c');

function toolsKey(version: string): string {
  const sources = readdirSync(NATIVE_SOURCES_DIR)
    .filter((f) => f.endsWith('.c') || f === 'Makefile')
    .sort()
    .map((f) => readFileSync(join(NATIVE_SOURCES_DIR, f)));
  return `${pathSafe(version)}-${sha256(...sources, readFileSync(TSC_KHZ_SOURCE)).slice(0, 12)}`;
}

export function findGuestTools(config: Config, version: string): GuestTools | null {
  const dir = vmPaths(config).guestTools(toolsKey(version));
  try {
    const tools: GuestTools = { ...(JSON.parse(readFileSync(join(dir, 'tools.json'), 'utf8')) as GuestTools), dir };
    return [...Object.values(NATIVE_TOOLS).map((t) => t.file), TSC_KHZ_TOOL].every((file) => existsSync(join(dir, file))) ? tools : null;
  } catch {
    return null;
  }
}

export async function buildGuestTools(config: Config, version: string, source: string, options: { progress: Progress; signal?: AbortSignal }): Promise<GuestTools> {
  const dir = vmPaths(config).guestTools(toolsKey(version));
  const scratch = `${dir}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, 'libbpf-build'), { recursive: true });
  const make = async (args: string[], what: string) => {
    const r = await runCommand(['make', ...args], { timeoutMs: 20 * 60_000, signal: options.signal, maxOutputBytes: 1 << 20 });
    if (!r.ok) throw new UserError(`${what} failed${r.timedOut ? ' (timed out)' : ''}:\n${outputTail(r, 20, '\n')}`, 'The static build needs libelf-dev, zlib1g-dev and libc6-dev (their .a files); install them and rerun `tuneloop vm build`.');
  };
  options.progress(`building libbpf from ${join(source, 'tools/lib/bpf')} (static)`);
  const prefix = join(scratch, 'libbpf');
  await make(['-C', join(source, 'tools', 'lib', 'bpf'), `-j${Math.max(1, availableParallelism())}`, `OUTPUT=${join(scratch, 'libbpf-build')}/`, 'BUILD_STATIC_ONLY=1', `DESTDIR=${prefix}`, 'prefix=/usr', 'install'], 'Building libbpf');
  const libdir = ['lib64', 'lib'].map((d) => join(prefix, 'usr', d)).find((d) => existsSync(join(d, 'libbpf.a')));
  if (!libdir) throw new UserError(`libbpf built, but no libbpf.a under ${prefix}/usr/lib64 or lib.`, 'This is unexpected for a 6.12 tree; report it with the build output.');
  const include = join(prefix, 'usr', 'include');
  const versionHeader = readFileSync(join(include, 'bpf', 'libbpf_version.h'), 'utf8');
  const libbpfVersion = `${/LIBBPF_MAJOR_VERSION (\d+)/.exec(versionHeader)?.[1]}.${/LIBBPF_MINOR_VERSION (\d+)/.exec(versionHeader)?.[1]}`;

  options.progress(`building the static guest tools against libbpf ${libbpfVersion}`);
  await make(['-C', NATIVE_SOURCES_DIR, `OUT=${scratch}`, 'LDFLAGS=-static', `LIBBPF_CFLAGS=-I${include}`, `LIBBPF_LIBS=${join(libdir, 'libbpf.a')} -lelf -lz`, 'all'], 'Building the static loader, guard and smoke');
  const tsc = await runCommand(['gcc', '-O2', '-Wall', '-o', join(scratch, TSC_KHZ_TOOL), TSC_KHZ_SOURCE], { timeoutMs: 120_000, signal: options.signal });
  if (!tsc.ok) throw new UserError(`Building ${TSC_KHZ_TOOL} failed: ${outputTail(tsc, 5, ' ')}`, 'Check that gcc and libc6-dev are installed.');
  rmSync(join(scratch, 'libbpf-build'), { recursive: true, force: true });
  rmSync(prefix, { recursive: true, force: true });
  const tools: GuestTools = { dir, libbpf_version: libbpfVersion };
  writeFileSync(join(scratch, 'tools.json'), `${JSON.stringify(tools, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(scratch, dir);
  options.progress(`guest tools built: ${dir}`);
  return tools;
}
