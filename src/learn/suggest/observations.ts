/** What the suggester learns from: recorded runs as observations of a space, and rules as seeds. */
import type { Store } from '../../core/store.js';
import { metricValue, resolveMetric } from '../metric.js';
import { selectRuns, type Domain, type Run } from '../runs.js';
import type { Direction } from '../stats.js';
import type { RuleMatch } from '../rules/store.js';
import { defaultPoint, type Space } from './space.js';
import type { ConfigObservation, Seed } from './suggester.js';

export interface ObservationFilter {
  workload_id?: number;
  domain?: Domain;
  metric?: string;
  direction?: Direction;
  /** Only runs whose context has these values. */
  context?: Record<string, string | number | boolean>;
  /** Leave out this job's runs (an adaptive search passes its own measurements directly). */
  exclude_job?: string;
}

export interface Observations {
  configs: ConfigObservation[];
  metric: string | null;
  direction: Direction;
  runs: number;
  /** Runs whose config is not in the space (another scheduler, variables the space does not vary ...). */
  ignored: number;
}

/** The ok runs matching the filter whose config is in the space, grouped per config. */
export function collectObservations(store: Store, space: Space, filter: ObservationFilter): Observations {
  const all = selectRuns(store, { workload_id: filter.workload_id, domain: filter.domain, status: 'ok' });
  const inContext = all.filter((r) => (filter.exclude_job === undefined || r.job_id !== filter.exclude_job) && Object.entries(filter.context ?? {}).every(([k, v]) => r.context[k] !== undefined && String(r.context[k]) === String(v)));
  const inSpace: { run: Run; point: NonNullable<ReturnType<Space['fromConfig']>> }[] = [];
  for (const run of inContext) {
    const point = space.fromConfig(run.config);
    if (point) inSpace.push({ run, point });
  }
  let metric: string | null = filter.metric ?? null;
  let direction: Direction = filter.direction ?? 'lower';
  if (inSpace.length) {
    const resolved = resolveMetric(inSpace.map((x) => x.run), filter.metric, filter.direction);
    metric = resolved.metric;
    direction = resolved.dir;
  }
  const byKey = new Map<string, ConfigObservation>();
  let used = 0;
  for (const { run, point } of inSpace) {
    const v = metricValue(run, metric!);
    if (v === undefined) continue;
    used++;
    const entry = byKey.get(run.config_key) ?? { point, values: [], run_ids: [] };
    entry.values.push(v);
    entry.run_ids.push(run.id);
    byKey.set(run.config_key, entry);
  }
  return { configs: [...byKey.values()], metric, direction, runs: used, ignored: inContext.length - inSpace.length };
}

/** Rule patches applied on top of the space's default config, as seeds (those that land in the space). */
export function ruleSeeds(space: Space, matches: RuleMatch[]): Seed[] {
  const base = space.toConfig(defaultPoint(space.params));
  const seeds: Seed[] = [];
  for (const m of matches) {
    const config: Record<string, unknown> = { ...(base && typeof base === 'object' ? (base as Record<string, unknown>) : {}) };
    for (const [k, v] of Object.entries(m.rule.patch)) {
      if (v === null) delete config[k];
      else config[k] = v;
    }
    const point = space.fromConfig(config);
    if (!point) continue;
    const gain = m.rule.gain === null ? '' : `, ${(m.rule.gain * 100).toFixed(1)}% better there`;
    seeds.push({ point, kind: 'rule', reason: `Rule ${m.rule.id} (match ${m.score}${gain}): ${JSON.stringify(m.rule.patch)} worked in a similar context.` });
  }
  return seeds;
}
