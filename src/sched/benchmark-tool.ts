/** benchmark_workload: measured runs of a workload, optionally default scheduler vs a sched_ext one. */
import { z } from 'zod';
import { jobOutputSchema } from '../core/jobs.js';
import { RUNS_CLIENT_CODE, defineTool, runAsJob, summarizeJob, waitSeconds } from '../core/tool.js';
import { RUN_STATUSES } from '../learn/runs.js';
import { comparisonSchema, directionSchema as direction, summarySchema as summary } from '../learn/schemas.js';
import { runBenchmark, type BenchmarkResult } from './bench/benchmark.js';
import { DEFAULT_SCHEDULER, planBenchmark } from './bench/plan.js';
import { checkAdaptive, runAdaptiveBenchmark } from './bench/adaptive.js';


const armConfig = z.object({ scheduler: z.string(), flags: z.array(z.string()).optional() });

const resultSchema = z.object({
  workload: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  command: z.array(z.string()),
  primary_metric: z.string(),
  direction,
  domain: z.enum(['sched', 'workload']).describe('History domain the runs were recorded under.'),
  warmup: z.number().int(),
  repeats: z.number().int(),
  order: z.array(z.enum(['A', 'B'])).describe('The order the measured runs ran in.'),
  arms: z.array(
    z.object({
      label: z.enum(['A', 'B']),
      config: armConfig.describe('The config recorded in history (A is always the default scheduler).'),
      runs: z.number().int(),
      ok_runs: z.number().int(),
      primary: summary,
      metrics: z.record(z.string(), summary).describe('Every metric over the ok runs: wall_s, user_s, sys_s, cpu_s, max_rss_mib, sys.* (sampler means), parsed metrics.'),
    }),
  ),
  comparison: comparisonSchema
    .nullable()
    .describe('B against A (the same analysis as compare_runs).'),
  verdict: z.enum(['better', 'worse', 'no significant difference']).nullable(),
  runs: z.array(
    z.object({
      arm: z.enum(['A', 'B']),
      index: z.number().int(),
      status: z.enum(RUN_STATUSES),
      run_id: z.number().int().describe('History run id (get_history, compare_runs).'),
      exit_code: z.number().int().nullable(),
      metrics: z.record(z.string(), z.number()),
      note: z.string().nullable(),
      execution_id: z.string().nullable().describe('The scheduler execution of a B run.'),
      trial: z.number().int().nullable().describe('Adaptive mode: the trial the run belongs to (budget + 1: the confirmation A/B).'),
    }),
  ),
  adaptive: z
    .object({
      space: z.string(),
      budget: z.number().int(),
      trials: z.array(
        z.object({
          trial: z.number().int(),
          config: armConfig,
          kind: z.string().describe('How the suggester chose it (default, rule, space-filling, model, repeat) or "rejected" (flag validation refused it).'),
          rationale: z.string(),
          ok_runs: z.number().int(),
          median: z.number().nullable(),
          note: z.string().nullable(),
        }),
      ),
      stopped: z.enum(['budget', 'converged', 'exhausted']).describe('converged: the best did not move beyond the noise for 3 trials; exhausted: nothing new to try.'),
      best: z.object({ config: armConfig, median: z.number(), n: z.number().int() }).nullable(),
      confirmed_separately: z.boolean().describe('The verdict comes from a fresh interleaved A/B of the best against the default (false: from trial 1, whose config was the best).'),
    })
    .optional()
    .describe('Adaptive mode only.'),
  missing: z.array(z.string()).describe('Measurements this host could not make.'),
});

export const benchmarkWorkloadTool = defineTool({
  name: 'benchmark_workload',
  toolset: 'sched',
  title: 'Benchmark a workload (A/B across schedulers)',
  description:
    'Measure a workload over repeated runs, optionally as an A/B trial of the default scheduler against a sched_ext scheduler. ' +
    'It runs a saved workload or an argv with warmup and repeats; in the A/B trial the default kernel scheduler (A) faces a sched_ext scheduler with flags (B), ' +
    'interleaved in counterbalanced pairs (A B, B A, ...) so drift cancels, attaching B for each of its runs and counting a run only if the scheduler stayed attached. ' +
    'Per run: wall time, user/sys CPU and max RSS, exit code, metrics parsed from the output (regex or JSON key), system sampler means (CPU, context switches, run delay). ' +
    'Every run is recorded in history; returns per-arm statistics and the compare_runs verdict (better / worse / no significant difference). scheduler "default" with ab: true is an A/A control. A job: poll with job_status.',
  annotations: RUNS_CLIENT_CODE,
  input: z.object({
    workload: z.string().optional().describe('Saved workload id or name (workload tool); its command, cwd and env are used.'),
    command: z.array(z.string()).optional().describe('argv to run instead of a saved workload, e.g. ["make", "-j2"].'),
    cwd: z.string().optional().describe('Working directory (with command).'),
    env: z.record(z.string(), z.string()).optional().describe('Extra environment (with command).'),
    warmup: z.number().int().min(0).max(20).default(1).describe('Unrecorded runs per arm before measuring.'),
    repeats: z.number().int().min(1).max(100).default(5).describe('Measured runs per arm.'),
    timeout_s: z.number().int().min(1).max(3600).default(300).describe('Limit per run.'),
    scheduler: z.string().default(DEFAULT_SCHEDULER).describe('Arm B: a catalog scheduler ("scx_lavd"), "custom:<name>", or "default" (the kernel\'s own).'),
    flags: z.array(z.string()).default([]).describe('Arm B flags, validated like run_scheduler\'s (the binary\'s --help, or the catalog).'),
    allow_unlisted_flags: z.boolean().default(false).describe('Pass flags the catalog does not know.'),
    ab: z.boolean().optional().describe('Run the A/B trial (default: true when scheduler is not "default"). scheduler "default" with ab: true compares the default scheduler with itself.'),
    metric_regex: z.string().optional().describe('Read a metric from the output: the last match; the number is the group named "value", else group 1.'),
    metric_json_key: z.string().optional().describe('Read a metric from the last JSON object line of stdout, by dotted key.'),
    metric_name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/).default('metric').describe('Name of the parsed metric in history.'),
    primary_metric: z.string().optional().describe('Metric that decides the verdict: wall_s (default), user_s, sys_s, cpu_s, max_rss_mib, or the parsed metric (its default when a parser is given).'),
    direction: direction.optional().describe('Which way is better for the primary metric; required for a parsed metric (wall_s etc. default to lower).'),
    alpha: z.number().min(0.0001).max(0.2).default(0.05).describe('Significance level of the verdict.'),
    sample_ms: z.number().int().min(100).max(5000).default(250).describe('System sampler interval during each run.'),
    adaptive_budget: z.number().int().min(1).max(50).optional().describe('Adaptive mode: tune the flags of scheduler, trying up to this many configs proposed one by one by suggest_config from this workload\'s history; stops early when the best stops moving beyond the noise; the verdict comes from an interleaved A/B of the best against the default. Needs workload; leave out flags.'),
    adaptive_variables: z.array(z.string()).max(32).optional().describe('Adaptive mode: the flags to vary (default: every tunable flag of the scheduler; see suggest_config {space: "sched:<scheduler>"}).'),
    adaptive_seed: z.number().int().min(0).default(0).describe('Adaptive mode: the suggester\'s seed.'),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(resultSchema),
  async handler(args, ctx) {
    const plan = await planBenchmark(ctx.runtime, args);
    if (args.adaptive_budget !== undefined) {
      checkAdaptive(plan);
      return runAsJob(ctx, 'benchmark_workload', args, args.wait_s, (job) => runAdaptiveBenchmark(ctx.runtime, job, plan), benchmarkFailure);
    }
    return runAsJob(ctx, 'benchmark_workload', args, args.wait_s, (job) => runBenchmark(ctx.runtime, job, plan), benchmarkFailure);
  },
  summarize: (v) => summarizeJob(v, summarizeBenchmark),
});

/**
 * Nothing measured for an arm, or an adaptive search in which no flag set ran, is a failure (the
 * first failed run's own words); some failed runs are data, counted per arm and trial.
 */
function benchmarkFailure(r: BenchmarkResult): string | null {
  if (r.adaptive && !r.adaptive.best) {
    const first = r.adaptive.trials.find((t) => t.note);
    return `adaptive search: no flag set of ${r.adaptive.trials.length} trial(s) produced a successful run${first ? `; trial ${first.trial}: ${first.note}` : ''}`;
  }
  const empty = r.arms.find((a) => a.ok_runs === 0);
  if (!empty) return null;
  const first = r.runs.find((x) => x.arm === empty.label && x.status !== 'ok');
  return `arm ${empty.label} (${empty.config.scheduler}): no run succeeded${first ? `; run ${first.index + 1} ${first.status}${first.note ? `: ${first.note}` : ''}` : ''}`;
}

function summarizeBenchmark(r: BenchmarkResult): string {
  const lines = [`${r.workload?.name ?? r.command.join(' ')}: ${r.repeats} run(s) per arm, ${r.primary_metric} (${r.direction} is better)`];
  for (const a of r.arms) {
    const s = a.primary;
    lines.push(`  ${a.label} ${a.config.scheduler}${a.config.flags?.length ? ` ${a.config.flags.join(' ')}` : ''}: ${a.ok_runs}/${a.runs} ok, median ${fmt(s.median)}, CV ${s.cv === null ? 'n/a' : `${(s.cv * 100).toFixed(1)}%`}`);
  }
  if (r.adaptive) {
    const a = r.adaptive;
    lines.push(`Adaptive: ${a.trials.length} trial(s) of ${a.budget}, stopped: ${a.stopped}`);
    for (const t of a.trials) lines.push(`  ${t.trial}. [${t.kind}] ${t.config.flags.join(' ') || '(defaults)'}: ${t.median === null ? (t.note ?? 'no ok run') : `median ${fmt(t.median)} (n=${t.ok_runs})`}`);
    if (a.best) lines.push(`Best: ${a.best.config.scheduler} ${a.best.config.flags.join(' ') || '(defaults)'}, median ${fmt(a.best.median)}${a.confirmed_separately ? '; confirmed against the default in a fresh A/B' : ''}`);
  }
  if (r.comparison) lines.push(`${r.comparison.verdict.toUpperCase()}: ${r.comparison.explanation}`);
  for (const m of r.missing) lines.push(`Missing: ${m}`);
  return lines.join('\n');
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : Number(x.toPrecision(4)).toString();
}
