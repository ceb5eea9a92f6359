/** nccl_sweep: many configs against one nccl-tests invocation, ranked against the untuned default. */
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { jobOutputSchema } from '../../core/jobs.js';
import { RUNS_CLIENT_CODE, defineTool, runAsJob, summarizeJob, waitSeconds } from '../../core/tool.js';
import { checkProfileName } from '../env/profiles.js';
import { sweepResultSchema, type SweepResult } from '../schemas.js';
import { DEFAULT_NEVER_MEASURED } from '../sweep/result.js';
import { runSweep } from '../sweep/runner.js';
import { planSweep } from '../sweep/plan.js';
import { adaptiveLines, runAdaptiveSweep } from '../sweep/adaptive.js';
import { adaptiveFields, adaptiveSweepSpec } from './adaptive-inputs.js';
import { buildRunSpec, envFields, launcherFields, measureFields, testFields, workloadIdOf } from './inputs.js';

export const ncclSweepTool = defineTool({
  name: 'nccl_sweep',
  toolset: 'nccl',
  title: 'Sweep NCCL configs',
  description:
    'Find the best NCCL config for one nccl-tests invocation by measuring a set of configs against the untuned default. ' +
    'The set is an explicit list and/or a grid over chosen variables, run within a budget (max_runs, max_minutes), with repeats. ' +
    'The untuned default (no tuning variables) is always measured in the same sweep. Every trial is recorded in history. Returns the ranking overall ' +
    '(busbw over the largest size band) and the best config per message-size band and per size, each with its margin over the default and ' +
    'whether compare() confirms it (needs about 4 repeats); exports the per-size winners as a CSV for NCCL\'s example tuner plugin ' +
    '(NCCL_TUNER_CONFIG_FILE) and the overall winner as an nccl.conf. ' +
    'adaptive: true replaces the list with suggest_config\'s proposals, one at a time, and stops when the best is statistically settled or the budget is spent (result.adaptive: trajectory, why it stopped, evidence). Runs as a job (poll job_status).',
  annotations: RUNS_CLIENT_CODE,
  input: z.object({
    ...testFields,
    ...launcherFields,
    ...envFields,
    ...measureFields,
    configs: z
      .array(z.record(z.string(), z.string()))
      .max(1000)
      .optional()
      .describe('Explicit configs to try, each {VAR: value} added to the base (profile + env), e.g. [{"NCCL_PROTO":"LL"},{"NCCL_ALGO":"Tree"}].'),
    grid: z
      .record(z.string(), z.array(z.string()).min(1).max(64))
      .optional()
      .describe('Cartesian grid, e.g. {"NCCL_PROTO":["LL","LL128","Simple"],"NCCL_MIN_CTAS":["8","16"]}.'),
    repeats: z.number().int().min(1).max(50).optional().describe('Runs per config (round-robin; default 1). compare() can confirm a winner from about 4. Adaptive: runs of the best, the runner-up and the default before the settle check (default 4, at least 4).'),
    max_runs: z.number().int().min(2).max(2000).default(60).describe('Budget: executions in total, repeats and the default included; configs beyond it are skipped (adaptive: the trial budget).'),
    max_minutes: z.number().min(0.1).max(24 * 60).default(30).describe('Budget: no trial starts after this; a running trial is cut at the deadline (giving it at least 10 s).'),
    min_gain: z.number().min(0).max(10).default(0.02).describe('Smallest margin over the default worth exporting (0.02 = 2%).'),
    save_profile: z.string().optional().describe('Save the overall winner as an NCCL profile with this name (not overwriting an existing one).'),
    ...adaptiveFields,
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(sweepResultSchema),
  async handler(args, ctx) {
    const { runtime } = ctx;
    const spec = buildRunSpec(runtime, args);
    if (args.save_profile) checkProfileName(args.save_profile);
    if (args.adaptive) {
      const adaptive = adaptiveSweepSpec(runtime, args, spec);
      return runAsJob(ctx, 'nccl_sweep', args, args.wait_s, (job) => runAdaptiveSweep(runtime.config, runtime.store, adaptive, job), sweepFailure);
    }
    if (!args.configs?.length && !args.grid) throw new UserError('nccl_sweep needs configs or grid.', 'e.g. grid: {"NCCL_PROTO": ["LL","LL128","Simple"]}.');
    const plan = planSweep({
      base: spec.env.env,
      configs: args.configs,
      grid: args.grid,
      repeats: args.repeats ?? 1,
      maxRuns: args.max_runs,
      ncclVersion: args.nccl_version,
      allowInvalid: args.allow_invalid,
    });
    if (plan.configs.length < 2) {
      throw new UserError(`No config is left to try: ${plan.skipped.map((s) => `${s.label}: ${s.reason}`).join('; ')}`, 'Fix the configs (nccl_params {action: "validate"}), or raise max_runs.');
    }
    const workloadId = workloadIdOf(runtime, args.workload);
    return runAsJob(ctx, 'nccl_sweep', args, args.wait_s, (job) =>
      runSweep(runtime.config, runtime.store, {
        test: spec,
        plan,
        maxMinutes: args.max_minutes,
        minGain: args.min_gain,
        workloadId,
        saveProfile: args.save_profile,
      }, job),
      sweepFailure,
    );
  },
  summarize: (view) => summarizeJob(view, summarizeSweep),
});

/** Without a measured default nothing can be ranked; failed configs beside a measured default are notes. */
function sweepFailure(r: SweepResult): string | null {
  if (r.default.median_gbps !== null) return null;
  return r.exports.notes.find((n) => n.startsWith(DEFAULT_NEVER_MEASURED)) ?? DEFAULT_NEVER_MEASURED;
}

function summarizeSweep(r: SweepResult): string {
  const lines = [r.summary];
  for (const b of r.bands) {
    const best = b.best!;
    lines.push(`${b.band}: ${best.label} ${best.median_gbps?.toFixed(2)} GB/s vs default ${b.default_median_gbps?.toFixed(2) ?? '?'} (${best.verdict})`);
  }
  if (r.exports.tuner_csv) lines.push(`Tuner CSV (${r.exports.tuner_csv.ranges} ranges): ${r.exports.tuner_csv.path}`);
  if (r.exports.nccl_conf) lines.push(`nccl.conf: ${r.exports.nccl_conf.path}`);
  if (r.skipped.length) lines.push(`Skipped ${r.skipped.length} config(s).`);
  if (r.stopped_early) lines.push(`Stopped early: ${r.stopped_early}`);
  if (r.adaptive) lines.push(...adaptiveLines(r.adaptive));
  return lines.join('\n');
}
