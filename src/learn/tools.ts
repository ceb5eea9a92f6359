/** The history toolset: workloads, recording runs, querying them, comparing them honestly. */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { CLASSIFICATIONS, createWorkload, findWorkload, listWorkloads } from './workloads.js';
import { DOMAINS, RUN_STATUSES, configAggregates, queryRuns, recordRun, selectRuns, type Run } from './runs.js';
import { compare } from './stats.js';
import { parseTime } from './time.js';
import { comparisonSchema, directionSchema as direction } from './schemas.js';
import { metricValue, resolveMetric } from './metric.js';
import { suggestConfigTool } from './suggest/tool.js';
import { rulesTool } from './rules/tool.js';
import { searchKnowledgeTool } from './knowledge/tool.js';
import { similarWorkloads } from './similar.js';

const workloadSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  command: z.array(z.string()).nullable(),
  cwd: z.string().nullable(),
  env: z.record(z.string(), z.string()),
  shell: z.boolean(),
  classification: z.enum(CLASSIFICATIONS).nullable(),
  tags: z.array(z.string()),
  created_at: z.string(),
});

export const runSchema = z.object({
  id: z.number().int(),
  domain: z.enum(DOMAINS),
  workload_id: z.number().int().nullable(),
  config_key: z.string().describe('Stable key of the canonical config: the same config always has the same key.'),
  config: z.unknown(),
  metrics: z.record(z.string(), z.number()),
  primary_metric: z.string(),
  direction,
  primary_value: z.number().nullable(),
  context: z.record(z.string(), z.unknown()).optional().describe('Host, kernel, GPUs, versions... (get_history: only with include_context).'),
  status: z.enum(RUN_STATUSES),
  job_id: z.string().nullable(),
  notes: z.string().nullable(),
  created_at: z.string(),
});

const aggregateSchema = z.object({
  workload_id: z.number().int().nullable(),
  domain: z.enum(DOMAINS),
  primary_metric: z.string(),
  direction,
  config_key: z.string(),
  config: z.unknown(),
  n: z.number().int(),
  median: z.number().nullable(),
  mean: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  last_run_at: z.string(),
});

const workloadRef = z.string().describe('Workload id or name.');
const timeArg = (what: string) => z.string().describe(`${what}: ISO 8601 time, or an age such as "24h", "7d", "30m".`);

export const workloadTool = defineTool({
  name: 'workload',
  toolset: 'history',
  title: 'Manage workloads',
  description:
    'Create, list or get workloads: named things to tune (a benchmark command, a service, a training job) that runs refer to. ' +
    '"get" returns the workload with its recent runs; "similar" finds workloads like a given one (by workload, or by description/command/classification/tags) with their best configs, so what worked there can be tried first. ' +
    'benchmark_workload can run a workload that has a command.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    action: z.enum(['create', 'list', 'get', 'similar']).describe('create a workload, list workloads, get one with its recent runs, or find similar ones.'),
    workload: workloadRef.optional().describe('get/similar: workload id or name.'),
    name: z.string().optional().describe('create: unique name (letters, digits, . _ -).'),
    description: z.string().max(4000).optional().describe('create: what it is and what matters about it. similar: describe a workload not yet saved.'),
    command: z.array(z.string()).optional().describe('create/similar: argv to run it, e.g. ["stress-ng","--cpu","4","-t","10"].'),
    cwd: z.string().optional().describe('create: working directory for the command.'),
    env: z.record(z.string(), z.string()).optional().describe('create: extra environment for the command.'),
    shell: z.boolean().optional().describe('create: command is a single script run with /bin/sh -c.'),
    classification: z.enum(CLASSIFICATIONS).optional().describe('create/list/similar: what kind of workload it is.'),
    tags: z.array(z.string()).optional().describe('create/similar: free-form tags. list: filter by tags[0].'),
    limit: z.number().int().min(1).max(200).default(50).describe('list: page size; get: recent runs returned; similar: how many (at most 20).'),
    offset: z.number().int().min(0).default(0).describe('list: page offset.'),
  }),
  output: z.object({
    action: z.enum(['create', 'list', 'get', 'similar']),
    workload: workloadSchema.optional(),
    workloads: z.array(workloadSchema).optional(),
    recent_runs: z.array(runSchema).optional(),
    similar: z
      .array(
        z.object({
          workload: workloadSchema,
          similarity: z.number().describe('0..1: text, command, classification and tags combined.'),
          reasons: z.array(z.string()),
          best: z.array(aggregateSchema).describe('Its best config per domain and metric.'),
        }),
      )
      .optional(),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    if (args.action === 'create') {
      if (!args.name) throw new UserError('create needs name.', 'Pass name, and optionally description, command, classification, tags.');
      return { action: 'create' as const, workload: createWorkload(store, { ...args, name: args.name }) };
    }
    if (args.action === 'list') {
      return { action: 'list' as const, workloads: listWorkloads(store, { tag: args.tags?.[0], classification: args.classification, limit: args.limit, offset: args.offset }) };
    }
    if (args.action === 'similar') {
      const target = args.workload ? findWorkload(store, args.workload) : undefined;
      if (!target && !args.description && !args.command && !args.tags?.length) {
        throw new UserError('similar needs a workload, or a description, command or tags to compare with.', 'Pass workload (id or name), or describe the workload: description, command, classification, tags.');
      }
      const profile = target ?? { description: args.description, command: args.command, classification: args.classification, tags: args.tags };
      return { action: 'similar' as const, workload: target, similar: similarWorkloads(store, profile, { excludeId: target?.id, limit: Math.min(args.limit, 20) }) };
    }
    if (!args.workload) throw new UserError('get needs workload (id or name).', 'List workloads with workload {action: "list"}.');
    const workload = findWorkload(store, args.workload);
    const { runs } = queryRuns(store, { workload_id: workload.id, sort: 'time', limit: Math.min(args.limit, 50), offset: 0 });
    return { action: 'get' as const, workload, recent_runs: runs };
  },
  summarize(r) {
    if (r.similar) return `${r.similar.length} similar workload(s)${r.similar.map((x) => `\n  ${x.workload.name} (${x.similarity}: ${x.reasons.join(', ')})${x.best[0] ? ` best ${JSON.stringify(x.best[0].config)} ${x.best[0].primary_metric} median ${x.best[0].median} (n=${x.best[0].n})` : ''}`).join('')}`;
    if (r.workloads) return `${r.workloads.length} workload(s): ${r.workloads.map((w) => w.name).join(', ') || 'none'}`;
    const w = r.workload!;
    const runs = r.recent_runs ? `, ${r.recent_runs.length} recent run(s)` : '';
    return `${r.action === 'create' ? 'Created' : 'Workload'} ${w.name} (id ${w.id})${w.command ? `: ${w.command.join(' ')}` : ''}${runs}`;
  },
});

export const recordRunTool = defineTool({
  name: 'record_run',
  toolset: 'history',
  title: 'Record a measured run',
  description:
    'Record one measured trial the client ran itself (execution tools record their own runs). ' +
    'Give the config tried (any JSON, stored canonically with a stable config_key), its metrics, the primary metric and its direction. ' +
    'Host facts (host, kernel, CPU) are added to context automatically.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    domain: z.enum(DOMAINS).describe('sched, nccl, triton, workload, or other.'),
    workload: workloadRef.optional().describe('Workload id or name this run belongs to.'),
    config: z.unknown().describe('The configuration tried, e.g. {"scheduler":"scx_lavd","flags":["--performance"]}.'),
    metrics: z.record(z.string(), z.number()).describe('Measured values by name, e.g. {"p99_ms": 12.5, "throughput_rps": 910}.'),
    primary_metric: z.string().describe('The metric that decides what is better; must be in metrics when status is ok.'),
    direction,
    context: z.record(z.string(), z.unknown()).optional().describe('Anything else about the conditions (GPUs, versions, load).'),
    status: z.enum(RUN_STATUSES).default('ok').describe('ok, failed, timeout, canceled, or invalid (e.g. wrong results). Only ok runs count in statistics.'),
    notes: z.string().max(4000).optional().describe('Free text: what was special about this run.'),
  }),
  output: z.object({ run: runSchema }),
  async handler(args, { runtime }) {
    const workload = args.workload ? findWorkload(runtime.store, args.workload) : undefined;
    const run = recordRun(runtime.store, { ...args, workload_id: workload?.id ?? null });
    return { run };
  },
  summarize: ({ run }) => `Recorded run ${run.id} (${run.domain}, config ${run.config_key}): ${run.primary_metric}=${run.primary_value ?? 'n/a'} [${run.status}]`,
});

export const getHistoryTool = defineTool({
  name: 'get_history',
  toolset: 'history',
  title: 'Query run history',
  description:
    'Query recorded runs and the best config so far. Runs are filtered by workload, domain, config_key, metric, status and time, sorted by time or by the primary metric (best first), paginated; ' +
    'plus per-config aggregates (n, median, mean, min, max of the primary metric over all ok runs) and the best config so far. ' +
    'Use before choosing what to try next; use compare_runs to decide whether a difference is real.',
  annotations: READ_ONLY,
  input: z.object({
    workload: workloadRef.optional(),
    domain: z.enum(DOMAINS).optional().describe('Only runs of this domain.'),
    config_key: z.string().optional().describe('Only runs of this config.'),
    metric: z.string().optional().describe('Only runs whose primary metric is this.'),
    status: z.enum(RUN_STATUSES).optional().describe('Only runs with this status.'),
    since: timeArg('Only runs at or after').optional(),
    until: timeArg('Only runs at or before').optional(),
    sort: z.enum(['time', 'primary']).default('time').describe('time: newest first; primary: best primary value first.'),
    limit: z.number().int().min(1).max(200).default(20).describe('Runs per page.'),
    offset: z.number().int().min(0).default(0).describe('Runs to skip (use next_offset).'),
    aggregates: z.boolean().default(true).describe('Include per-config aggregates and the best config.'),
    include_context: z.boolean().default(false).describe("Include each run's context (host, kernel, GPUs, versions); off to keep answers small."),
  }),
  output: z.object({
    runs: z.array(runSchema),
    has_more: z.boolean(),
    next_offset: z.number().int().nullable(),
    aggregates: z.array(aggregateSchema).describe('Best first (by median, honouring direction); time and status filters do not apply to them.'),
    best: aggregateSchema.nullable().describe('The config with the best median so far; check its n before trusting it.'),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    const workload = args.workload ? findWorkload(store, args.workload) : undefined;
    const filter = {
      workload_id: workload?.id,
      domain: args.domain,
      config_key: args.config_key,
      primary_metric: args.metric,
      status: args.status,
      since_ms: parseTime(args.since, 'since'),
      until_ms: parseTime(args.until, 'until'),
    };
    const page = queryRuns(store, { ...filter, sort: args.sort, limit: args.limit, offset: args.offset });
    const runs = args.include_context ? page.runs : page.runs.map(({ context: _context, ...run }) => run);
    const has_more = page.has_more;
    const aggregates = args.aggregates ? configAggregates(store, filter, 10) : [];
    return {
      runs,
      has_more,
      next_offset: has_more ? args.offset + args.limit : null,
      aggregates,
      best: aggregates[0] ?? null,
    };
  },
  summarize(r) {
    const best = r.best
      ? `\nBest config so far: ${r.best.config_key} ${r.best.primary_metric} median ${r.best.median} (${r.best.direction} is better, n=${r.best.n})`
      : '';
    return `${r.runs.length} run(s)${r.has_more ? `, more from offset ${r.next_offset}` : ''}; ${r.aggregates.length} config aggregate(s).${best}`;
  },
});

export const compareRunsTool = defineTool({
  name: 'compare_runs',
  toolset: 'history',
  title: 'Compare two groups of runs',
  description:
    'Decide whether group b really differs from baseline group a. Each group is a config_key or a list of run ids, narrowed by shared filters. ' +
    'Returns n/mean/median/stdev/CV per group, the relative change of medians, a bootstrap 95% CI of the difference, a Mann-Whitney U p-value, ' +
    'a verdict (better / worse / no significant difference, for b against a, honouring the metric direction) and, when inconclusive, about how many more runs would settle it.',
  annotations: READ_ONLY,
  input: z.object({
    a_config_key: z.string().optional().describe('Baseline group: runs of this config.'),
    a_run_ids: z.array(z.number().int()).optional().describe('Baseline group: these runs.'),
    b_config_key: z.string().optional().describe('Candidate group: runs of this config.'),
    b_run_ids: z.array(z.number().int()).optional().describe('Candidate group: these runs.'),
    workload: workloadRef.optional().describe('Both groups: only runs of this workload.'),
    domain: z.enum(DOMAINS).optional().describe('Both groups: only this domain.'),
    metric: z.string().optional().describe('Metric to compare; default: the primary metric the runs share.'),
    direction: direction.optional().describe('Needed only when metric is not a primary metric of the runs.'),
    since: timeArg('Both groups: only runs at or after').optional(),
    until: timeArg('Both groups: only runs at or before').optional(),
    alpha: z.number().gt(0).lt(0.5).default(0.05).describe('Significance level.'),
  }),
  output: comparisonSchema.extend({
    a_run_ids: z.array(z.number().int()),
    b_run_ids: z.array(z.number().int()),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    const workload = args.workload ? findWorkload(store, args.workload) : undefined;
    const shared = {
      workload_id: workload?.id,
      domain: args.domain,
      status: 'ok' as const,
      since_ms: parseTime(args.since, 'since'),
      until_ms: parseTime(args.until, 'until'),
    };
    const group = (side: 'a' | 'b', key?: string, ids?: number[]): Run[] => {
      if (!key && !ids?.length) throw new UserError(`Group ${side} is empty: pass ${side}_config_key or ${side}_run_ids.`, 'Find config keys and run ids with get_history.');
      return selectRuns(store, { ...shared, config_key: key, run_ids: ids });
    };
    const runsA = group('a', args.a_config_key, args.a_run_ids);
    const runsB = group('b', args.b_config_key, args.b_run_ids);
    const { metric, dir } = resolveMetric([...runsA, ...runsB], args.metric, args.direction);
    const values = (runs: Run[]) => runs.map((r) => metricValue(r, metric)).filter((v): v is number => v !== undefined);
    const result = compare(values(runsA), values(runsB), dir, { metric, alpha: args.alpha });
    return { ...result, a_run_ids: runsA.map((r) => r.id), b_run_ids: runsB.map((r) => r.id) };
  },
  summarize: (r) => `${r.verdict.toUpperCase()}: ${r.explanation}\n a: n=${r.a.n} median=${r.a.median}  b: n=${r.b.n} median=${r.b.median}`,
});

export const historyTools = [workloadTool, recordRunTool, getHistoryTool, compareRunsTool, suggestConfigTool, rulesTool, searchKnowledgeTool];
