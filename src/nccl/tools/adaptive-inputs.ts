/**
 * nccl_sweep's adaptive-mode inputs, and the step from them to an AdaptiveSweepSpec (every rule
 * checked here, before the job starts).
 */
import { z } from 'zod';
import type { Runtime } from '../../core/runtime.js';
import { UserError } from '../../core/errors.js';
import { spaceFrom, spaceParamInput, type SpaceParamInput } from '../../learn/suggest/space-input.js';
import { findWorkload } from '../../learn/workloads.js';
import { ncclParameters } from '../params/space.js';
import type { RunSpec } from '../run/runner.js';
import type { AdaptiveSweepSpec } from '../sweep/adaptive.js';

/** compare() needs 4 runs per side to call anything significant. */
const MIN_CONFIRM_RUNS = 4;
const DEFAULT_CONFIRM_RUNS = 4;

export const adaptiveFields = {
  adaptive: z
    .boolean()
    .default(false)
    .describe(
      'Adaptive mode: instead of configs/grid, suggest_config proposes each next config from history and this sweep\'s runs (one run each); ' +
        'when the best stops improving, the best, the runner-up and the default get `repeats` runs each, and the sweep stops once compare() settles the best, or at max_runs/max_minutes.',
    ),
  adaptive_variables: z
    .array(z.string().max(100))
    .max(32)
    .optional()
    .describe('Adaptive: the NCCL variables to tune (the named "nccl" space, for nccl_version and collective). Default: NCCL_ALGO, NCCL_PROTO, NCCL_MIN_CTAS, NCCL_NTHREADS, NCCL_BUFFSIZE.'),
  adaptive_params: z
    .array(spaceParamInput)
    .max(32)
    .optional()
    .describe('Adaptive: narrower ranges or choices for the variables, e.g. [{"name":"NCCL_MIN_CTAS","choices":[8,16,32]}]; or, all with a type and no adaptive_variables, an explicit space.'),
  adaptive_seed: z.number().int().min(0).default(0).describe('Adaptive: the suggester\'s seed; the same seed and measurements give the same trials.'),
};

type AdaptiveArgs = z.infer<z.ZodObject<typeof adaptiveFields>> & {
  configs?: unknown[];
  grid?: unknown;
  repeats?: number;
  max_runs: number;
  max_minutes: number;
  min_gain: number;
  nccl_version?: string;
  allow_invalid: boolean;
  workload?: string;
  save_profile?: string;
};

export function adaptiveSweepSpec(runtime: Runtime, args: AdaptiveArgs, spec: RunSpec): AdaptiveSweepSpec {
  if (args.configs?.length || args.grid) throw new UserError('In adaptive mode the suggester chooses the configs: leave out configs and grid.', 'Narrow the search with adaptive_variables and adaptive_params.');
  const repeats = args.repeats ?? DEFAULT_CONFIRM_RUNS;
  if (repeats < MIN_CONFIRM_RUNS) throw new UserError(`repeats ${repeats} is too few to settle the best: compare() needs ${MIN_CONFIRM_RUNS} runs per side.`, `Use repeats >= ${MIN_CONFIRM_RUNS} (or leave it out: ${DEFAULT_CONFIRM_RUNS}).`);
  if (args.max_runs < 2) throw new UserError('max_runs 2 or more: the default plus at least one config.', 'Raise max_runs (e.g. 40).');
  const workload = args.workload ? findWorkload(runtime.store, args.workload) : null;
  const { env: base } = spec.env;
  return {
    test: { collective: spec.collective, flags: spec.flags, launcher: spec.launcher, binarySuffix: spec.binarySuffix, json: spec.json, timeoutMs: spec.timeoutMs, edges: spec.edges },
    base,
    space: sweepSearchSpace(args, spec.collective),
    ncclVersion: args.nccl_version,
    allowInvalid: args.allow_invalid,
    seed: args.adaptive_seed,
    repeats,
    maxRuns: args.max_runs,
    maxMinutes: args.max_minutes,
    minGain: args.min_gain,
    alpha: 0.05,
    workload: workload && { id: workload.id, name: workload.name },
    saveProfile: args.save_profile,
  };
}

/** The named "nccl" space narrowed by adaptive_params, or an explicit space of NCCL variables. */
function sweepSearchSpace(args: AdaptiveArgs, collective: string) {
  const params = args.adaptive_params ?? [];
  const typed = params.filter((p) => p.type !== undefined);
  if (typed.length && (typed.length < params.length || args.adaptive_variables?.length)) {
    throw new UserError('adaptive_params mixes an explicit space (params with a type) with the named one.', 'Either name variables (adaptive_variables) and narrow them without types, or give every param a type and no adaptive_variables.');
  }
  if (typed.length === 0) return spaceFrom('nccl', params, args.adaptive_variables, { ncclVersion: args.nccl_version, collective });
  checkNcclNames(typed, args.nccl_version);
  return spaceFrom(undefined, typed, undefined);
}

function checkNcclNames(params: SpaceParamInput[], version: string | undefined): void {
  const read = new Set(ncclParameters(version, { undocumented: true }).map((p) => p.name));
  const unknown = params.filter((p) => !read.has(p.name));
  if (unknown.length) {
    throw new UserError(`${unknown.map((p) => p.name).join(', ')}: not a variable NCCL ${version ?? '(newest release)'} reads.`, 'Explicit spaces vary NCCL variables; see nccl_params {"action": "describe"} (and nccl_version for older releases).');
  }
}
