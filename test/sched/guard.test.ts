/**
 * Slow: the guard is built with make, and a real server is SIGKILLed and its scheduler waited out.
 *
 * The guard is what keeps a scheduler from outliving tuneloop, so it is tested as a real process:
 * built with make like the server builds it, run through exec.ts, with the fake scheduler.
 * Then the real thing: a `dist/cli.js serve` process attaches a (fake) scheduler and is SIGKILLed;
 * the scheduler must exit and the state return to disabled (DESIGN: "nothing it started may keep
 * running").
 */
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../src/core/exec.js';
import { nativeTool } from '../../src/sched/native.js';
import { isAlive, waitFor } from '../helpers/proc.js';
import { connectInMemory, testConfig } from '../helpers/runtime.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';
import { FAKE_BIN, fakeHost } from './helpers.js';

const config = testConfig();

async function guarded(args: string[], env: Record<string, string> = {}) {
  const guard = (await nativeTool(config, 'guard')).path;
  const lines: string[] = [];
  const child = spawnChild([guard, ...args], { keepStdin: true, timeoutMs: 60_000, env, onLine: (l) => lines.push(l) });
  return { child, lines };
}

describe('tuneloop-sched-guard', () => {
  it('stops the scheduler with SIGINT when its control pipe closes, and exits with its status', async () => {
    const host = fakeHost();
    const { child, lines } = await guarded(['--', join(FAKE_BIN, 'scx_lavd')]);
    expect(await waitFor(() => host.read('state') === 'enabled', 15_000)).toBe(true);
    child.stdin!.end();
    const r = await child.result;
    expect(r.exitCode).toBe(0);
    expect(lines).toContain('tuneloop-guard: control pipe closed, stopping the scheduler');
    expect(lines).toContain('EXIT: unregistered from user space');
    expect(host.read('state')).toBe('disabled');
  });

  it('escalates SIGINT -> SIGTERM -> SIGKILL on "stop GRACE_MS"', async () => {
    const { child, lines } = await guarded(['--term-grace-ms', '300', '--', '/bin/sh', '-c', 'trap "" INT TERM; while :; do sleep 0.1; done']);
    await waitFor(() => lines.some((l) => l.startsWith('tuneloop-guard: started')), 5000);
    child.stdin!.write('stop 200\n');
    const r = await child.result;
    expect(lines.filter((l) => l.startsWith('tuneloop-guard: sent'))).toEqual(['tuneloop-guard: sent SIGINT', 'tuneloop-guard: sent SIGTERM', 'tuneloop-guard: sent SIGKILL']);
    expect(r.exitCode).toBe(137);
  });

  it('under sudo refuses programs that are not root-owned scx_* schedulers', async () => {
    // A scheduler anyone may rewrite would let a sudoers rule for the guard run anything as root.
    const dir = tempDir();
    const writable = join(dir, 'scx_lavd');
    copyFileSync(join(FAKE_BIN, 'scx_lavd'), writable);
    chmodSync(writable, 0o777);
    const { child, lines } = await guarded(['--', writable], { SUDO_UID: '1000' });
    const r = await child.result;
    expect(r.exitCode).toBe(126);
    expect(lines.join('\n')).toContain(`refusing under sudo: ${writable} must be a regular file owned by root and writable only by root`);
    const other = await guarded(['--', '/bin/sleep', '5'], { SUDO_UID: '1000' });
    expect((await other.child.result).exitCode).toBe(126);
    expect(other.lines.join('\n')).toContain('is neither an scx_* scheduler nor tuneloop-sched-loader');
  });
});

describe('SIGKILL of the server', () => {
  it('leaves no scheduler attached: the guard sees the pipe close and stops it', async () => {
    const host = fakeHost();
    const home = tempDir();
    const { client, transport } = await startStdioServer(['serve'], { ...host.env, TUNELOOP_HOME: home, PATH: process.env.PATH });
    const result = await client.callTool({ name: 'run_scheduler', arguments: { scheduler: 'scx_lavd' } }, undefined, { timeout: 60_000 });
    expect(result.isError).toBeFalsy();
    const execution = (result.structuredContent as { execution: { id: string; pid: number; status: string; log_path: string } }).execution;
    expect(execution.status).toBe('running');
    expect(host.read('state')).toBe('enabled');
    expect(isAlive(execution.pid)).toBe(true);

    transport.child.kill('SIGKILL');
    await transport.exited();
    expect(await waitFor(() => !isAlive(execution.pid), 20_000)).toBe(true);
    expect(await waitFor(() => host.read('state') === 'disabled', 5000)).toBe(true);
    // The fake restores the tree only when it catches SIGINT/SIGTERM (not SIGKILL), and it runs in its
    // own process group, which the server's reaper does not know: only the guard could have stopped it.
    expect(host.read('root/ops')).toBeNull();
    expect(readFileSync(execution.log_path, 'utf8')).toContain('tuneloop-guard: started pid=');
    expect(transport.badLines).toEqual([]);

    // The next server on this data dir finds the execution its crashed owner left open, and records
    // what it checked (pid, sysfs), not a claim about who stopped it.
    const { call } = await connectInMemory({ ...host.env, TUNELOOP_HOME: home });
    const after = (await call('sched_status', { limit: 5 })).structuredContent as { executions: { id: string; status: string; exit_reason: string; ended_at: string | null; stopped_by: string | null }[] };
    const orphan = after.executions.find((e) => e.id === execution.id)!;
    expect(orphan).toMatchObject({ status: 'orphaned', stopped_by: null });
    expect(orphan.ended_at).not.toBeNull();
    expect(orphan.exit_reason).toContain('ended without recording how this execution ended');
    expect(orphan.exit_reason).toContain(`scheduler pid ${execution.pid} is not running; sched_ext state disabled, root/ops absent.`);
    expect(orphan.exit_reason).not.toMatch(/guard stopped/i);
  }, 60_000);
});
