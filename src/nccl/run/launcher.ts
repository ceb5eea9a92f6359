/**
 * The command line that starts nccl-tests: directly (one process driving -g GPUs), through Open
 * MPI's mpirun, MPICH's mpiexec (Hydra, the launcher of PBS sites), or Slurm's srun. Users and
 * tests run this same code; on a real cluster only the hosts, partition and binaries differ.
 *
 * The NCCL environment is set in the launcher's own environment and named on its command line:
 * mpirun `-x NAME` exports the value to every rank (remote nodes included), Hydra
 * `-genvlist NAME,...` and srun `--export=ALL,NAME,...` do the same. Naming instead of writing
 * `NAME=value` keeps values with commas (NCCL_ALGO="ring,tree") intact, which the comma-separated
 * lists could not carry.
 */
import { cpus } from 'node:os';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { findBinary, requireBinary } from '../../core/probe.js';

export const LAUNCHERS = ['local', 'mpirun', 'mpiexec', 'srun'] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

export interface LauncherSpec {
  launcher: LauncherName;
  /** Total processes: mpirun -np, mpiexec -n, srun -n. */
  ranks?: number;
  /** srun -N. */
  nodes?: number;
  /** mpirun -N, mpiexec -ppn, srun --ntasks-per-node. */
  ranks_per_node?: number;
  /** mpirun --host / mpiexec -hosts entries ("node-a:8"). */
  hosts?: string[];
  hostfile?: string;
  oversubscribe?: boolean;
  partition?: string;
  gpus_per_task?: number;
  /** srun --mpi=<plugin> (pmix, pmi2 ...). */
  mpi_plugin?: string;
  /** Extra launcher arguments, placed after tuneloop's own. */
  launcher_args?: string[];
}

export interface LaunchPlan {
  argv: string[];
  /** Processes the launcher starts (nccl-tests ranks per process = threads x GPUs per thread). */
  processes: number | null;
  nodes: number | null;
  notes: string[];
}

const FIELDS_BY_LAUNCHER: Record<LauncherName, (keyof LauncherSpec)[]> = {
  local: [],
  mpirun: ['ranks', 'ranks_per_node', 'hosts', 'hostfile', 'oversubscribe', 'launcher_args'],
  mpiexec: ['ranks', 'ranks_per_node', 'hosts', 'hostfile', 'launcher_args'],
  srun: ['ranks', 'nodes', 'ranks_per_node', 'partition', 'gpus_per_task', 'mpi_plugin', 'launcher_args'],
};

export interface HostFacts {
  isRoot: boolean;
  cpus: number;
}

export function hostFacts(): HostFacts {
  return { isRoot: process.getuid?.() === 0, cpus: cpus().length };
}

/** Refuses fields that do not apply to the chosen launcher, naming them. */
export function checkLauncherSpec(spec: LauncherSpec): void {
  const allowed = FIELDS_BY_LAUNCHER[spec.launcher];
  const given = (Object.keys(spec) as (keyof LauncherSpec)[]).filter((k) => k !== 'launcher' && spec[k] !== undefined);
  const wrong = given.filter((k) => !allowed.includes(k));
  if (wrong.length) {
    throw new UserError(
      `${wrong.join(', ')} ${wrong.length > 1 ? 'do' : 'does'} not apply to launcher "${spec.launcher}".`,
      spec.launcher === 'local'
        ? 'A local run is one process driving gpus_per_process GPUs; use launcher "mpirun" or "srun" for several processes.'
        : `launcher "${spec.launcher}" takes: ${allowed.join(', ')}.`,
    );
  }
  if (spec.hosts && spec.hostfile) throw new UserError('hosts and hostfile are both set.', 'Give one of them.');
  if ((spec.launcher === 'mpirun' || spec.launcher === 'mpiexec') && spec.ranks === undefined && !(spec.ranks_per_node && spec.hosts?.length)) {
    const flag = spec.launcher === 'mpirun' ? 'mpirun -np' : 'mpiexec -n';
    throw new UserError(`launcher "${spec.launcher}" needs ranks (${flag}).`, 'Pass ranks, e.g. 16, or ranks_per_node with hosts.');
  }
  if (spec.launcher === 'srun' && spec.ranks === undefined && spec.nodes === undefined) {
    throw new UserError('launcher "srun" needs ranks (srun -n) or nodes (srun -N).', 'Pass ranks, or nodes with ranks_per_node.');
  }
}

export function buildLaunch(spec: LauncherSpec, config: Config, program: string[], envNames: string[], facts: HostFacts = hostFacts()): LaunchPlan {
  checkLauncherSpec(spec);
  if (spec.launcher === 'local') return { argv: program, processes: 1, nodes: 1, notes: [] };
  if (spec.launcher === 'mpirun') return mpirunPlan(spec, config, program, envNames, facts);
  if (spec.launcher === 'mpiexec') return mpiexecPlan(spec, config, program, envNames);
  return srunPlan(spec, config, program, envNames);
}

function mpirunPlan(spec: LauncherSpec, config: Config, program: string[], envNames: string[], facts: HostFacts): LaunchPlan {
  const mpirun = requireBinary('mpirun', config.binPath, 'launcher "mpirun"');
  const ranks = spec.ranks ?? spec.ranks_per_node! * spec.hosts!.length;
  const notes: string[] = [];
  const argv = [mpirun, '-np', String(ranks)];
  if (spec.hosts?.length) argv.push('--host', spec.hosts.join(','));
  if (spec.hostfile) argv.push('--hostfile', spec.hostfile);
  if (spec.ranks_per_node) argv.push('-N', String(spec.ranks_per_node));
  if (facts.isRoot) {
    argv.push('--allow-run-as-root');
    notes.push('Running as root: --allow-run-as-root added (Open MPI refuses root otherwise).');
  }
  const local = !spec.hosts?.length && !spec.hostfile;
  if (spec.oversubscribe || (spec.oversubscribe === undefined && local && ranks > facts.cpus)) {
    argv.push('--oversubscribe');
    if (spec.oversubscribe === undefined) notes.push(`${ranks} ranks on ${facts.cpus} local cores: --oversubscribe added.`);
  }
  // One prefix per line tells rank 0's table apart from other ranks' output.
  argv.push('--tag-output');
  for (const name of envNames) argv.push('-x', name);
  argv.push(...(spec.launcher_args ?? []), ...program);
  return { argv, processes: ranks, nodes: spec.hosts?.length ?? (local ? 1 : null), notes };
}

/**
 * MPICH's Hydra by its own name: where Open MPI is installed too, a plain `mpiexec` (and `mpirun`)
 * is usually Open MPI's (Debian alternatives), whose flags differ.
 */
export const HYDRA_NAMES = ['mpiexec.hydra', 'mpiexec.mpich'];

function mpiexecPlan(spec: LauncherSpec, config: Config, program: string[], envNames: string[]): LaunchPlan {
  const mpiexec = HYDRA_NAMES.map((name) => findBinary(name, config.binPath)).find((p) => p !== null) ?? requireBinary(HYDRA_NAMES[0], config.binPath, 'launcher "mpiexec"');
  const ranks = spec.ranks ?? spec.ranks_per_node! * spec.hosts!.length;
  const argv = [mpiexec, '-n', String(ranks)];
  if (spec.ranks_per_node) argv.push('-ppn', String(spec.ranks_per_node));
  if (spec.hosts?.length) argv.push('-hosts', spec.hosts.join(','));
  // e.g. $PBS_NODEFILE: one line per slot or per node.
  if (spec.hostfile) argv.push('--hostfile', spec.hostfile);
  if (envNames.length) argv.push('-genvlist', envNames.join(','));
  // "[rank] " before each line tells rank 0's table apart from other ranks' output.
  argv.push('-prepend-rank');
  argv.push(...(spec.launcher_args ?? []), ...program);
  const local = !spec.hosts?.length && !spec.hostfile;
  return { argv, processes: ranks, nodes: spec.hosts?.length ?? (local ? 1 : null), notes: [] };
}

function srunPlan(spec: LauncherSpec, config: Config, program: string[], envNames: string[]): LaunchPlan {
  const srun = requireBinary('srun', config.binPath, 'launcher "srun"');
  const argv = [srun];
  if (spec.nodes !== undefined) argv.push('-N', String(spec.nodes));
  if (spec.ranks !== undefined) argv.push('-n', String(spec.ranks));
  if (spec.ranks_per_node !== undefined) argv.push(`--ntasks-per-node=${spec.ranks_per_node}`);
  if (spec.partition) argv.push('-p', spec.partition);
  if (spec.gpus_per_task !== undefined) argv.push(`--gpus-per-task=${spec.gpus_per_task}`);
  if (spec.mpi_plugin) argv.push(`--mpi=${spec.mpi_plugin}`);
  argv.push(`--export=${['ALL', ...envNames].join(',')}`);
  // --label prefixes each line with its task; --kill-on-bad-exit ends the step when one rank
  // fails instead of leaving the others blocked in NCCL.
  argv.push('--label', '--kill-on-bad-exit=1', '--job-name=tuneloop-nccl-tests');
  argv.push(...(spec.launcher_args ?? []), ...program);
  const processes = spec.ranks ?? (spec.nodes !== undefined && spec.ranks_per_node !== undefined ? spec.nodes * spec.ranks_per_node : null);
  return { argv, processes, nodes: spec.nodes ?? null, notes: [] };
}
