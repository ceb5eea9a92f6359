/**
 * Slow: every case runs the built CLI, which starts a real server process and follows a real job.
 * The NCCL tools through `tuneloop call` (built dist/cli.js, a real stdio server): the path the
 * README examples use. The job is followed to completion by the CLI.
 */
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../../src/core/exec.js';
import { CLI } from '../../helpers/stdio.js';
import { tempDir } from '../../helpers/tmp.js';
import { FAKE_BIN } from '../fake.js';

const home = tempDir();
const tuneloop = (...args: string[]) =>
  runCommand([process.execPath, CLI, ...args], { timeoutMs: 120_000, env: { TUNELOOP_HOME: home, TUNELOOP_NCCL_TESTS_DIR: FAKE_BIN } });

describe('tuneloop call', () => {
  it('saves a profile, runs nccl-tests with it, and finds the run in history', async () => {
    const saved = await tuneloop('call', 'nccl_env', JSON.stringify({ action: 'save', name: 'simple16', env: { NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' } }));
    expect(saved.exitCode, saved.stderr).toBe(0);

    const run = await tuneloop('call', 'run_nccl_tests', JSON.stringify({ profile: 'simple16', min_bytes: '1M', max_bytes: '64M', gpus_per_process: 2, wait_s: 1 }));
    expect(run.exitCode, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout);
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ status: 'ok', env: { NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' }, topology: { ranks: 2 } });

    const history = await tuneloop('call', 'get_history', JSON.stringify({ domain: 'nccl' }));
    expect(JSON.parse(history.stdout).runs[0]).toMatchObject({ id: job.result.run_id, config: { NCCL_MIN_CTAS: '16', NCCL_PROTO: 'Simple' } });
  });

  it('exits 1 with the remedy when the binary is missing', async () => {
    const r = await tuneloop('call', 'run_nccl_tests', JSON.stringify({ collective: 'alltoall', binary_suffix: '_cuda13' }));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/alltoall_perf_cuda13 was not found[\s\S]*Remedy:/);
  });
});
