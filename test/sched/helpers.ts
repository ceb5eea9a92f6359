/**
 * A fake sched_ext host: a copy of test/fixtures/sched/sysfs (state, enable_seq, ...) in a temp
 * dir, the fake scx_* binaries on TUNELOOP_SCHED_DIRS, and a fake procfs holding only
 * sysrq-trigger. The fake schedulers find the tree through TUNELOOP_SYSFS_ROOT in their
 * environment, so it is also set in this test process (each test file runs in its own process).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from '../helpers/tmp.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures/sched');
export const FAKE_BIN = join(FIXTURES, 'bin');

export interface FakeHost {
  sysfs: string;
  proc: string;
  env: Record<string, string>;
  read(file: string): string | null;
  write(file: string, text: string): void;
  /**
   * Play the kernel: once `attached()` says the tool has confirmed the scheduler attached, disable
   * it in the tree and leave `reason` as its exit info (the fake scheduler then reports it and
   * exits). Deterministic, unlike a timer inside a fake that a loaded machine may starve.
   */
  ejectWhen(attached: () => Promise<boolean>, reason: string, timeoutMs?: number): Promise<boolean>;
}

export function fakeHost(options: { proc?: boolean } = {}): FakeHost {
  const root = tempDir('tuneloop-sched-');
  const sysfs = join(root, 'sys');
  cpSync(join(FIXTURES, 'sysfs'), sysfs, { recursive: true });
  // build_scheduler reads BTF under the sysfs root: borrow the real kernel's.
  if (existsSync('/sys/kernel/btf/vmlinux')) {
    mkdirSync(join(sysfs, 'kernel', 'btf'), { recursive: true });
    symlinkSync('/sys/kernel/btf/vmlinux', join(sysfs, 'kernel', 'btf', 'vmlinux'));
  }
  const proc = join(root, 'proc');
  mkdirSync(proc);
  writeFileSync(join(proc, 'sysrq-trigger'), '');
  process.env.TUNELOOP_SYSFS_ROOT = sysfs;
  const env: Record<string, string> = { TUNELOOP_SYSFS_ROOT: sysfs, TUNELOOP_SCHED_DIRS: FAKE_BIN };
  if (options.proc) {
    process.env.TUNELOOP_PROC_ROOT = proc;
    env.TUNELOOP_PROC_ROOT = proc;
  }
  const dir = join(sysfs, 'kernel', 'sched_ext');
  return {
    sysfs,
    proc,
    env,
    read: (file) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').trim() : null),
    write: (file, text) => writeFileSync(join(dir, file), `${text}\n`),
    async ejectWhen(attached, reason, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await attached())) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 50));
      }
      writeFileSync(join(dir, '.fake-exit-reason'), reason);
      rmSync(join(dir, 'root'), { recursive: true, force: true });
      writeFileSync(join(dir, 'state'), 'disabled\n');
      return true;
    },
  };
}

/** True once sched_status reports a tuneloop execution attached (the tool has confirmed the attach). */
export function attachedPerSchedStatus(call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>): () => Promise<boolean> {
  return async () => ((await call('sched_status', { limit: 0, output_lines: 0 })).structuredContent as { attached_execution: string | null }).attached_execution !== null;
}
