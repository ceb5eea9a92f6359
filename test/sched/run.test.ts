/**
 * Slow: the fake scx binaries are real processes; the watchdog, ejection and escalation cases wait
 * out their timers.
 * run_scheduler / stop_scheduler / sched_status through MCP against a fake sched_ext tree and fake
 * scx binaries (real processes that write the tree like the kernel would). Covers attach,
 * refusal, replace, the watchdog, ejection, exits on their own, failed attaches, escalation.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { isAlive, waitFor } from '../helpers/proc.js';
import { fakeHost, type FakeHost } from './helpers.js';

type Execution = { id: string; status: string; pid: number | null; exit_reason: string | null; stopped_by: string | null; events: string[]; output_tail: string[] };
const structured = <T>(r: CallToolResult) => r.structuredContent as T;

let host: FakeHost;
let call: Awaited<ReturnType<typeof connectInMemory>>['call'];

beforeAll(async () => {
  host = fakeHost();
  ({ call } = await connectInMemory(host.env));
});

afterEach(async () => {
  delete process.env.FAKE_SCX_MODE;
  const status = structured<{ executions: Execution[] }>(await call('sched_status', {}));
  for (const e of status.executions.filter((x) => x.status === 'running' || x.status === 'ejected')) {
    await call('stop_scheduler', { execution_id: e.id, grace_s: 0.5 });
  }
  expect(host.read('state')).toBe('disabled');
});

async function run(args: Record<string, unknown>): Promise<{ execution: Execution; replaced: string | null; result: CallToolResult }> {
  const result = await call('run_scheduler', args);
  if (result.isError) throw new Error(textOf(result));
  return { ...structured<{ execution: Execution; replaced: string | null }>(result), result };
}

async function execution(id: string): Promise<Execution> {
  const status = structured<{ executions: Execution[] }>(await call('sched_status', { limit: 50, output_lines: 50 }));
  return status.executions.find((e) => e.id === id)!;
}

/** Poll sched_status until the execution satisfies `done` (generous: the machine may be loaded). */
async function until(id: string, done: (e: Execution) => boolean, timeoutMs = 20_000): Promise<Execution> {
  const deadline = Date.now() + timeoutMs;
  let e = await execution(id);
  while (!done(e) && Date.now() < deadline) {
    await waitFor(() => false, 100);
    e = await execution(id);
  }
  return e;
}

describe('attach and stop', () => {
  it('attaches, shows it in sched_status with its output, and stops it back to disabled', async () => {
    const { execution: e } = await run({ scheduler: 'scx_lavd', flags: ['--slice-max-us', '3000', '--performance'] });
    expect(e.status).toBe('running');
    expect(host.read('state')).toBe('enabled');
    expect(host.read('root/ops')).toMatch(/^lavd_/);
    expect(host.read('enable_seq')).toBe('1');

    const live = await until(e.id, (x) => x.output_tail.some((l) => l.includes('[lavd] tasks')));
    expect(live.output_tail.some((l) => l.includes('[lavd] tasks'))).toBe(true);
    const status = structured<{ attached_execution: string; sched_ext: { state: string; ops: string } }>(await call('sched_status', {}));
    expect(status.attached_execution).toBe(e.id);
    expect(status.sched_ext.state).toBe('enabled');

    const stopped = await call('stop_scheduler', { execution_id: e.id });
    const s = structured<{ execution: Execution & { uptime_s: number }; disabled: boolean; sched_ext: { state: string } }>(stopped);
    expect(s.disabled).toBe(true);
    expect(s.execution.status).toBe('stopped');
    expect(s.execution.stopped_by).toBe('client');
    expect(s.execution.exit_reason).toBe('unregistered from user space');
    expect(s.execution.uptime_s).toBeGreaterThan(0);
    expect(host.read('state')).toBe('disabled');
    expect(host.read('root/ops')).toBeNull();
    expect(isAlive(e.pid!)).toBe(false);
  });

  it('stop_scheduler without an id stops the running one, and says so when there is none', async () => {
    await run({ scheduler: 'lavd' });
    const stopped = await call('stop_scheduler', {});
    expect(structured<{ execution: Execution }>(stopped).execution.status).toBe('stopped');
    const none = await call('stop_scheduler', {});
    expect(none.isError).toBe(true);
    expect(textOf(none)).toContain('No scheduler started by this server is running');
  });
});

describe('refusal and replace', () => {
  it('refuses while another scheduler is attached, and replaces it with replace: true', async () => {
    const first = await run({ scheduler: 'scx_lavd' });
    const refused = await call('run_scheduler', { scheduler: 'scx_bpfland' });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('Another sched_ext scheduler is attached');
    expect(textOf(refused)).toContain(first.execution.id);
    expect(host.read('root/ops')).toMatch(/^lavd_/);

    const second = await run({ scheduler: 'scx_bpfland', replace: true });
    expect(second.execution.status).toBe('running');
    expect(second.replaced).toContain(`stopped execution ${first.execution.id}`);
    expect(host.read('root/ops')).toMatch(/^bpfland_/);
    const old = await execution(first.execution.id);
    expect(old.status).toBe('stopped');
    expect(old.stopped_by).toBe('replace');
  });
});

describe('on its own', () => {
  it('the watchdog stops it after max_duration_s', async () => {
    const { execution: e } = await run({ scheduler: 'scx_lavd', max_duration_s: 1 });
    const ended = await until(e.id, (x) => x.status !== 'running');
    expect(host.read('state')).toBe('disabled');
    expect(isAlive(e.pid!)).toBe(false);
    expect(ended.status).toBe('stopped');
    expect(ended.stopped_by).toBe('watchdog');
    expect(ended.events.some((l) => l.includes('watchdog: max_duration_s=1'))).toBe(true);
  });

  it('notices an ejection by the kernel and reports its reason', async () => {
    process.env.FAKE_SCX_MODE = 'eject';
    const { execution: e } = await run({ scheduler: 'scx_lavd' });
    expect(e.status).toBe('running');
    const ejected = await until(e.id, (x) => x.status === 'ejected');
    expect(ejected.status).toBe('ejected');
    const ended = await until(e.id, (x) => x.exit_reason !== null && !isAlive(e.pid!));
    expect(ended.status).toBe('ejected');
    expect(ended.stopped_by).toBeNull();
    expect(ended.exit_reason).toContain('runnable task stall');
    expect(ended.events.some((l) => l.includes('process ended: exit 1; status ejected'))).toBe(true);
  });

  it('calls a process that lingers after the kernel detached its scheduler ejected, and keeps that when stopped', async () => {
    process.env.FAKE_SCX_MODE = 'eject-linger';
    const { execution: e } = await run({ scheduler: 'scx_lavd' });
    const ejected = await until(e.id, (x) => x.status === 'ejected');
    expect(ejected.events.some((l) => l.includes('ejected: detached for 2s while its process still runs'))).toBe(true);
    expect(isAlive(e.pid!)).toBe(true);
    const stopped = structured<{ execution: Execution }>(await call('stop_scheduler', { execution_id: e.id }));
    expect(stopped.execution).toMatchObject({ status: 'ejected', stopped_by: 'client' });
    expect(stopped.execution.exit_reason).toContain('runnable task stall');
  });

  it('reports a scheduler that exits on its own with its EXIT reason', async () => {
    process.env.FAKE_SCX_MODE = 'exit-early';
    const { execution: e } = await run({ scheduler: 'scx_bpfland' });
    const ended = await until(e.id, (x) => x.status !== 'running');
    expect(ended.status).toBe('exited');
    expect(ended.exit_reason).toContain('statistics thread panicked');
    expect(host.read('state')).toBe('disabled');
  });

  it('notices enable_seq moving while it stays attached (ejected and reloaded between polls)', async () => {
    process.env.FAKE_SCX_MODE = 'reload';
    const { execution: e } = await run({ scheduler: 'scx_lavd' });
    const seq = Number(host.read('enable_seq'));
    const current = await until(e.id, (x) => x.events.some((l) => l.includes('enable_seq moved')));
    expect(current.events.some((l) => l.includes(`enable_seq moved ${seq} -> ${seq + 1}`))).toBe(true);
    expect(current.status).toBe('running');
  });

  it('a scheduler that fails to attach is an error whose first line is its own error line, with its output', async () => {
    process.env.FAKE_SCX_MODE = 'fail-attach';
    const result = await call('run_scheduler', { scheduler: 'scx_rusty', attach_timeout_s: 10 });
    // issue 9 section 4: isError, the binary's error line first, the structured result still there.
    expect(result.isError).toBe(true);
    expect(textOf(result).split('\n')[0]).toBe('scx_rusty did not attach: Error: Failed to load BPF program');
    const e = structured<{ execution: Execution }>(result).execution;
    expect(e.status).toBe('failed');
    expect(e.output_tail.join('\n')).toContain('BPF program load failed');
    expect(textOf(result)).toContain('FAILED to attach scx_rusty');
    expect(host.read('state')).toBe('disabled');
  });

  it('escalates to SIGTERM when the scheduler ignores SIGINT', async () => {
    process.env.FAKE_SCX_MODE = 'ignore-sigint';
    const { execution: e } = await run({ scheduler: 'scx_lavd' });
    const stopped = structured<{ execution: Execution; disabled: boolean }>(await call('stop_scheduler', { execution_id: e.id, grace_s: 0.5 }));
    expect(stopped.execution.status).toBe('stopped');
    expect(stopped.execution.events.some((l) => l.includes('guard: sent SIGTERM'))).toBe(true);
    expect(stopped.execution.output_tail).toContain('SIGINT ignored');
    expect(stopped.disabled).toBe(true);
  });
});
