/** suggest_config: what to try next, from the runs recorded so far. */
import { z } from 'zod';
import { defineTool, READ_ONLY } from '../../core/tool.js';
import { configKey } from '../canonical.js';
import { DOMAINS } from '../runs.js';
import { comparisonSchema, directionSchema } from '../schemas.js';
import { compare } from '../stats.js';
import type { Situation } from '../rules/context.js';
import { findWorkload } from '../workloads.js';
import { suggestFromHistory } from './from-history.js';
import { defaultPoint, pointKey, spaceSize, type ParamSpec, type Space } from './space.js';
import { spaceFrom, spaceParamInput } from './space-input.js';
import type { ConfigObservation } from './suggester.js';

const candidateSchema = z.object({
  config: z.unknown().describe('The config to try, in the form history records (record_run it as is; named spaces: what the execution tool takes).'),
  config_key: z.string().describe('The key this config gets in history.'),
  kind: z.enum(['repeat', 'default', 'rule', 'space-filling', 'model']),
  predicted: z.number().nullable().describe('The surrogate\'s estimate of the metric (null before it has data).'),
  uncertainty: z.number().nullable().describe('One standard deviation of that estimate.'),
  rationale: z.string(),
});

export const suggestConfigTool = defineTool({
  name: 'suggest_config',
  toolset: 'history',
  title: 'Suggest the next configs to try',
  description:
    'Propose the next configs to try from the runs already recorded. ' +
    'The space is explicit (params with type int/float/categorical/bool, min/max or choices, log scale) or named: "sched:<scheduler>" (the catalog\'s flags) or "nccl" (the NCCL parameter table; choose variables). ' +
    'Observations are the ok runs of a workload/domain (and context filter), aggregated per config. ' +
    'Method: the defaults and the patches of matching rules first, space-filling starts while data are scarce, then a TPE surrogate (mixed categorical/integer); repeats of leading configs when noise blurs the ranking. Deterministic for a given seed. ' +
    'Returns candidates with predicted value, uncertainty and a rationale, the best config so far with its evidence (and how it compares with the default), and how much of the space is covered. ' +
    'Measure each candidate (benchmark_workload, run_nccl_tests, or your own run + record_run with the candidate\'s config), then ask again.',
  annotations: READ_ONLY,
  input: z.object({
    space: z.string().max(100).optional().describe('Named space: "sched:<scheduler>" (e.g. "sched:scx_lavd") or "nccl". Leave out for an explicit space given by params.'),
    params: z.array(spaceParamInput).max(32).optional().describe('Explicit space: the parameters. Named space: optional narrower bounds/choices for some of its parameters.'),
    variables: z.array(z.string().max(100)).max(32).optional().describe('Named space: which parameters to vary (nccl default: NCCL_ALGO, NCCL_PROTO, NCCL_MIN_CTAS, NCCL_NTHREADS, NCCL_BUFFSIZE; sched: every tunable flag).'),
    nccl_version: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional().describe('Named space "nccl": only the variables this NCCL release reads, with its ranges and defaults (default: context.nccl_version, else the newest release the table knows). context.collective narrows NCCL_ALGO to the algorithms implementing it.'),
    workload: z.string().optional().describe('Observations: runs of this workload (id or name).'),
    domain: z.enum(DOMAINS).optional().describe('Observations: runs of this domain (named space "nccl": nccl by default).'),
    metric: z.string().max(100).optional().describe('Objective; default: the primary metric the runs share.'),
    direction: directionSchema.optional().describe('Needed when metric is not a primary metric of the runs, or when there are no runs yet.'),
    context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe('Observations: only runs whose context has these values, e.g. {"host": "node-a", "collective": "all_reduce"}.'),
    count: z.number().int().min(1).max(20).default(3).describe('How many candidates.'),
    seed: z.number().int().min(0).default(0).describe('Random seed: the same seed and history give the same answer.'),
    use_rules: z.boolean().default(true).describe('Seed the search with the patches of rules matching this workload and host.'),
  }),
  output: z.object({
    space: z.object({ name: z.string(), params: z.array(z.record(z.string(), z.unknown())), size: z.number().nullable(), notes: z.array(z.string()) }),
    objective: z.object({ metric: z.string().nullable(), direction: directionSchema }),
    observations: z.object({ runs: z.number().int(), configs: z.number().int(), ignored_runs: z.number().int().describe('Runs whose config is not in this space.') }),
    phase: z.enum(['space-filling', 'model']),
    candidates: z.array(candidateSchema),
    best: z
      .object({
        config: z.unknown(),
        config_keys: z.array(z.string()),
        n: z.number().int(),
        median: z.number(),
        mean: z.number(),
        stdev: z.number().nullable(),
        run_ids: z.array(z.number().int()).describe('Evidence (up to 50 run ids).'),
        vs_default: comparisonSchema.nullable().describe('The best against the default config (when both were measured): is the gain real?'),
      })
      .nullable(),
    coverage: z.object({
      distinct_configs: z.number().int(),
      space_size: z.number().nullable(),
      fraction_of_configs: z.number().nullable(),
      per_param: z.record(z.string(), z.number()).describe('Share of each parameter\'s choices (or of 10 bins of its range) measured.'),
    }),
    noise_cv: z.number().nullable().describe('Pooled run-to-run coefficient of variation of the objective.'),
    rules_used: z.array(z.object({ id: z.number().int(), score: z.number() })),
    seed: z.number().int(),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    const space = spaceFrom(args.space, args.params, args.variables, { ncclVersion: args.nccl_version ?? stringOf(args.context?.nccl_version), collective: stringOf(args.context?.collective) });
    const workload = args.workload ? findWorkload(store, args.workload) : undefined;
    const domain = args.domain ?? (args.space === 'nccl' ? 'nccl' : undefined);
    const result = suggestFromHistory(
      store,
      space,
      { workload_id: workload?.id, workloadName: workload?.name, domain, metric: args.metric, direction: args.direction, context: args.context },
      { count: args.count, seed: args.seed, useRules: args.use_rules, facts: contextFacts(args.context) },
    );
    const obs = result.observations;
    const best = result.best ? bestWithEvidence(space, obs.configs, result.best, obs.direction, obs.metric) : null;
    return {
      space: { name: space.name, params: space.params.map(describeParam), size: Number.isFinite(spaceSize(space.params)) ? spaceSize(space.params) : null, notes: 'notes' in space ? (space.notes as string[]) : [] },
      objective: { metric: obs.metric, direction: obs.direction },
      observations: { runs: obs.runs, configs: result.coverage.distinct_configs, ignored_runs: obs.ignored },
      phase: result.phase,
      candidates: result.candidates.map((c) => {
        const config = space.toConfig(c.point);
        return { config, config_key: configKey(config), kind: c.kind, predicted: c.predicted, uncertainty: c.uncertainty, rationale: c.rationale };
      }),
      best,
      coverage: result.coverage,
      noise_cv: result.noise_cv === null ? null : Number(result.noise_cv.toFixed(4)),
      rules_used: result.rules.map((m) => ({ id: m.rule.id, score: m.score })),
      seed: args.seed,
    };
  },
  summarize(r) {
    const lines = [`${r.space.name} space (${r.space.params.length} params), ${r.observations.configs} config(s) measured from ${r.observations.runs} run(s); phase ${r.phase}; coverage ${r.coverage.fraction_of_configs === null ? 'n/a' : `${(r.coverage.fraction_of_configs * 100).toFixed(1)}%`}.`];
    if (r.best) lines.push(`Best so far: ${JSON.stringify(r.best.config)} median ${r.best.median} (n=${r.best.n})${r.best.vs_default ? `; vs default: ${r.best.vs_default.verdict}` : ''}.`);
    r.candidates.forEach((c, i) => lines.push(`${i + 1}. [${c.kind}] ${JSON.stringify(c.config)}${c.predicted !== null ? ` predicted ${c.predicted} ± ${c.uncertainty}` : ''}: ${c.rationale}`));
    return lines.join('\n');
  },
});

function describeParam(p: ParamSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== undefined && k !== 'description'));
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Context filter values that are also situation facts (for rule matching). */
function contextFacts(context: Record<string, string | number | boolean> | undefined): Situation {
  const facts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context ?? {})) if (typeof v !== 'boolean') facts[k] = v;
  return facts as Situation;
}

function bestWithEvidence(space: Space, configs: ConfigObservation[], best: { point: Record<string, unknown>; n: number; mean: number; median: number; stdev: number | null; run_ids: number[] }, direction: 'lower' | 'higher', metric: string | null) {
  const params = space.params;
  const sameAs = (point: ConfigObservation['point']) => (o: ConfigObservation) => pointKey(params, o.point) === pointKey(params, point);
  const keys = configs.filter(sameAs(best.point as ConfigObservation['point'])).map((o) => configKey(space.toConfig(o.point)));
  const defaults = configs.filter(sameAs(defaultPoint(params))).flatMap((o) => o.values);
  const isDefault = pointKey(params, best.point as ConfigObservation['point']) === pointKey(params, defaultPoint(params));
  const bestValues = configs.filter(sameAs(best.point as ConfigObservation['point'])).flatMap((o) => o.values);
  return {
    config: space.toConfig(best.point as ConfigObservation['point']),
    config_keys: [...new Set(keys)],
    n: best.n,
    median: best.median,
    mean: Number(best.mean.toPrecision(6)),
    stdev: best.stdev === null ? null : Number(best.stdev.toPrecision(4)),
    run_ids: best.run_ids.slice(0, 50),
    vs_default: defaults.length && !isDefault ? compare(defaults, bestValues, direction, { metric: metric ?? 'value' }) : null,
  };
}
