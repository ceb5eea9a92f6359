/**
 * sched_status on this real host (no sched_ext) and on a fake one; replacing a scheduler that
 * tuneloop did not start (SysRq-S as root, which the fake kernel side honours).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../src/core/exec.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { isAlive, waitFor } from '../helpers/proc.js';
import { FAKE_BIN, fakeHost } from './helpers.js';

describe('on this host (no sched_ext kernel)', () => {
  it('sched_status says what is missing, and run_scheduler refuses with the remedy', async () => {
    const { call } = await connectInMemory({ TUNELOOP_SCHED_DIRS: FAKE_BIN });
    const status = (await call('sched_status', {})).structuredContent as {
      kernel: { release: string; btf: boolean };
      sched_ext: { supported: boolean; state: string | null };
      privilege: { path: string | null };
      scx_loader: { detected: boolean; detail: string };
      can_run: { ok: boolean; reasons: string[] };
    };
    expect(status.sched_ext).toMatchObject({ supported: false, state: null });
    expect(status.can_run.ok).toBe(false);
    expect(status.can_run.reasons[0]).toContain('no sched_ext');
    expect(status.privilege.path).toBe(process.getuid?.() === 0 ? 'root' : expect.anything());
    expect(typeof status.scx_loader.detail).toBe('string');

    const run = await call('run_scheduler', { scheduler: 'scx_lavd' });
    expect(run.isError).toBe(true);
    expect(textOf(run)).toContain('This kernel has no sched_ext');
    expect(textOf(run)).toContain('CONFIG_SCHED_CLASS_EXT');
  });
});

describe('a scheduler tuneloop did not start', () => {
  it('is refused without replace, and detached with SysRq-S (as root) with replace', async () => {
    const host = fakeHost({ proc: true });
    const { call } = await connectInMemory(host.env);
    const foreign = spawnChild([join(FAKE_BIN, 'scx_flash')], { timeoutMs: 60_000 });
    expect(await waitFor(() => host.read('state') === 'enabled', 15_000)).toBe(true);

    const status = (await call('sched_status', {})).structuredContent as { attached_execution: string | null; sched_ext: { ops: string } };
    expect(status.attached_execution).toBeNull();
    expect(status.sched_ext.ops).toMatch(/^flash_/);

    const refused = await call('run_scheduler', { scheduler: 'scx_bpfland' });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/Another sched_ext scheduler is attached: "flash_.*" \(state enabled\)/);

    if (process.getuid?.() !== 0) return; // SysRq-S needs root
    const replaced = await call('run_scheduler', { scheduler: 'scx_bpfland', replace: true });
    expect(replaced.isError, textOf(replaced)).toBeFalsy();
    const r = replaced.structuredContent as { replaced: string; execution: { id: string; status: string } };
    expect(r.replaced).toMatch(/^flash_.*: SysRq-S/);
    expect(r.execution.status).toBe('running');
    const ended = await foreign.result;
    expect(ended.stdout).toContain('EXIT: disabled by sysrq-S');
    expect(isAlive(ended.pid!)).toBe(false);
    await call('stop_scheduler', { execution_id: r.execution.id });
    expect(host.read('state')).toBe('disabled');
  });
});
