/**
 * Input fields run_nccl_tests and nccl_sweep share, and the step from tool arguments to a RunSpec
 * (every cross-field rule is checked here, before a job starts).
 */
import { z } from 'zod';
import type { Runtime } from '../../core/runtime.js';
import { UserError } from '../../core/errors.js';
import { findWorkload } from '../../learn/workloads.js';
import { COLLECTIVES, findNcclTestsBinary } from '../run/binaries.js';
import { effectiveEnv } from '../run/env.js';
import { LAUNCHERS, buildLaunch, type LauncherSpec } from '../run/launcher.js';
import { DEFAULT_EDGES, checkEdges, type BandEdges } from '../run/objective.js';
import { resolveEnv } from '../env/profiles.js';
import type { RunSpec } from '../run/runner.js';
import { DATATYPES, OPS, buildTestArgs, parseSize, type TestFlags } from '../run/test-args.js';
import { validateNcclEnv, type NcclEnv, type ValidationResult } from '../params/validate.js';

const size = z.union([z.number().int().min(0), z.string().max(32)]);
const count = (what: string) => z.number().int().min(0).optional().describe(what);

export const testFields = {
  collective: z.enum(COLLECTIVES).default('all_reduce').describe('nccl-tests collective; runs <collective>_perf[suffix].'),
  min_bytes: size.default('8').describe('-b: smallest message, bytes or with K/M/G (x1024), e.g. "8", "64K".'),
  max_bytes: size.default('128M').describe('-e: largest message, e.g. "128M", "8G".'),
  step_factor: z.number().int().min(2).max(1024).optional().describe('-f: multiply the size by this between rows (default 2 unless step_bytes is set).'),
  step_bytes: size.optional().describe('-i: add this many bytes between rows instead of multiplying.'),
  gpus_per_process: z.number().int().min(1).max(64).default(1).describe('-g: GPUs each process drives. A local run drives all of the node this way; with mpirun/srun use 1 (one rank per GPU).'),
  threads: z.number().int().min(1).max(64).optional().describe('-t: threads per process.'),
  iters: z.number().int().min(1).max(100_000).optional().describe('-n: timed iterations per size (nccl-tests default 20).'),
  warmup_iters: count('-w: warmup iterations.'),
  agg_iters: z.number().int().min(1).max(1000).optional().describe('-m: operations aggregated per iteration.'),
  check: count('-c: check iterations; 0 turns checking off (#wrong shows N/A).'),
  op: z.enum(OPS).optional().describe('-o: reduction operation (default sum).'),
  datatype: z.enum(DATATYPES).optional().describe('-d: data type (default float).'),
  root: z.number().int().min(-1).optional().describe('-r: root rank for rooted collectives.'),
  blocking: z.number().int().min(0).max(3).optional().describe('-z: blocking mode 0-3.'),
  cuda_graph: count('-G: launch through CUDA graphs this many times.'),
  average: z.number().int().min(0).max(3).optional().describe('-a: across ranks report 0 rank 0, 1 average, 2 min, 3 max (MPI builds).'),
  test_timeout_s: z.number().int().min(1).max(86_400).optional().describe("-T: nccl-tests' own timeout per operation (exit 4)."),
  binary_suffix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/)
    .max(32)
    .optional()
    .describe('Binary name suffix, e.g. "_mpi" for all_reduce_perf_mpi. Default: try "_mpi" first for mpirun/srun, the plain name first for local.'),
  json: z.enum(['auto', 'on', 'off']).default('auto').describe('-J JSON output: auto uses it when the build has it (2.17.3+), the text table otherwise.'),
};

export const launcherFields = {
  launcher: z
    .enum(LAUNCHERS)
    .default('local')
    .describe('local: one process, -g GPUs. mpirun: Open MPI. mpiexec: MPICH Hydra (mpiexec.hydra), as on PBS sites. srun: Slurm. The MPI ones need nccl-tests built with MPI=1 against that MPI.'),
  ranks: z.number().int().min(1).max(100_000).optional().describe('mpirun -np / mpiexec -n / srun -n: total processes.'),
  nodes: z.number().int().min(1).max(10_000).optional().describe('srun -N: nodes.'),
  ranks_per_node: z.number().int().min(1).max(1024).optional().describe('mpirun -N / mpiexec -ppn / srun --ntasks-per-node.'),
  hosts: z.array(z.string().regex(/^[A-Za-z0-9._-]+(:\d+)?$/)).max(10_000).optional().describe('mpirun --host / mpiexec -hosts entries, "host" or "host:slots", e.g. ["node-a:8","node-b:8"].'),
  hostfile: z.string().optional().describe('mpirun --hostfile / mpiexec --hostfile path, e.g. the value of $PBS_NODEFILE.'),
  oversubscribe: z.boolean().optional().describe('mpirun --oversubscribe (default: added only when a local run has more ranks than cores).'),
  partition: z.string().regex(/^[A-Za-z0-9_.,-]+$/).optional().describe('srun -p.'),
  gpus_per_task: z.number().int().min(1).max(64).optional().describe('srun --gpus-per-task.'),
  mpi_plugin: z.string().regex(/^[A-Za-z0-9_]+$/).optional().describe('srun --mpi=<plugin>, e.g. "pmix" or "pmi2".'),
  launcher_args: z.array(z.string()).max(64).optional().describe('Extra launcher arguments, after tuneloop\'s own (e.g. ["--mca","btl_tcp_if_include","eth0"]).'),
};

export const envFields = {
  profile: z.string().optional().describe('Saved NCCL profile (nccl_env) whose variables the run uses.'),
  env: z.record(z.string(), z.string()).optional().describe('Variables for the run, over the profile: NCCL_* (validated) and any others the ranks need.'),
  inherit_env: z.boolean().default(false).describe("Keep the server's own NCCL_* environment. Default: removed, so runs are exactly the recorded config."),
  allow_invalid: z.boolean().default(false).describe('Run even when validation reports errors (e.g. a newer NCCL accepts a value this table does not know).'),
  nccl_version: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional().describe('NCCL release to validate against (e.g. "2.21.5"); default: current NCCL.'),
  log_nccl_choices: z.boolean().default(false).describe('Set NCCL_DEBUG=INFO and add INIT,TUNING to NCCL_DEBUG_SUBSYS to report the algorithm/protocol/channels NCCL chose per size (NCCL 2.20+; channel counts from 2.24); a sweep needs it to write the channel counts in force into the tuner CSV.'),
};

export const measureFields = {
  timeout_s: z.number().int().min(5).max(86_400).default(900).describe('Kill the whole run (launcher and ranks) after this many seconds.'),
  small_max_bytes: size.optional().describe('Band edge: sizes below are "small" (default 64K).'),
  large_min_bytes: size.optional().describe('Band edge: sizes from here up are "large" (default 16M). The objective is the mean busbw of the largest band measured.'),
  workload: z.string().optional().describe('Workload id or name the recorded runs belong to.'),
};

type TestArgs = z.infer<z.ZodObject<typeof testFields>>;
type LauncherArgs = z.infer<z.ZodObject<typeof launcherFields>>;
type EnvArgs = z.infer<z.ZodObject<typeof envFields>>;
type MeasureArgs = z.infer<z.ZodObject<typeof measureFields>>;
export type RunArgs = TestArgs & LauncherArgs & EnvArgs & MeasureArgs;

export function flagsOf(args: TestArgs): TestFlags {
  const { min_bytes, max_bytes, step_bytes, gpus_per_process, threads, iters, warmup_iters, agg_iters, check, op, datatype, root, blocking, cuda_graph, average, test_timeout_s } = args;
  const step_factor = args.step_factor ?? (step_bytes === undefined ? 2 : undefined);
  return { min_bytes, max_bytes, step_factor, step_bytes, gpus_per_process, threads, iters, warmup_iters, agg_iters, check, op, datatype, root, blocking, cuda_graph, average, test_timeout_s };
}

export function launcherOf(args: LauncherArgs): LauncherSpec {
  const { launcher, ranks, nodes, ranks_per_node, hosts, hostfile, oversubscribe, partition, gpus_per_task, mpi_plugin, launcher_args } = args;
  return { launcher, ranks, nodes, ranks_per_node, hosts, hostfile, oversubscribe, partition, gpus_per_task, mpi_plugin, launcher_args };
}

export function edgesOf(args: MeasureArgs): BandEdges {
  const edges = {
    smallMaxBytes: args.small_max_bytes === undefined ? DEFAULT_EDGES.smallMaxBytes : parseSize(args.small_max_bytes, 'small_max_bytes'),
    largeMinBytes: args.large_min_bytes === undefined ? DEFAULT_EDGES.largeMinBytes : parseSize(args.large_min_bytes, 'large_min_bytes'),
  };
  const problem = checkEdges(edges);
  if (problem) throw new UserError(`Bad band edges: ${problem}.`, 'Choose small_max_bytes below large_min_bytes, e.g. "64K" and "16M".');
  return edges;
}

/** The explicit environment (profile + env + logging switch), validated; errors stop here unless allow_invalid. */
export function resolveRunEnv(runtime: Runtime, args: EnvArgs): { env: NcclEnv; validation: ValidationResult } {
  const explicit = resolveEnv(runtime.store, args.profile, args.env);
  // Even allow_invalid cannot pass what no process environment can hold.
  const unusable = Object.entries(explicit).filter(([k, v]) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v.includes('\0'));
  if (unusable.length) {
    throw new UserError(`env has unusable entries: ${unusable.map(([k]) => JSON.stringify(k)).join(', ')}.`, 'Names are letters, digits and _ (not starting with a digit); values cannot contain NUL.');
  }
  if (args.log_nccl_choices) {
    // INFO level and the INIT and TUNING subsystems: channel counts and per-call choices.
    if (!/^(INFO|TRACE)$/i.test(explicit.NCCL_DEBUG ?? '')) explicit.NCCL_DEBUG = 'INFO';
    const subsys = explicit.NCCL_DEBUG_SUBSYS;
    if (subsys === undefined) explicit.NCCL_DEBUG_SUBSYS = 'INIT,TUNING';
    else if (!subsys.startsWith('^')) {
      const names = subsys.split(',').filter(Boolean);
      const missing = ['INIT', 'TUNING'].filter((n) => !names.some((x) => x.toUpperCase() === n || x.toUpperCase() === 'ALL'));
      explicit.NCCL_DEBUG_SUBSYS = [...names, ...missing].join(',');
    }
  }
  const validation = validateNcclEnv(explicit, { ncclVersion: args.nccl_version });
  if (!validation.ok && !args.allow_invalid) {
    throw new UserError(
      `The NCCL environment has errors: ${validation.errors.map((e) => `${e.message}${e.suggestion ? ` (suggestion: ${e.suggestion})` : ''}`).join(' ')}`,
      'Fix them (nccl_params {action: "validate"} explains each), or pass allow_invalid: true to let NCCL decide.',
    );
  }
  return { env: args.allow_invalid ? explicit : validation.normalized, validation };
}

/** Everything a run needs, checked: launcher fields, sizes, binary, launcher binary. */
export function buildRunSpec(runtime: Runtime, args: RunArgs): RunSpec {
  const { env, validation } = resolveRunEnv(runtime, args);
  const spec: RunSpec = {
    collective: args.collective,
    flags: flagsOf(args),
    launcher: launcherOf(args),
    binarySuffix: args.binary_suffix,
    json: args.json,
    env: effectiveEnv(env, args.inherit_env),
    envWarnings: validation.warnings,
    timeoutMs: args.timeout_s * 1000,
    edges: edgesOf(args),
  };
  // Fail before the job starts for what the caller must fix: sizes, launcher fields, binaries.
  const program = [findNcclTestsBinary(runtime.config, spec.collective, { suffix: spec.binarySuffix, multiProcess: spec.launcher.launcher !== 'local' }).path, ...buildTestArgs(spec.flags)];
  buildLaunch(spec.launcher, runtime.config, program, Object.keys(spec.env.env));
  return spec;
}

export function workloadIdOf(runtime: Runtime, workload: string | undefined): number | null {
  return workload ? findWorkload(runtime.store, workload).id : null;
}
