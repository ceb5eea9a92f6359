/**
 * Where `tuneloop vm` keeps things (all under config.vmCache) and the committed inputs it builds
 * from (tools/vm). The cache lives outside any clone (CI points TUNELOOP_VM_CACHE beside it), so a
 * fresh checkout reuses a kernel built before.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { PACKAGE_ROOT } from '../sched/paths.js';

export const VM_SOURCES_DIR = join(PACKAGE_ROOT, 'tools', 'vm');
export const CONFIG_FRAGMENT = join(VM_SOURCES_DIR, 'sched_ext.config');
export const GUEST_INIT = join(VM_SOURCES_DIR, 'init');

/** A name safe as one path component ("6.12.117-1~deb12u1" -> "6.12.117-1_deb12u1"). */
export function pathSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

export const vmPaths = (config: Config) => ({
  root: config.vmCache,
  /** The extracted source tree of one source version. */
  source: (version: string) => join(config.vmCache, `src-${pathSafe(version)}`),
  /** Its out-of-tree build (make O=...): reused across fragments, make rebuilds what changed. */
  objects: (version: string) => join(config.vmCache, `obj-${pathSafe(version)}`),
  /** bzImage, BTF, vmlinux.h and manifest.json of one (source version, fragment). */
  kernel: (key: string) => join(config.vmCache, 'kernels', key),
  /** Static loader, guard and smoke built against the tree's libbpf. */
  guestTools: (key: string) => join(config.vmCache, 'guest-tools', key),
  initramfs: join(config.vmCache, 'initramfs'),
  buildLock: join(config.vmCache, 'build.lock'),
  accelProbe: join(config.vmCache, 'accel.json'),
  tscProbe: join(config.vmCache, 'tsc.json'),
});
