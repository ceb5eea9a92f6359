/**
 * Slow: mpirun, mpiexec and srun start one process per rank, for real.
 * The real launchers: Open MPI's mpirun, MPICH's mpiexec (Hydra) and Slurm's srun (a one-node
 * cluster started by .ci/setup.d/20-nccl.sh), running the fake nccl-tests as one process per rank. Every rank proves
 * the NCCL environment reached it; rank 0's table must be parsed. These skip, saying why, only
 * where the launcher is genuinely unavailable.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.js';
import { findBinary, probeSlurm } from '../../../src/core/probe.js';
import { isAlive, waitFor } from '../../helpers/proc.js';
import { connectInMemory, textOf } from '../../helpers/runtime.js';
import { tempDir } from '../../helpers/tmp.js';
import { FAKE_BIN } from '../fake.js';

const config = loadConfig({}, { PATH: process.env.PATH });
const mpirun = findBinary('mpirun', config.binPath);
const hydra = findBinary('mpiexec.hydra', config.binPath) ?? findBinary('mpiexec.mpich', config.binPath);
const slurm = await probeSlurm(config);
if (!mpirun) process.stdout.write('launchers.test: skipping mpirun tests: mpirun is not installed (apt-get install openmpi-bin)\n');
if (!hydra) process.stdout.write("launchers.test: skipping mpiexec tests: MPICH's mpiexec.hydra is not installed (apt-get install mpich)\n");
if (!slurm.ok) process.stdout.write(`launchers.test: skipping srun tests: ${slurm.detail} (${slurm.remedy ?? ''}; .ci/setup.d/20-nccl.sh starts a one-node cluster)\n`);

const { call } = await connectInMemory({ TUNELOOP_NCCL_TESTS_DIR: FAKE_BIN });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as any;
const test = { min_bytes: '1K', max_bytes: '16M', step_factor: 4, iters: 2 };
// A value with commas, semicolons and colons: it must arrive intact on every rank.
const ncclEnv = { NCCL_ALGO: 'ring,tree;allreduce:tree', NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' };
/** What reaches the ranks: the validated, normalized spelling. */
const normalized = { NCCL_ALGO: 'Ring,Tree;AllReduce:Tree', NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' };

/** A failed run is an error that still carries the run (issue 9 section 4). */
async function launch(args: Record<string, unknown>) {
  const r = await call('run_nccl_tests', { wait_s: 50, timeout_s: 120, ...test, ...args });
  const result = sc(r)?.result;
  expect(result, textOf(r)).toBeDefined();
  expect(Boolean(r.isError), textOf(r)).toBe(result.status !== 'ok');
  return result;
}

function proofs(dir: string): { rank: number; launcher: string; pid: number; nccl_env: Record<string, string> }[] {
  return readdirSync(dir)
    .filter((f) => /^rank-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .sort((a, b) => a.rank - b.rank);
}

describe.skipIf(!mpirun)('mpirun', () => {
  it('runs one rank per process with the environment passed by -x, and parses rank 0\'s table', async () => {
    const dir = tempDir();
    const r = await launch({ launcher: 'mpirun', ranks: 2, env: { ...ncclEnv, FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('ok');
    expect(r.argv).toEqual(expect.arrayContaining(['-np', '2', '--tag-output', '-x', 'NCCL_ALGO', '-x', 'FAKE_NCCL_TESTS_RANK_DIR']));
    if (process.getuid?.() === 0) expect(r.argv).toContain('--allow-run-as-root');
    const ranks = proofs(dir);
    expect(ranks.map((p) => [p.rank, p.launcher])).toEqual([[0, 'mpirun'], [1, 'mpirun']]);
    for (const p of ranks) expect(p.nccl_env).toEqual(normalized);
    expect(new Set(ranks.map((p) => p.pid)).size).toBe(2);
    expect(r.topology).toMatchObject({ ranks: 2, nodes: 1 });
    expect(r.topology.devices.map((d: { pid: number }) => d.pid)).toEqual(ranks.map((p) => p.pid));
    expect(r.rows_total).toBe(8);
    expect(r.objective.value).toBeGreaterThan(0);
  });

  it('adds --oversubscribe when a local run has more ranks than cores', async () => {
    const dir = tempDir();
    const n = cpus().length + 1;
    const r = await launch({ launcher: 'mpirun', ranks: n, max_bytes: '4K', env: { FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.argv).toContain('--oversubscribe');
    expect(r.launcher_notes.join(' ')).toMatch(/--oversubscribe added/);
    expect(proofs(dir)).toHaveLength(n);
    expect(r.status).toBe('ok');
  });

  it('a rank failing with an NCCL error fails the run, with Open MPI\'s report', async () => {
    const dir = tempDir();
    const r = await launch({ launcher: 'mpirun', ranks: 2, env: { FAKE_NCCL_TESTS_FAIL: 'nccl', FAKE_NCCL_TESTS_FAIL_RANK: '1', NCCL_DEBUG: 'WARN', FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('failed');
    expect(r.exit.code).toBe(3);
    expect(r.nccl_warnings[0]).toMatch(/^\[rank 1\] NET\/IB : Got completion/);
    expect(r.failures.map((f: { kind: string }) => f.kind)).toEqual(expect.arrayContaining(['nccl', 'launcher']));
    const pids = proofs(dir).map((p) => p.pid);
    expect(pids).toHaveLength(2);
    expect(await waitFor(() => !pids.some(isAlive), 10_000)).toBe(true);
  });
});

describe.skipIf(!hydra)('mpiexec (MPICH Hydra)', () => {
  it('runs one rank per process from a PBS-style hostfile, the environment passed by -genvlist, and parses rank 0\'s prefixed table', async () => {
    const dir = tempDir();
    // $PBS_NODEFILE lists a host once per slot.
    const nodefile = join(tempDir(), 'nodefile');
    writeFileSync(nodefile, 'localhost\nlocalhost\n');
    const r = await launch({ launcher: 'mpiexec', ranks: 2, ranks_per_node: 2, hostfile: nodefile, env: { ...ncclEnv, FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('ok');
    expect(r.argv[0]).toMatch(/mpiexec\.(hydra|mpich)$/);
    expect(r.argv).toEqual(expect.arrayContaining(['-n', '2', '-ppn', '2', '--hostfile', nodefile, '-genvlist', 'FAKE_NCCL_TESTS_RANK_DIR,NCCL_ALGO,NCCL_MIN_CTAS,NCCL_PROTO', '-prepend-rank']));
    const ranks = proofs(dir);
    expect(ranks.map((p) => [p.rank, p.launcher])).toEqual([[0, 'pmi'], [1, 'pmi']]);
    for (const p of ranks) expect(p.nccl_env).toEqual(normalized);
    expect(new Set(ranks.map((p) => p.pid)).size).toBe(2);
    expect(r.topology).toMatchObject({ ranks: 2, nodes: 1 });
    expect(r.topology.devices.map((d: { pid: number }) => d.pid)).toEqual(ranks.map((p) => p.pid));
    expect(r.rows_total).toBe(8);
  });

  it('a rank failing with a CUDA error fails the run with its exit code', async () => {
    const dir = tempDir();
    const r = await launch({ launcher: 'mpiexec', ranks: 2, env: { FAKE_NCCL_TESTS_FAIL: 'cuda', FAKE_NCCL_TESTS_FAIL_RANK: '1', FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('failed');
    expect(r.exit.code).toBe(2);
    expect(r.failures.map((f: { kind: string }) => f.kind)).toContain('cuda');
    const pids = proofs(dir).map((p) => p.pid);
    expect(pids).toHaveLength(2);
    expect(await waitFor(() => !pids.some(isAlive), 10_000)).toBe(true);
  });
});

describe.skipIf(!slurm.ok)('srun', () => {
  it('runs one task per rank with the environment passed by --export, and parses rank 0\'s labelled table', async () => {
    const dir = tempDir();
    const r = await launch({ launcher: 'srun', ranks: 2, env: { ...ncclEnv, FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('ok');
    expect(r.argv).toEqual(expect.arrayContaining(['-n', '2', '--label', '--kill-on-bad-exit=1']));
    expect(r.argv.find((a: string) => a.startsWith('--export='))).toBe('--export=ALL,FAKE_NCCL_TESTS_RANK_DIR,NCCL_ALGO,NCCL_MIN_CTAS,NCCL_PROTO');
    const ranks = proofs(dir);
    expect(ranks.map((p) => [p.rank, p.launcher])).toEqual([[0, 'srun'], [1, 'srun']]);
    for (const p of ranks) expect(p.nccl_env).toEqual(normalized);
    expect(r.topology).toMatchObject({ ranks: 2, nodes: 1 });
    expect(r.rows_total).toBe(8);
    expect(r.rows[0]).toMatchObject({ size: 1024, redop: 'sum', root: -1 });
  });

  it('a failing task ends the step (--kill-on-bad-exit) and the run says why', async () => {
    const dir = tempDir();
    const r = await launch({ launcher: 'srun', ranks: 2, env: { FAKE_NCCL_TESTS_FAIL: 'cuda', FAKE_NCCL_TESTS_FAIL_RANK: '1', FAKE_NCCL_TESTS_RANK_DIR: dir } });
    expect(r.status).toBe('failed');
    // srun exits with the worst task status: rank 1's CUDA error (2), or 143 for rank 0 killed by
    // SIGTERM when the step was ended, depending on which Slurm reports.
    expect([2, 143]).toContain(r.exit.code);
    expect(r.exit.meaning).toMatch(/CUDA error|killed by SIGTERM/);
    expect(r.failures.map((f: { kind: string }) => f.kind)).toEqual(expect.arrayContaining(['cuda', 'launcher']));
    const pids = proofs(dir).map((p) => p.pid);
    expect(pids).toHaveLength(2);
    expect(await waitFor(() => !pids.some(isAlive), 10_000)).toBe(true);
  });
});
