/**
 * The guest's initramfs: tools/vm/init and a static busybox, nothing else (the command's files come
 * from the host over 9p). Built with cpio once per (init, busybox) and cached.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { outputTail, runCommand } from '../core/exec.js';
import { findBinary } from '../core/probe.js';
import { GUEST_INIT, sha256, vmPaths } from './paths.js';
import { staticBusybox } from './prerequisites.js';

const ENTRIES = ['init', 'bin', 'bin/busybox', 'proc', 'sys', 'dev', 'newroot'];

export async function ensureInitramfs(config: Config): Promise<string> {
  const busybox = staticBusybox(config);
  const cpio = findBinary('cpio', config.binPath);
  if (!busybox || !cpio) throw new UserError('The guest initramfs needs a static busybox and cpio.', 'apt-get install busybox-static cpio');
  const dir = vmPaths(config).initramfs;
  const target = join(dir, `${sha256(readFileSync(GUEST_INIT), readFileSync(busybox)).slice(0, 16)}.cpio`);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, '.staging-'));
  try {
    for (const d of ['bin', 'proc', 'sys', 'dev', 'newroot']) mkdirSync(join(staging, d));
    copyFileSync(GUEST_INIT, join(staging, 'init'));
    copyFileSync(busybox, join(staging, 'bin', 'busybox'));
    chmodSync(join(staging, 'init'), 0o755);
    chmodSync(join(staging, 'bin', 'busybox'), 0o755);
    const archive = `${target}.tmp-${process.pid}`;
    // -R 0:0: everything owned by root in the guest, whoever built it.
    const r = await runCommand([cpio, '--quiet', '-o', '-H', 'newc', '-R', '0:0', '-O', archive], { cwd: staging, input: `${ENTRIES.join('\n')}\n`, timeoutMs: 60_000 });
    if (!r.ok) throw new UserError(`cpio could not build the initramfs: ${outputTail(r, 3, ' ')}`, 'Check that GNU cpio is installed (apt-get install cpio).');
    renameSync(archive, target);
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
