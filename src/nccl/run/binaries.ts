/**
 * Finding an nccl-tests binary and what it supports. Search order: TUNELOOP_NCCL_TESTS_DIR, the
 * well-known build directories, then PATH (core/probe.ts, so `tuneloop doctor` agrees). Builds
 * may carry a suffix (`all_reduce_perf_mpi`): an explicit suffix is honoured as given; without one,
 * multi-process launchers prefer the `_mpi` build and a local run the plain one.
 */
import { statSync } from 'node:fs';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runCommand } from '../../core/exec.js';
import { INSTALL_HINTS, findBinary, ncclTestsSearchDirs } from '../../core/probe.js';

export const COLLECTIVES = ['all_reduce', 'all_gather', 'broadcast', 'reduce_scatter', 'reduce', 'alltoall', 'alltoallv', 'sendrecv', 'scatter', 'gather', 'hypercube'] as const;
export type Collective = (typeof COLLECTIVES)[number];

export interface NcclTestsBinary {
  path: string;
  name: string;
  suffix: string;
}

export function findNcclTestsBinary(config: Config, collective: Collective, options: { suffix?: string; multiProcess: boolean }): NcclTestsBinary {
  const dirs = ncclTestsSearchDirs(config);
  const suffixes = options.suffix !== undefined ? [options.suffix] : options.multiProcess ? ['_mpi', ''] : ['', '_mpi'];
  for (const suffix of suffixes) {
    const name = `${collective}_perf${suffix}`;
    const path = findBinary(name, dirs);
    if (path) return { path, name, suffix };
  }
  const names = suffixes.map((s) => `${collective}_perf${s}`).join(' or ');
  throw new UserError(
    `${names} was not found (searched TUNELOOP_NCCL_TESTS_DIR=${config.ncclTestsDirs.join(':') || '(unset)'}, the usual build directories, and PATH).`,
    `${INSTALL_HINTS.all_reduce_perf}.${options.suffix ? ` Or drop binary_suffix "${options.suffix}" if your build has no suffix.` : ''}`,
  );
}

export interface BinaryFeatures {
  /** -J FILE (JSON output, nccl-tests 2.17.3+). */
  json: boolean;
}

const featureCache = new Map<string, BinaryFeatures>();

/**
 * What the binary supports, read from its usage text (`-h` exits before touching a GPU). Cached per
 * path and modification time. A binary whose -h fails (an MPI build that cannot start outside a
 * launcher) is treated as supporting nothing optional: the text table is always there.
 */
export async function probeFeatures(binary: string): Promise<BinaryFeatures> {
  const key = `${binary}@${statSync(binary).mtimeMs}`;
  const cached = featureCache.get(key);
  if (cached) return cached;
  const r = await runCommand([binary, '-h'], { timeoutMs: 15_000, maxOutputBytes: 64 * 1024 });
  const usage = `${r.stdout}\n${r.stderr}`;
  const features = { json: /(^|[\s[,])-J\b/m.test(usage) || usage.includes('--output_file') };
  featureCache.set(key, features);
  return features;
}
