/** Which metric a set of runs is judged on, and which way is better. */
import { UserError } from '../core/errors.js';
import type { Run } from './runs.js';
import type { Direction } from './stats.js';

/**
 * The given metric (its direction from the runs where it is primary, else the caller's), or the
 * one primary metric all the runs share.
 */
export function resolveMetric(runs: Run[], metric: string | undefined, direction: Direction | undefined): { metric: string; dir: Direction } {
  if (runs.length === 0) throw new UserError('No ok runs match either group.', 'Check the config keys / run ids and filters with get_history.');
  if (metric) {
    const asPrimary = runs.find((r) => r.primary_metric === metric);
    const dir = direction ?? asPrimary?.direction;
    if (!dir) throw new UserError(`${metric} is not the primary metric of these runs, so its direction is unknown.`, 'Pass direction: "lower" or "higher".');
    return { metric, dir };
  }
  const primaries = [...new Set(runs.map((r) => `${r.primary_metric}|${r.direction}`))];
  if (primaries.length > 1) {
    throw new UserError(`The runs have different primary metrics: ${primaries.map((p) => p.split('|')[0]).join(', ')}.`, 'Pass metric (and direction if needed) to choose one.');
  }
  const [m, d] = primaries[0].split('|');
  return { metric: m, dir: (direction ?? d) as Direction };
}

/** A run's value of a metric: the primary value when it is the primary metric, else from its metrics. */
export function metricValue(run: Run, metric: string): number | undefined {
  const v = run.primary_metric === metric ? run.primary_value : run.metrics[metric];
  return typeof v === 'number' ? v : undefined;
}
