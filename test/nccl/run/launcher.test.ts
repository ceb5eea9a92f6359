/** Launcher command lines (the real launchers run in launchers.test.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLaunch, type LauncherSpec } from '../../../src/nccl/run/launcher.js';
import { buildTestArgs, expectedRows, parseSize, plannedSizes } from '../../../src/nccl/run/test-args.js';
import { testConfig } from '../../helpers/runtime.js';
import { tempDir } from '../../helpers/tmp.js';

// Fake launcher binaries so the argv can be built on any machine.
const bin = tempDir();
for (const name of ['mpirun', 'srun', 'mpiexec.mpich']) writeFileSync(join(bin, name), '#!/bin/sh\n', { mode: 0o755 });
const config = { ...testConfig(), binPath: [bin] };
const program = ['/opt/nccl-tests/build/all_reduce_perf', '-b', '8', '-e', '128M', '-g', '1'];
const user = { isRoot: false, cpus: 2 };

describe('buildLaunch', () => {
  it('local runs the program as is', () => {
    expect(buildLaunch({ launcher: 'local' }, config, program, ['NCCL_ALGO']).argv).toEqual(program);
  });

  it('mpirun: ranks, hosts, ranks per node, -x per variable, tagged output', () => {
    const plan = buildLaunch({ launcher: 'mpirun', ranks: 16, ranks_per_node: 8, hosts: ['a:8', 'b:8'] }, config, program, ['NCCL_ALGO', 'NCCL_PROTO'], user);
    expect(plan.argv).toEqual([join(bin, 'mpirun'), '-np', '16', '--host', 'a:8,b:8', '-N', '8', '--tag-output', '-x', 'NCCL_ALGO', '-x', 'NCCL_PROTO', ...program]);
    expect(plan).toMatchObject({ processes: 16, nodes: 2 });
  });

  it('mpirun as root adds --allow-run-as-root; more local ranks than cores adds --oversubscribe', () => {
    const plan = buildLaunch({ launcher: 'mpirun', ranks: 4 }, config, program, [], { isRoot: true, cpus: 2 });
    expect(plan.argv.slice(1, 6)).toEqual(['-np', '4', '--allow-run-as-root', '--oversubscribe', '--tag-output']);
    expect(plan.notes.join(' ')).toMatch(/4 ranks on 2 local cores/);
    // With hosts, the slots are the cluster's business.
    expect(buildLaunch({ launcher: 'mpirun', ranks: 4, hosts: ['a', 'b'] }, config, program, [], user).argv).not.toContain('--oversubscribe');
    expect(buildLaunch({ launcher: 'mpirun', ranks: 4, oversubscribe: false }, config, program, [], user).argv).not.toContain('--oversubscribe');
  });

  it('mpiexec (MPICH Hydra by its own name): -n, -ppn, --hostfile, -genvlist, rank prefixes', () => {
    const plan = buildLaunch({ launcher: 'mpiexec', ranks: 16, ranks_per_node: 8, hostfile: '/var/spool/pbs/aux/1234.pbs01' }, config, program, ['NCCL_ALGO', 'NCCL_IB_HCA'], user);
    expect(plan.argv).toEqual([
      join(bin, 'mpiexec.mpich'), '-n', '16', '-ppn', '8', '--hostfile', '/var/spool/pbs/aux/1234.pbs01', '-genvlist', 'NCCL_ALGO,NCCL_IB_HCA', '-prepend-rank', ...program,
    ]);
    expect(plan).toMatchObject({ processes: 16, nodes: null });
    const hosts = buildLaunch({ launcher: 'mpiexec', ranks_per_node: 4, hosts: ['a:4', 'b:4'] }, config, program, [], { isRoot: true, cpus: 1 });
    expect(hosts.argv).toEqual([join(bin, 'mpiexec.mpich'), '-n', '8', '-ppn', '4', '-hosts', 'a:4,b:4', '-prepend-rank', ...program]);
    expect(hosts.argv).not.toContain('--allow-run-as-root');
    // Never a plain mpiexec, which is Open MPI's where both are installed.
    const openmpiOnly = tempDir();
    writeFileSync(join(openmpiOnly, 'mpiexec'), '#!/bin/sh\n', { mode: 0o755 });
    expect(() => buildLaunch({ launcher: 'mpiexec', ranks: 2 }, { ...config, binPath: [openmpiOnly] }, program, [])).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^mpiexec\.hydra was not found/), hint: expect.stringMatching(/apt-get install mpich/) }),
    );
  });

  it('srun: nodes, tasks per node, partition, gpus per task, mpi plugin, --export by name, labels', () => {
    const plan = buildLaunch(
      { launcher: 'srun', nodes: 2, ranks_per_node: 8, partition: 'gpu', gpus_per_task: 1, mpi_plugin: 'pmix', launcher_args: ['--exclusive'] },
      config,
      program,
      ['NCCL_ALGO', 'NCCL_MIN_CTAS'],
    );
    expect(plan.argv).toEqual([
      join(bin, 'srun'), '-N', '2', '--ntasks-per-node=8', '-p', 'gpu', '--gpus-per-task=1', '--mpi=pmix',
      '--export=ALL,NCCL_ALGO,NCCL_MIN_CTAS', '--label', '--kill-on-bad-exit=1', '--job-name=tuneloop-nccl-tests', '--exclusive', ...program,
    ]);
    expect(plan).toMatchObject({ processes: 16, nodes: 2 });
  });

  it.each<[LauncherSpec, RegExp]>([
    [{ launcher: 'local', ranks: 2 }, /ranks does not apply to launcher "local"/],
    [{ launcher: 'mpirun', ranks: 2, partition: 'gpu' }, /partition does not apply to launcher "mpirun"/],
    [{ launcher: 'srun', ranks: 2, hosts: ['a'] }, /hosts does not apply to launcher "srun"/],
    [{ launcher: 'mpirun' }, /needs ranks/],
    [{ launcher: 'srun' }, /needs ranks \(srun -n\) or nodes/],
    [{ launcher: 'mpirun', ranks: 2, hosts: ['a'], hostfile: '/h' }, /hosts and hostfile are both set/],
    [{ launcher: 'mpiexec' }, /launcher "mpiexec" needs ranks \(mpiexec -n\)/],
    [{ launcher: 'mpiexec', ranks: 2, oversubscribe: true }, /oversubscribe does not apply to launcher "mpiexec"/],
  ])('refuses %j', (spec, message) => {
    expect(() => buildLaunch(spec, config, program, [])).toThrow(message);
  });

  it('says how to install a missing launcher', () => {
    const empty = tempDir();
    mkdirSync(join(empty, 'x'));
    expect(() => buildLaunch({ launcher: 'srun', ranks: 2 }, { ...config, binPath: [empty] }, program, [])).toThrow(/srun was not found/);
  });
});

describe('nccl-tests arguments', () => {
  it('parses sizes with K/M/G suffixes and plans the size loop like nccl-tests', () => {
    expect(parseSize('128M', 'max_bytes')).toBe(134217728);
    expect(parseSize(8, 'min_bytes')).toBe(8);
    expect(() => parseSize('1.5M', 'min_bytes')).toThrow(/min_bytes "1.5M" is not a size/);
    expect(plannedSizes({ min_bytes: '1K', max_bytes: '16K', step_factor: 2, gpus_per_process: 1 })).toEqual([1024, 2048, 4096, 8192, 16384]);
    expect(plannedSizes({ min_bytes: '1M', max_bytes: '3M', step_bytes: '1M', gpus_per_process: 1 })).toEqual([1048576, 2097152, 3145728]);
    expect(expectedRows({ min_bytes: 8, max_bytes: 64, step_factor: 2, gpus_per_process: 1, datatype: 'all' })).toBeUndefined();
    expect(() => plannedSizes({ min_bytes: '2M', max_bytes: '1M', gpus_per_process: 1 })).toThrow(/below min_bytes/);
    expect(() => plannedSizes({ min_bytes: 1, max_bytes: '8G', step_bytes: 1, gpus_per_process: 1 })).toThrow(/more than 4096 sizes/);
  });

  it('builds the flags', () => {
    expect(buildTestArgs({ min_bytes: '8', max_bytes: '1M', step_factor: 2, gpus_per_process: 2, iters: 5, check: 0, op: 'max', datatype: 'half', test_timeout_s: 30 })).toEqual([
      '-b', '8', '-e', '1048576', '-f', '2', '-g', '2', '-n', '5', '-c', '0', '-o', 'max', '-d', 'half', '-T', '30',
    ]);
  });
});
