/**
 * Slow: every case runs the built CLI, which starts a real server process; the --timeout and
 * --no-follow cases wait out real deadlines and poll the jobs they leave behind.
 * Issue 9 sections 4 and 5, as a user meets them on the command line: `--timeout` bounds the whole
 * command, a job left behind by --timeout/--no-follow keeps running (and says how to reach it), an
 * unknown tool is a usage error with a remedy, a failed action exits 1 with its cause first,
 * `tools --json` is exactly tools/list, `doctor` counts each check once, and protocol errors carry
 * their "MCP error" prefix once.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, startStdioServer } from '../helpers/stdio.js';
import { isAlive, pidsMatching, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURES, fakeHost } from '../sched/helpers.js';

const home = tempDir();
const tuneloop = (args: string[], env: Record<string, string> = {}) => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TUNELOOP_HOME: home, ...env }, timeout: 120_000 });
  return { ...r, elapsedMs: Date.now() - started };
};
/** A job that runs for `s` seconds: one benchmark run of sleep. */
const sleeper = (s: number) => JSON.stringify({ command: ['sleep', String(s)], scheduler: 'default', repeats: 1, warmup: 0, timeout_s: 120 });
const backgroundPid = (stderr: string) => Number(/background tuneloop server \(pid (\d+)\)/.exec(stderr)?.[1]);
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers.filter(isAlive)) process.kill(pid, 'SIGTERM');
});

describe('call --timeout and --no-follow', () => {
  it('--timeout bounds the whole command, first call included, and leaves the job running where it can be polled and canceled', async () => {
    const r = tuneloop(['call', 'benchmark_workload', sleeper(61), '--timeout', '8']);
    // Before: the first call waited the tool's default wait_s (20 s), and the job died with the command.
    expect(r.elapsedMs).toBeLessThan(18_000);
    expect(r.status).toBe(3);
    const view = JSON.parse(r.stdout) as { job_id: string; status: string };
    expect(view.status).toBe('running');
    expect(r.stderr).toMatch(/--timeout \(8 s\) passed; job job-\S+ keeps running in a background tuneloop server \(pid \d+\), which exits when the job ends/);
    expect(r.stderr).toContain(`tuneloop call job_cancel '{"job_id": "${view.job_id}"}'`);
    const pid = backgroundPid(r.stderr);
    leftovers.push(pid);
    expect(isAlive(pid)).toBe(true);
    expect(pidsMatching('sleep 61').length).toBeGreaterThan(0); // the workload (under GNU time)

    const polled = tuneloop(['call', 'job_status', JSON.stringify({ job_id: view.job_id, wait_s: 0 }), '--no-follow']);
    expect(polled.status).toBe(0);
    expect(JSON.parse(polled.stdout)).toMatchObject({ job_id: view.job_id, status: 'running' });

    const canceled = tuneloop(['call', 'job_cancel', JSON.stringify({ job_id: view.job_id })]);
    expect(canceled.status).toBe(0);
    expect(JSON.parse(canceled.stdout)).toMatchObject({ status: 'canceled' });
    // The background server exits once its job has ended, leaving nothing behind.
    expect(await waitFor(() => !isAlive(pid), 15_000)).toBe(true);
    expect(pidsMatching('sleep 61')).toEqual([]);
  });

  it('--no-follow returns the first answer with exit 0 and the job keeps running', async () => {
    const r = tuneloop(['call', 'benchmark_workload', JSON.stringify({ ...JSON.parse(sleeper(62)), wait_s: 0 }), '--no-follow']);
    expect(r.status).toBe(0);
    const view = JSON.parse(r.stdout) as { job_id: string; status: string };
    expect(view.status).toBe('running');
    const pid = backgroundPid(r.stderr);
    leftovers.push(pid);
    expect(r.stderr).toContain(`tuneloop call job_status '{"job_id": "${view.job_id}"}'`);
    expect(isAlive(pid)).toBe(true);
    // A canceled job is the job's own answer "did not happen": job_status then exits 1, cause first.
    expect(tuneloop(['call', 'job_cancel', JSON.stringify({ job_id: view.job_id })]).status).toBe(0);
    const after = tuneloop(['call', 'job_status', JSON.stringify({ job_id: view.job_id, wait_s: 0 })]);
    expect(after.status).toBe(1);
    expect(after.stderr.split('\n')[0]).toBe('Canceled by job_cancel.');
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'canceled' });
    expect(await waitFor(() => !isAlive(pid), 15_000)).toBe(true);
  });

  it('--timeout stops a non-job tool that has not answered, and says nothing is left running', () => {
    const r = tuneloop(['call', 'system_snapshot', '{"sample_ms": 5000}', '--timeout', '1']);
    expect(r.elapsedMs).toBeLessThan(12_000);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/--timeout \(1 s\) passed before system_snapshot answered; the call was stopped and nothing is left running/);
  });
});

describe('usage errors and failed actions', () => {
  it('an unknown tool exits 2 naming the closest tools; a tool hidden by a flag names the flag', () => {
    const typo = tuneloop(['call', 'get_histroy']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/Unknown tool "get_histroy"\. Did you mean get_history/);
    expect(typo.stderr).toMatch(/Remedy: Run `tuneloop tools`/);
    const hidden = tuneloop(['call', 'nccl_env', '{"action":"list"}', '--read-only']);
    expect(hidden.status).toBe(2);
    expect(hidden.stderr).toMatch(/Tool "nccl_env" is not served here: it is not read-only and --read-only is set[\s\S]*Remedy: Drop --read-only/);
  });

  it('build_scheduler on a source that does not compile exits 1 with the compiler\'s first error as the first line', () => {
    const source = readFileSync(join(FIXTURES, 'broken.bpf.c'), 'utf8');
    const r = tuneloop(['call', 'build_scheduler', JSON.stringify({ name: 'tl_cli_broken', source, wait_s: 50 })]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^scheduler\.bpf\.c:10:\d+: error: use of undeclared identifier 'SHARED_DQ'/);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', result: { verdict: 'failed', compile: { ok: false } } });
  });

  it('run_scheduler whose scheduler exits before attaching exits 1 with the binary\'s error line first', () => {
    const host = fakeHost();
    const r = tuneloop(['call', 'run_scheduler', '{"scheduler": "scx_rusty", "attach_timeout_s": 10}'], { ...host.env, FAKE_SCX_MODE: 'fail-attach' });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('scx_rusty did not attach: Error: Failed to load BPF program');
    expect(JSON.parse(r.stdout)).toMatchObject({ execution: { status: 'failed' } });
    expect(host.read('state')).toBe('disabled');
  });
});

describe('tools --json, doctor, protocol errors', () => {
  it('tools --json shows exactly what tools/list serves', async () => {
    for (const flags of [[], ['--read-only']]) {
      const { client } = await startStdioServer(['serve', ...flags], { TUNELOOP_HOME: tempDir() });
      const live = (await client.listTools()).tools;
      await client.close();
      const cli = JSON.parse(tuneloop(['tools', '--json', ...flags]).stdout) as { toolset: string }[];
      expect(cli.map(({ toolset: _, ...rest }) => rest)).toEqual(live);
    }
  });

  it('doctor starts with its first section and counts a check shared by toolsets once', () => {
    const text = tuneloop(['doctor']).stdout;
    expect(text.startsWith('[')).toBe(true);
    const rows = JSON.parse(tuneloop(['doctor', '--json']).stdout) as { name: string; ok: boolean }[];
    const names = new Map(rows.map((r) => [r.name, r.ok]));
    expect(rows.filter((r) => r.name === 'nvidia-smi').length).toBe(2); // observe and nccl both need it
    expect(text).toMatch(new RegExp(`\\n\\d+ of ${names.size} checks pass\\.\\n$`));
  });

  it('protocol errors carry "MCP error -32602" once, and an unknown job is the caller\'s error with its remedy', async () => {
    const { client } = await startStdioServer(['serve'], { TUNELOOP_HOME: tempDir() });
    try {
      await expect(client.readResource({ uri: 'tuneloop://nope' })).rejects.toThrow(/^MCP error -32602: Resource tuneloop:\/\/nope not found$/);
      await expect(client.readResource({ uri: 'tuneloop://jobs/job-nope/log' })).rejects.toThrow(/^MCP error -32602: No job with id "job-nope"\.\nRemedy:/);
    } finally {
      await client.close();
    }
  });
});
