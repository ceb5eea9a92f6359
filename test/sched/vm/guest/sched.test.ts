/**
 * The guest half of `npm run test:vm`: runs INSIDE the sched_ext guest (`tuneloop vm run`), where
 * tuneloop is the real server (dist/cli.js serve over stdio, through MCP) against a real Linux 6.12
 * with sched_ext. Nothing here is faked: states are read from the guest's own /sys, the objects are
 * compiled against the guest's BTF and loaded by its verifier. Run through `npm run test:vm`.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../../src/core/exec.js';
import { FIXTURES } from '../../helpers.js';
import { startStdioServer } from '../../../helpers/stdio.js';
import { tempDir } from '../../../helpers/tmp.js';
import { buildToEnd, caseName, templateCases } from '../helpers.js';

const SCX = '/sys/kernel/sched_ext';
if (!existsSync(`${SCX}/state`)) throw new Error(`${SCX} is absent: this suite runs inside the sched_ext guest; use npm run test:vm.`);

const read = (file: string) => (existsSync(join(SCX, file)) ? readFileSync(join(SCX, file), 'utf8').trim() : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100);
    value = await probe();
  }
  return value;
}

const home = tempDir('tuneloop-guest-');
type Execution = { id: string; status: string; exit_reason: string | null; stopped_by: string | null; expected_ops: string };

async function server(dataDir = home) {
  const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: dataDir });
  await client.listTools(); // the client then validates every structuredContent against the output schemas
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as CallToolResult;
  return { client, transport, call };
}

let call: Awaited<ReturnType<typeof server>>['call'];
beforeAll(async () => {
  const s = await server();
  call = s.call;
  afterAll(() => s.client.close());
});

const execution = async (id: string) => ((await call('sched_status', { limit: 20, output_lines: 40 })).structuredContent as { executions: Execution[] }).executions.find((e) => e.id === id)!;
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('sched_status on the guest kernel', () => {
  it('shows sched_ext supported and disabled', async () => {
    const s = (await call('sched_status', {})).structuredContent as { sched_ext: { supported: boolean; state: string; ops: string | null }; can_run: { ok: boolean; reasons: string[] } };
    expect(s.sched_ext).toMatchObject({ supported: true, state: 'disabled', ops: null });
    expect(s.can_run.ok, s.can_run.reasons.join('; ')).toBe(true);
    expect(read('state')).toBe('disabled');
  });
});

describe('build_scheduler, compiled against the guest kernel BTF', () => {
  it.each(templateCases())('verifies $label', async ({ label, template, params }) => {
    const r = await buildToEnd(call, { name: caseName('g', label), template, template_params: params, verify_s: 3 });
    expect(r.verdict, `${r.reason}\n${r.verification?.output_tail.join('\n')}`).toBe('verified');
    expect(r.verified_in).toMatchObject({ where: 'host', kernel_release: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() });
    expect(r.compiled_against!.compat_types).toBe(false);
    expect(r.verification!.state_during).toMatchObject({ state: 'enabled', ops: caseName('g', label) });
    expect(r.verification!.state_after).toMatchObject({ state: 'disabled', ops: null });
    expect(read('state')).toBe('disabled');
  });

  it('fails a scheduler the verifier rejects, with the verifier\'s own error and log', async () => {
    const r = await buildToEnd(call, { name: 'g_rejected', source: readFileSync(join(FIXTURES, 'rejected.bpf.c'), 'utf8'), verify_s: 2 });
    expect(r.compile!.ok).toBe(true);
    expect(r.static_checks.every((c) => c.ok)).toBe(true);
    expect(r.verdict).toBe('failed');
    expect(r.reason).toMatch(/load failed: errno 13 EACCES.*invalid mem access 'scalar'/);
    const log = r.verification!.output_tail.join('\n');
    expect(log).toContain('-- BEGIN PROG LOAD LOG --');
    expect(log).toMatch(/R\d invalid mem access 'scalar'\nprocessed \d+ insns/);
    expect(read('state')).toBe('disabled');
  });

  it('reports a program too complex for the verifier as E2BIG with its words, not as a log buffer error', async () => {
    const r = await buildToEnd(call, { name: 'g_too_complex', source: readFileSync(join(FIXTURES, 'too_complex.bpf.c'), 'utf8'), verify_s: 2 });
    expect(r.verdict).toBe('failed');
    expect(r.reason).toContain('load failed: errno 7 E2BIG (Argument list too long): The sequence of 8193 jumps is too complex.');
    expect(r.reason).not.toContain('ENOSPC');
    // Its log is megabytes long (more than the 4 MiB a fixed buffer had): its tail is in the output.
    expect(r.verification!.output_tail.join('\n')).toMatch(/The sequence of 8193 jumps is too complex\.\nprocessed \d+ insns.*\n-- END PROG LOAD LOG --/);
  });
});

describe('run_scheduler, stop_scheduler and ejections on the guest kernel', () => {
  let trap: string;
  beforeAll(async () => {
    const r = await buildToEnd(call, { name: 'g_trap', source: readFileSync(join(FIXTURES, 'trap.bpf.c'), 'utf8'), verify_s: 2 });
    expect(r.verdict, r.reason ?? '').toBe('verified');
    trap = r.custom_name!;
    // Tasks whose comm triggers the trap: copies of sleep with those names.
    for (const name of ['tl_boom', 'tl_stall']) copyFileSync('/bin/sleep', join(home, name));
  });

  async function run(args: Record<string, unknown>): Promise<Execution> {
    const r = await call('run_scheduler', args);
    expect(r.isError, text(r)).toBeFalsy();
    return (r.structuredContent as { execution: Execution }).execution;
  }

  it('attaches a verified custom scheduler, refuses a second one, and stops it', async () => {
    const e = await run({ scheduler: trap });
    expect(e.status).toBe('running');
    expect(read('state')).toBe('enabled');
    expect(read('root/ops')).toBe('g_trap');

    const second = await call('run_scheduler', { scheduler: 'custom:g_vtime_defaults' });
    expect(second.isError).toBe(true);
    expect(text(second)).toMatch(/attached/i);
    expect(read('root/ops')).toBe('g_trap');

    const stopped = (await call('stop_scheduler', { execution_id: e.id })).structuredContent as { disabled: boolean };
    expect(stopped.disabled).toBe(true);
    expect(read('state')).toBe('disabled');
    expect((await execution(e.id)).status).toBe('stopped');
  });

  /** Attach the trap, start a task named `task` (it trips the trap), wait for the kernel to eject it. */
  async function trip(task: string, timeoutMs: number): Promise<Execution> {
    const e = await run({ scheduler: trap });
    await runCommand([join(home, task), '0.1'], { timeoutMs });
    const after = await until(() => execution(e.id), (x) => x.status !== 'running', timeoutMs);
    // Not ejected: detach it anyway, so that this failure does not fail the tests after it.
    if (after.status === 'running') await call('stop_scheduler', { execution_id: e.id });
    expect(after.status, 'the kernel did not eject the trap').not.toBe('running');
    expect(read('state')).toBe('disabled');
    return after;
  }

  it('reports an scx_bpf_error() at runtime as an ejection with its reason', async () => {
    const after = await trip('tl_boom', 15_000);
    expect(after.status).toBe('ejected');
    expect(after.exit_reason).toMatch(/boom: task \d+ asked for it/);
  });

  it('reports a stalled task as a watchdog ejection', async () => {
    const after = await trip('tl_stall', 30_000);
    expect(after.status).toBe('ejected');
    expect(after.exit_reason).toMatch(/runnable task stall/);
  });

  it('stops a scheduler when its max_duration_s is up', async () => {
    const e = await run({ scheduler: trap, max_duration_s: 2 });
    const after = await until(() => execution(e.id), (x) => x.status !== 'running', 20_000);
    expect(after.status).toBe('stopped');
    expect(after.stopped_by).toMatch(/watchdog|max_duration/);
    expect(read('state')).toBe('disabled');
  });

  it('detaches within 2 s when the server is killed with SIGKILL', async () => {
    // A second server on the same data dir (so it knows the custom schedulers), killed outright.
    const started = Date.now();
    const other = await server();
    console.info(`second server up in ${Date.now() - started} ms`);
    const r = await other.call('run_scheduler', { scheduler: 'custom:g_percpu_defaults' });
    expect(r.isError, text(r)).toBeFalsy();
    expect(read('root/ops')).toBe('g_percpu_defaults');
    const killedAt = Date.now();
    other.transport.child.kill('SIGKILL');
    const state = await until(() => read('state'), (s) => s === 'disabled', 5000);
    const took = Date.now() - killedAt;
    console.info(`detached ${took} ms after the server was SIGKILLed`);
    expect(state).toBe('disabled');
    expect(took).toBeLessThanOrEqual(2000);
  });

  it('completes a short benchmark_workload A/B run (functional only: timings in a VM mean nothing)', async () => {
    const r = await call('benchmark_workload', {
      command: ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'],
      scheduler: 'custom:g_vtime_defaults',
      warmup: 0,
      repeats: 2,
      timeout_s: 120,
      wait_s: 50,
    });
    let view = r.structuredContent as { job_id: string; status: string; error: string | null; result?: { arms: { label: string; ok_runs: number }[]; runs: { arm: string; status: string }[] } };
    while (view.status === 'running') view = (await call('job_status', { job_id: view.job_id, wait_s: 50 })).structuredContent as typeof view;
    expect(view.status, view.error ?? '').toBe('succeeded');
    expect(view.result!.arms.map((a) => [a.label, a.ok_runs])).toEqual([
      ['A', 2],
      ['B', 2],
    ]);
    expect(read('state')).toBe('disabled');
  });
});
