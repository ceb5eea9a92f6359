/**
 * What a sweep will run: the untuned default first, then the explicit configs, then the grid's
 * cartesian product, each validated (configs with errors are skipped, not run), duplicates merged,
 * and the list cut to the run budget (max_runs counts every execution, repeats included).
 */
import { UserError } from '../../core/errors.js';
import { canonicalJson } from '../../learn/canonical.js';
import { findParam } from '../params/table.js';
import { validateNcclEnv, type NcclEnv } from '../params/validate.js';
import type { Problem } from '../params/problem.js';

/** Categories of variables a tuned config sets; the default run has none of them. */
const TUNING_CATEGORIES = ['algorithm', 'resources', 'plugin'];

export interface PlannedConfig {
  index: number;
  /** "default", or the trial variables as NAME=value pairs. */
  label: string;
  /** The variables this config adds to the base (empty for the default). */
  settings: NcclEnv;
  /** The full environment of its runs: base (minus tuning variables for the default) + settings. */
  env: NcclEnv;
  isDefault: boolean;
  warnings: Problem[];
}

export interface SweepPlan {
  configs: PlannedConfig[];
  repeats: number;
  /** Configs not run: validation errors or the run budget. */
  skipped: { label: string; reason: string }[];
  /** Variables of the base environment the default run leaves out. */
  defaultOmits: string[];
}

export interface PlanInput {
  base: NcclEnv;
  configs?: NcclEnv[];
  grid?: Record<string, string[]>;
  repeats: number;
  maxRuns: number;
  ncclVersion?: string;
  allowInvalid?: boolean;
}

const MAX_GRID = 10_000;

export function planSweep(input: PlanInput): SweepPlan {
  const candidates = [...(input.configs ?? []), ...expandGrid(input.grid ?? {})];
  if (candidates.length === 0) throw new UserError('The sweep has nothing to try.', 'Pass configs (a list of {VAR: value}) or grid ({VAR: [values...]}).');
  const { config: defaultConfig, omits: defaultOmits } = plannedDefault(input.base, new Set(candidates.flatMap((c) => Object.keys(c))));
  const configs: PlannedConfig[] = [defaultConfig];
  const skipped: SweepPlan['skipped'] = [];
  const seen = new Set<string>([canonicalJson({})]);
  for (const settings of candidates) {
    const planned = plannedConfig(configs.length, settings, input);
    if ('reason' in planned) {
      skipped.push(planned);
      continue;
    }
    const key = canonicalJson(settings);
    if (seen.has(key)) continue;
    seen.add(key);
    configs.push(planned);
  }
  const fit = Math.floor(input.maxRuns / input.repeats);
  if (fit < 2) {
    throw new UserError(
      `max_runs ${input.maxRuns} with repeats ${input.repeats} leaves no room beyond the default.`,
      `Raise max_runs to at least ${2 * input.repeats}, or lower repeats.`,
    );
  }
  for (const c of configs.splice(fit)) skipped.push({ label: c.label, reason: `over the run budget (max_runs ${input.maxRuns}, repeats ${input.repeats})` });
  return { configs, repeats: input.repeats, skipped, defaultOmits };
}

/** The untuned default: the base without the swept variables and those that tune NCCL. */
export function plannedDefault(base: NcclEnv, swept: Set<string>): { config: PlannedConfig; omits: string[] } {
  const omits = Object.keys(base).filter((k) => swept.has(k) || TUNING_CATEGORIES.includes(findParam(k)?.category ?? '')).sort();
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !omits.includes(k)));
  return { config: { index: 0, label: 'default', settings: {}, env, isDefault: true, warnings: [] }, omits };
}

/** A config to run: the base plus its settings, validated for the release (unless allow_invalid); the reason when it cannot run. */
export function plannedConfig(index: number, settings: NcclEnv, input: Pick<PlanInput, 'base' | 'ncclVersion' | 'allowInvalid'>): PlannedConfig | { label: string; reason: string } {
  const label = labelOf(settings);
  const validation = validateNcclEnv({ ...input.base, ...settings }, { ncclVersion: input.ncclVersion });
  if (!validation.ok && !input.allowInvalid) return { label, reason: `invalid: ${validation.errors.map((e) => e.message).join(' ')}` };
  const env = input.allowInvalid ? { ...input.base, ...settings } : validation.normalized;
  return { index, label, settings, env, isDefault: false, warnings: validation.warnings };
}

export function expandGrid(grid: Record<string, string[]>): NcclEnv[] {
  const entries = Object.entries(grid);
  for (const [name, values] of entries) {
    if (!Array.isArray(values) || values.length === 0) throw new UserError(`grid.${name} has no values.`, `Give a list, e.g. {"${name}": ["a", "b"]}.`);
  }
  const size = entries.reduce((n, [, v]) => n * v.length, 1);
  if (size > MAX_GRID) throw new UserError(`The grid has ${size} combinations (more than ${MAX_GRID}).`, 'Sweep fewer variables or values at once.');
  let combos: NcclEnv[] = entries.length ? [{}] : [];
  for (const [name, values] of entries) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: String(v) })));
  return combos;
}

export function labelOf(settings: NcclEnv): string {
  const entries = Object.entries(settings).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(' ') : 'default';
}
