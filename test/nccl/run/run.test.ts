/**
 * Slow: real child processes, including hangs that must be killed at timeout_s.
 *
 * run_nccl_tests through MCP against the fake nccl-tests family (real child processes, real
 * SQLite): JSON and text paths, suffixes, history, and every failure the issue lists.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '../../helpers/proc.js';
import { connectInMemory, textOf } from '../../helpers/runtime.js';
import { tempDir } from '../../helpers/tmp.js';
import { FAKE_BIN, FAKE_SCRIPT, installFake } from '../fake.js';

const old = installFake({ version: '2.11.0' });
const suffixed = installFake({ suffix: '_mpi' });
const { call } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: FAKE_BIN });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as any;
/** A run that is not ok is a failed action (issue 9 section 4): an error that still carries the run, nccl-tests' failure line first. */
const run = async (args: Record<string, unknown>) => {
  const r = await call('run_nccl_tests', { wait_s: 50, ...args });
  const result = sc(r)?.result;
  expect(result, textOf(r)).toBeDefined();
  const failed = result.status !== 'ok';
  expect(Boolean(r.isError), textOf(r)).toBe(failed);
  expect(sc(r).status, textOf(r)).toBe(failed ? 'failed' : 'succeeded');
  const line = result.failures.find((f: { kind: string }) => f.kind !== 'min_bw')?.line;
  if (failed && line) expect(textOf(r).split('\n')[0]).toBe(line);
  return result;
};
const small = { min_bytes: '1K', max_bytes: '64M', step_factor: 4, gpus_per_process: 2, iters: 2 };

afterEach(() => {
  delete process.env.NCCL_PROTO;
});

describe('a local run', () => {
  it('parses the JSON output, computes the objective, and records the run with versions and topology', async () => {
    const r = await run({ ...small, env: { NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' } });
    expect(r.status).toBe('ok');
    expect(r.output_format).toBe('json');
    expect(r.table_format).toBe('current');
    expect(r.rows_total).toBe(9);
    expect(r.versions).toEqual({ nccl_tests: '2.19.4', nccl: '2.27.3' });
    expect(r.topology).toMatchObject({ nodes: 1, ranks: 2, gpus: 2, gpu_models: ['NVIDIA H100 80GB HBM3'] });
    expect(r.exit).toMatchObject({ code: 0, meaning: 'success', timed_out: false });
    expect(r.out_of_bounds).toEqual({ count: 0, ok: true });
    expect(r.objective.band).toBe('large');
    const large = r.rows.filter((row: { size: number }) => row.size >= 16 << 20);
    const mean = large.reduce((s: number, row: { out_of_place: { busbw_gbps: number } }) => s + row.out_of_place.busbw_gbps, 0) / large.length;
    expect(r.objective.value).toBeCloseTo(mean, 9);
    // The JSON file is kept, scrubbed of the environment.
    const json = JSON.parse(readFileSync(r.artifacts.json_file, 'utf8'));
    expect(json.env.sort()).toEqual(['NCCL_MIN_CTAS=16', 'NCCL_PROTO=Simple']);
    expect(readFileSync(r.artifacts.json_file, 'utf8')).not.toContain('PATH=');

    const history = sc(await call('get_history', { domain: 'nccl', include_context: true }));
    const recorded = history.runs.find((x: { id: number }) => x.id === r.run_id);
    expect(recorded).toMatchObject({ status: 'ok', primary_metric: 'busbw_gbps', direction: 'higher', config: { NCCL_MIN_CTAS: '16', NCCL_PROTO: 'Simple' } });
    expect(recorded.metrics.busbw_gbps).toBeCloseTo(r.objective.value, 9);
    expect(recorded.context).toMatchObject({ nodes: 1, ranks: 2, gpus: 2, nccl_version: '2.27.3', nccl_tests_version: '2.19.4', collective: 'all_reduce', launcher: 'local' });
  });

  it('falls back to the text table for a build without -J (pre-2.13 format)', async () => {
    const { call: callOld } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: old });
    const r = sc(await callOld('run_nccl_tests', { wait_s: 50, ...small, collective: 'broadcast' })).result;
    expect(r.status).toBe('ok');
    expect(r.output_format).toBe('text');
    expect(r.table_format).toBe('pre-2.13');
    expect(r.argv).not.toContain('-J');
    expect(r.rows[0]).toMatchObject({ size: 1024, redop: null, root: 0 });
    expect(r.versions.nccl_tests).toBeNull();
    const refused = await callOld('run_nccl_tests', { wait_s: 50, ...small, json: 'on' });
    expect(textOf(refused)).toMatch(/has no -J option/);
  });

  it('honours a binary suffix, and prefers _mpi builds for multi-process launchers', async () => {
    const { call: callSuffixed } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: suffixed });
    const r = sc(await callSuffixed('run_nccl_tests', { wait_s: 50, ...small, binary_suffix: '_mpi' })).result;
    expect(r.binary).toBe(join(suffixed, 'all_reduce_perf_mpi'));
    expect(r.status).toBe('ok');
    const missing = await callSuffixed('run_nccl_tests', { ...small, collective: 'reduce' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/reduce_perf or reduce_perf_mpi was not found[\s\S]*Remedy: build nccl-tests/);
  });

  it("reports what NCCL chose per size when asked to log it", async () => {
    const r = await run({ ...small, log_nccl_choices: true });
    expect(r.env).toMatchObject({ NCCL_DEBUG: 'INFO', NCCL_DEBUG_SUBSYS: 'INIT,TUNING' });
    expect(r.channels).toEqual({ coll: 8, collnet: 8, nvls: 0, p2p: 8 });
    expect(r.nccl_choices).toHaveLength(9);
    // Small messages run on fewer channels than the communicator has: the per-call line says so.
    expect(r.nccl_choices[0]).toEqual({ collective: 'AllReduce', bytes: 1024, algorithm: 'Tree', protocol: 'LL128', channels: 1, calls: 6, mixed: false });
    expect(r.nccl_choices.at(-1)).toMatchObject({ bytes: 67108864, algorithm: 'Ring', protocol: 'LL128', channels: 8 });
    // NCCL 2.20-2.23 print numeric ids and no channels.
    const old = await run({ ...small, log_nccl_choices: true, env: { FAKE_NCCL_VERSION: '2.22.3' } });
    expect(old.nccl_choices[0]).toMatchObject({ collective: null, bytes: 1024, algorithm: 'Tree', protocol: 'LL128', channels: null });
  });

  it("removes the server's own NCCL_* variables unless inherit_env, and says so", async () => {
    process.env.NCCL_PROTO = 'LL';
    const ranks = tempDir();
    const r = await run({ ...small, max_bytes: '4K', env: { FAKE_NCCL_TESTS_RANK_DIR: ranks } });
    expect(r.env_dropped).toEqual(['NCCL_PROTO']);
    expect(JSON.parse(readFileSync(join(ranks, 'rank-0.json'), 'utf8')).nccl_env).toEqual({});
    const kept = await run({ ...small, max_bytes: '4K', env: { FAKE_NCCL_TESTS_RANK_DIR: ranks }, inherit_env: true });
    expect(kept.env_dropped).toEqual([]);
    expect(JSON.parse(readFileSync(join(ranks, 'rank-0.json'), 'utf8')).nccl_env).toEqual({ NCCL_PROTO: 'LL' });
  });
});

/** A directory of all_reduce_perf wrappers running the fake through a shell pipeline `tail`. */
function wrapped(tail: string): string {
  const dir = tempDir('tuneloop-fake-nccl-');
  writeFileSync(join(dir, 'all_reduce_perf'), `#!/bin/sh\nnode "${FAKE_SCRIPT}" all_reduce_perf "$@" ${tail}\n`, { mode: 0o755 });
  return dir;
}

describe('runs nccl-tests cut to fit GPU memory', () => {
  it('"# Reducing maxBytes to ...": a complete run with fewer sizes is ok and not truncated', async () => {
    const r = await run({ ...small, max_bytes: '4G', env: { FAKE_NCCL_TESTS_GPU_MEM: String(4 * 2 ** 30) } });
    // nccl-tests 2.19.4: (4 GiB - 1 GiB reserve - 1 GiB) / 3 buffers.
    expect(r.size_range).toEqual({ requested_max_bytes: 4 * 2 ** 30, measured_max_bytes: 256 * 2 ** 20, reduced: 'announced', reduced_to: 715827882 });
    expect(r).toMatchObject({ status: 'ok', truncated: false });
    expect(r.rows_total).toBe(10);
    expect(r.summary).toMatch(/lowered the largest size to 715827882 bytes .*Reducing maxBytes.* requested 4294967296/);
  });

  it('a release that lowers it without a word: still complete, reported as silent', async () => {
    const dir = wrapped("| grep -v 'Reducing maxBytes'");
    const { call: quiet } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: dir });
    const res = await quiet('run_nccl_tests', { wait_s: 50, ...small, max_bytes: '4G', json: 'off', env: { FAKE_NCCL_TESTS_GPU_MEM: String(4 * 2 ** 30) } });
    const r = sc(res).result;
    expect(r).toMatchObject({ status: 'ok', truncated: false, size_range: { reduced: 'silent', reduced_to: 256 * 2 ** 20 } });
  });

  it('before nccl-tests 2.10 a size past GPU memory is a CUDA out-of-memory failure', async () => {
    const r = await run({ ...small, max_bytes: '4G', json: 'off', env: { FAKE_NCCL_TESTS_VERSION: '2.9.0', FAKE_NCCL_TESTS_GPU_MEM: String(4 * 2 ** 30) } });
    expect(r).toMatchObject({ status: 'failed', exit: { code: 2 } });
    expect(r.failures[0]).toMatchObject({ kind: 'cuda', line: expect.stringMatching(/out of memory/) });
  });
});

describe('failures', () => {
  it('a FAILED footer makes the run invalid even when the exit code says 0 (e.g. behind a pipeline)', async () => {
    const dir = wrapped('; exit 0');
    const { call: piped } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: dir });
    const res = await piped('run_nccl_tests', { wait_s: 50, ...small, json: 'off', env: { FAKE_NCCL_TESTS_FAIL: 'wrong' } });
    const r = sc(res).result;
    expect(r.exit.code).toBe(0);
    expect(r.status).toBe('invalid');
    expect(r.out_of_bounds.ok).toBe(false);
    expect(r.summary).toMatch(/data check FAILED/);
  });

  it('refuses an invalid NCCL_ALGO before running, naming the token and a fix', async () => {
    const r = await call('run_nccl_tests', { ...small, env: { NCCL_ALGO: 'Rnig' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Unrecognized element "Rnig" in NCCL_ALGO.*\(suggestion: Ring\)[\s\S]*allow_invalid/);
  });

  it('with allow_invalid, NCCL itself fails: WARN + exit 3, recorded as a failed run', async () => {
    const r = await run({ ...small, env: { NCCL_ALGO: 'Rnig', NCCL_DEBUG: 'WARN' }, allow_invalid: true });
    expect(r.status).toBe('failed');
    expect(r.exit).toMatchObject({ code: 3, meaning: 'NCCL error' });
    expect(r.nccl_warnings).toEqual(['Unrecognized element token "Rnig" when parsing "Rnig"']);
    expect(r.failures[0]).toMatchObject({ kind: 'nccl' });
    expect(r.failures[0].line).toContain("'invalid usage (run with NCCL_DEBUG=WARN for details) / Unrecognized element token");
    expect(r.objective.value).toBeNull();
    const recorded = sc(await call('get_history', { domain: 'nccl', status: 'failed', include_context: true })).runs.find((x: { id: number }) => x.id === r.run_id);
    expect(recorded.config).toEqual({ NCCL_ALGO: 'Rnig' });
    expect(recorded.context.nccl_logging_env).toEqual({ NCCL_DEBUG: 'WARN' });
  });

  it('#wrong > 0 makes the run invalid (exit 7)', async () => {
    const r = await run({ ...small, env: { FAKE_NCCL_TESTS_FAIL: 'wrong' } });
    expect(r.status).toBe('invalid');
    expect(r.exit.code).toBe(7);
    expect(r.out_of_bounds.ok).toBe(false);
    expect(r.rows.find((row: { size: number }) => row.size === 4096).out_of_place.wrong).toBe(1024);
  });

  it('a bandwidth below NCCL_TESTS_MIN_BW is still a valid measurement', async () => {
    const r = await run({ ...small, env: { NCCL_TESTS_MIN_BW: '100000' } });
    expect(r).toMatchObject({ status: 'ok', avg_busbw_check: 'FAILED' });
    expect(r.exit.code).toBe(7);
    expect(r.failures.map((f: { kind: string }) => f.kind)).toEqual(['min_bw']);
  });

  it.each([
    ['cuda', 2, 'CUDA error', 'cuda'],
    ['nccl', 3, 'NCCL error', 'nccl'],
  ])('FAKE_NCCL_TESTS_FAIL=%s exits %i (%s)', async (mode, code, meaning, kind) => {
    const r = await run({ ...small, env: { FAKE_NCCL_TESTS_FAIL: mode, NCCL_DEBUG: 'WARN' } });
    expect(r.status).toBe('failed');
    expect(r.exit).toMatchObject({ code, meaning });
    expect(r.failures[0].kind).toBe(kind);
  });

  it('more GPUs than the node has: exit 5 with the line from stderr', async () => {
    const r = await run({ ...small, gpus_per_process: 9 });
    expect(r.exit).toMatchObject({ code: 5 });
    expect(r.failures[0]).toEqual({ kind: 'gpus', line: 'Invalid number of GPUs: 9 requested but only 8 were found.' });
  });

  it('a crash mid-table keeps the rows so far and reports the signal', async () => {
    const r = await run({ ...small, env: { FAKE_NCCL_TESTS_FAIL: 'crash' } });
    expect(r.status).toBe('failed');
    expect(r.exit).toMatchObject({ code: null, signal: 'SIGSEGV', meaning: 'killed by SIGSEGV' });
    expect(r.rows_total).toBe(4);
    expect(r.truncated).toBe(true);
    expect(r.output_format).toBe('text'); // the JSON file was never finished
    expect(readFileSync(join(r.artifacts.result_file, '..', 'nccl-tests.json'), 'utf8')).not.toContain('PATH=');
  });

  it("nccl-tests' own -T timeout: exit 4", async () => {
    const r = await run({ ...small, test_timeout_s: 1, env: { FAKE_NCCL_TESTS_FAIL: 'hang' } });
    expect(r.status).toBe('timeout');
    expect(r.exit.code).toBe(4);
    expect(r.failures.find((f: { kind: string }) => f.kind === 'timeout').line).toMatch(/Test timeout \(1s\)$/);
  });

  it('a hang past timeout_s: the process tree is killed and the run recorded as timeout', async () => {
    const marker = tempDir('tuneloop-hang-');
    const r = await run({ ...small, timeout_s: 5, env: { FAKE_NCCL_TESTS_FAIL: 'hang', FAKE_NCCL_TESTS_RANK_DIR: marker } });
    expect(r.status).toBe('timeout');
    expect(r.exit.timed_out).toBe(true);
    expect(r.rows_total).toBe(4);
    const { pid } = JSON.parse(readFileSync(join(marker, 'rank-0.json'), 'utf8'));
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    const recorded = sc(await call('get_history', { domain: 'nccl', status: 'timeout', include_context: true })).runs;
    expect(recorded.map((x: { id: number }) => x.id)).toContain(r.run_id);
  });

  it('job_cancel stops a slow run and leaves no process behind', async () => {
    const marker = tempDir('tuneloop-cancel-');
    const started = sc(await call('run_nccl_tests', { ...small, wait_s: 1, env: { FAKE_NCCL_TESTS_ROW_DELAY_MS: '1000', FAKE_NCCL_TESTS_RANK_DIR: marker } }));
    expect(started.status).toBe('running');
    expect(await waitFor(() => existsSync(join(marker, 'rank-0.json')), 10_000)).toBe(true);
    const { pid } = JSON.parse(readFileSync(join(marker, 'rank-0.json'), 'utf8'));
    expect(isAlive(pid)).toBe(true);
    const canceled = sc(await call('job_cancel', { job_id: started.job_id }));
    expect(canceled.status).toBe('canceled');
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
  });
});
