/**
 * Slow: the built server over stdio runs real workloads, waits out a run's timeout, and is SIGKILLed.
 * Every child dies with its job (issue 9, section 2), through the built server over stdio as a client
 * meets it: a workload run by benchmark_workload starts a `setsid` grandchild, which leaves the process
 * group. It must not survive job_cancel, the run's timeout, or SIGKILL of the server. A SIGKILLed
 * server leaves no tuneloop temp files in $TMPDIR, and a chatty workload's job log stays capped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LOG_HEAD_BYTES, LOG_TAIL_BYTES } from '../../src/core/capture.js';
import { startStdioServer } from '../helpers/stdio.js';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

const scratch = tempDir();

/** A workload whose `setsid` grandchild carries a unique marker; it goes on once the grandchild is out of the group. */
function escapingWorkload(then: string): { marker: string; command: string[] } {
  const marker = `${800 + Math.floor(Math.random() * 100)}.${randomBytes(4).readUInt32BE(0)}`;
  const ready = join(scratch, marker);
  const script = `m=${marker}; setsid sh -c 'echo > ${ready}; exec sleep $0' $m </dev/null >/dev/null 2>&1 & while [ ! -e ${ready} ]; do sleep 0.01; done; ${then}`;
  return { marker, command: ['/bin/sh', '-c', script] };
}

const escaped = (marker: string) => pidsMatching(`sleep ${marker}`);
const structured = (r: CallToolResult) => r.structuredContent as { job_id: string; status: string; log_path: string; log_tail: string[]; result?: { runs: { note: string | null }[] } };

async function server(env: Record<string, string> = {}) {
  const started = await startStdioServer(['serve', '--toolsets', 'sched,history'], { TUNELOOP_HOME: tempDir(), ...env });
  afterAll(() => started.client.close());
  const call = async (name: string, args: Record<string, unknown>) => structured((await started.client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult);
  return { ...started, call };
}

const bench = (command: string[], extra: Record<string, unknown> = {}) => ({ command, scheduler: 'default', warmup: 0, repeats: 1, sample_ms: 1000, ...extra });

describe('a setsid grandchild of a job', () => {
  it('does not survive job_cancel', async () => {
    const { call } = await server();
    const { marker, command } = escapingWorkload('sleep 60');
    const job = await call('benchmark_workload', bench(command, { wait_s: 0 }));
    expect(await waitFor(() => escaped(marker).length === 1, 20_000)).toBe(true);
    const canceled = await call('job_cancel', { job_id: job.job_id });
    expect(canceled.status).toBe('canceled');
    expect(await waitFor(() => escaped(marker).length === 0, 3000)).toBe(true);
  });

  it("does not survive the run's timeout", async () => {
    const { call } = await server();
    const { marker, command } = escapingWorkload('sleep 60');
    const done = await call('benchmark_workload', bench(command, { timeout_s: 2, wait_s: 40 }));
    // Every run timed out, so nothing was measured: the job fails, keeping its result (the failure rule).
    expect(done.status).toBe('failed');
    expect(done.result!.runs[0].note).toMatch(/timed out/);
    expect(escaped(marker)).toEqual([]);
  });

  it("does not survive the server's shutdown (stdin closed)", async () => {
    const { call, transport } = await server();
    const { marker, command } = escapingWorkload('sleep 60');
    await call('benchmark_workload', bench(command, { wait_s: 0 }));
    expect(await waitFor(() => escaped(marker).length === 1, 20_000)).toBe(true);
    transport.child.stdin!.end();
    await transport.exited();
    expect(await waitFor(() => escaped(marker).length === 0, 3000)).toBe(true);
  });

  it('does not survive SIGKILL of the server', async () => {
    const { call, transport } = await server();
    const { marker, command } = escapingWorkload('sleep 60');
    await call('benchmark_workload', bench(command, { wait_s: 0 }));
    expect(await waitFor(() => escaped(marker).length === 1, 20_000)).toBe(true);
    transport.child.kill('SIGKILL');
    await transport.exited();
    // The reaper: SIGTERM to the groups, SIGKILL to everything contained 2 s later.
    expect(await waitFor(() => escaped(marker).length === 0, 8000)).toBe(true);
  });
});

describe('a SIGKILLed server', () => {
  it('leaves no tuneloop temp file in $TMPDIR (benchmark runs measure rusage through GNU time)', async () => {
    const tmp = tempDir('tuneloop-tmpdir-');
    const { call, transport } = await server({ TMPDIR: tmp });
    const job = await call('benchmark_workload', bench(['sleep', '60'], { wait_s: 0 }));
    expect(await waitFor(() => pidsMatching('sleep 60').some((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').includes(tmp)), 20_000)).toBe(true);
    transport.child.kill('SIGKILL');
    await transport.exited();
    await new Promise((r) => setTimeout(r, 2500)); // the reaper's grace
    expect(readdirSync(tmp)).toEqual([]);
    expect(job.job_id).toBeTruthy();
  });
});

describe('a chatty job', () => {
  it('keeps its log on disk under the cap, with head, tail and the cut marker', async () => {
    const { call, client } = await server();
    const command = ['/bin/sh', '-c', 'echo FIRST-LINE; yes "chatty workload output" | head -c 40000000; echo; echo LAST-LINE'];
    const done = await call('benchmark_workload', bench(command, { wait_s: 40 }));
    expect(done.status).toBe('succeeded');
    expect(statSync(done.log_path).size).toBeLessThanOrEqual(LOG_HEAD_BYTES + 2 * LOG_TAIL_BYTES + 64);
    const log = await client.readResource({ uri: `tuneloop://jobs/${done.job_id}/log` });
    const text = (log.contents[0] as { text: string }).text;
    expect(text).toContain('LAST-LINE');
    expect(done.log_tail.join('\n')).toContain('LAST-LINE');
    const onDisk = readFileSync(done.log_path, 'utf8');
    expect(onDisk.slice(0, 200)).toContain('FIRST-LINE');
    expect(onDisk).toMatch(/\[\.\.\. \d+ bytes omitted by tuneloop \.\.\.\]/);
  });
});
