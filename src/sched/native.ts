/**
 * The native helpers in tools/sched (guard, libbpf loader, smoke load). An installed copy in
 * config.schedLibexec is used as is (that is what a sudoers rule names); otherwise the helper is
 * built on demand with make into `<home>/cache/sched-tools/<key>/`, where the key covers the
 * sources, the compiler and (for the loader) the libbpf it links, so an upgrade rebuilds it.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { runCommand } from '../core/exec.js';
import { findBinary, libbpfVersion } from '../core/probe.js';
import { NATIVE_SOURCES_DIR } from './paths.js';

export const NATIVE_TOOLS = {
  guard: { file: 'tuneloop-sched-guard', source: 'guard.c', libbpf: false },
  loader: { file: 'tuneloop-sched-loader', source: 'loader.c', libbpf: true },
  smoke: { file: 'tuneloop-sched-smoke', source: 'smoke.c', libbpf: false },
} as const;
export type NativeTool = keyof typeof NATIVE_TOOLS;

export interface NativeBinary {
  path: string;
  /** Found installed in schedLibexec (root-owned copies for sudo), rather than built in the cache. */
  installed: boolean;
}

const building = new Map<string, Promise<string>>();

export function installedNativeTool(config: Config, tool: NativeTool): string | null {
  const path = join(config.schedLibexec, NATIVE_TOOLS[tool].file);
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

export async function nativeTool(config: Config, tool: NativeTool, options: { logFile?: string; signal?: AbortSignal } = {}): Promise<NativeBinary> {
  const installed = installedNativeTool(config, tool);
  if (installed) return { path: installed, installed: true };
  const cc = findBinary('cc', config.binPath) ?? findBinary('gcc', config.binPath) ?? findBinary('clang', config.binPath);
  const make = findBinary('make', config.binPath);
  if (!cc || !make) {
    throw new UserError(
      `Building ${NATIVE_TOOLS[tool].file} needs ${!make ? 'make' : 'a C compiler (cc, gcc or clang)'}, which is not on PATH.`,
      'apt-get install make clang (or build-essential); or install the helpers once with `sudo make -C tools/sched install`.',
    );
  }
  const spec = NATIVE_TOOLS[tool];
  const libbpf = spec.libbpf ? ((await libbpfVersion(config)) ?? '') : '';
  const key = createHash('sha256')
    .update(readFileSync(join(NATIVE_SOURCES_DIR, spec.source)))
    .update(readFileSync(join(NATIVE_SOURCES_DIR, 'Makefile')))
    .update(`${cc}|${libbpf}|${process.env.PKG_CONFIG_PATH ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(config.home, 'cache', 'sched-tools', key);
  const target = join(dir, spec.file);
  if (existsSync(target)) return { path: target, installed: false };
  let pending = building.get(target);
  if (!pending) {
    pending = build(make, cc, tool, dir, target, options).finally(() => building.delete(target));
    building.set(target, pending);
  }
  return { path: await pending, installed: false };
}

async function build(make: string, cc: string, tool: NativeTool, dir: string, target: string, options: { logFile?: string; signal?: AbortSignal }): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Build aside and rename: a concurrent server never sees a half-written binary.
  const scratch = mkdtempSync(join(dir, '.build-'));
  try {
    const r = await runCommand([make, '-C', NATIVE_SOURCES_DIR, `OUT=${scratch}`, `CC=${cc}`, tool], {
      timeoutMs: 180_000,
      signal: options.signal,
      logFile: options.logFile,
    });
    if (!r.ok) {
      const output = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new UserError(
        `Building ${NATIVE_TOOLS[tool].file} failed${r.timedOut ? ' (timed out)' : ''}:\n${output}`,
        NATIVE_TOOLS[tool].libbpf
          ? 'The loader needs libbpf-dev, libelf-dev, zlib1g-dev and pkg-config (apt-get install libbpf-dev libelf-dev zlib1g-dev pkg-config).'
          : 'Check that a working C compiler and libc headers are installed (apt-get install clang libc6-dev).',
      );
    }
    renameSync(join(scratch, NATIVE_TOOLS[tool].file), target);
    return target;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
