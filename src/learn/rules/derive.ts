/**
 * Deriving rules from history: for each workload/domain/metric, every config that beats the
 * baseline with a statistically significant margin (stats.compare, the same test compare_runs
 * uses) becomes a rule candidate "in this context, this patch beat the baseline by X".
 *
 * - Baseline: the config the caller names; else the untuned default as the tools record it
 *   (`{}` for NCCL and explicit spaces, `{scheduler: "default"}` for schedulers); else the config
 *   measured first (the loop measures its baseline first).
 * - Patch: the keys whose values differ from the baseline (null for a key the baseline set and the
 *   winner left unset).
 * - Context: what all runs behind the comparison share: the workload's class and tags, and the
 *   host/CPU/GPU/kernel/NCCL version/collective/message band when every run agrees, the node, rank,
 *   GPU and CPU counts as ranges.
 * - Confidence: 1 - p, scaled down when either group has fewer than 5 runs.
 */
import type { Store } from '../../core/store.js';
import { canonicalJson } from '../canonical.js';
import { compare, type Comparison, type Direction } from '../stats.js';
import { selectRuns, type Domain, type Run } from '../runs.js';
import type { Workload } from '../workloads.js';
import type { RuleContext } from './context.js';
import type { RuleInput } from './store.js';

export interface DeriveOptions {
  workload?: Workload;
  domain?: Domain;
  baselineConfigKey?: string;
  alpha: number;
  /** Runs each side needs before it is compared. */
  minRuns: number;
}

export interface RuleCandidate extends RuleInput {
  baseline_config_key: string;
  config_key: string;
  comparison: Comparison;
}

interface Group {
  workload_id: number;
  domain: Domain;
  primary_metric: string;
  direction: Direction;
}

interface ConfigRow {
  config_key: string;
  config: string;
  n: number;
}

const MAX_GROUPS = 200;
const MAX_CONFIGS_PER_GROUP = 100;

export function deriveRuleCandidates(store: Store, options: DeriveOptions, workloadsById: (id: number) => Workload | undefined): RuleCandidate[] {
  const groups = store.db
    .prepare(
      `SELECT workload_id, domain, primary_metric, MIN(direction) AS direction FROM config_stats
       WHERE (@workload IS NULL OR workload_id = @workload) AND (@domain IS NULL OR domain = @domain)
       GROUP BY workload_id, domain, primary_metric HAVING COUNT(*) >= 2 LIMIT ${MAX_GROUPS}`,
    )
    .all({ workload: options.workload?.id ?? null, domain: options.domain ?? null }) as Group[];
  const candidates: RuleCandidate[] = [];
  for (const g of groups) {
    const configs = store.db
      .prepare(`SELECT config_key, config, n FROM config_stats WHERE workload_id = ? AND domain = ? AND primary_metric = ? ORDER BY n DESC LIMIT ${MAX_CONFIGS_PER_GROUP}`)
      .all(g.workload_id, g.domain, g.primary_metric) as ConfigRow[];
    const runsOf = (key: string) => selectRuns(store, { workload_id: g.workload_id || undefined, domain: g.domain, primary_metric: g.primary_metric, config_key: key, status: 'ok' }).filter((r) => g.workload_id !== 0 || r.workload_id === null);
    const baseline = chooseBaseline(store, g, configs, options.baselineConfigKey);
    if (!baseline) continue;
    const baseRuns = runsOf(baseline.config_key);
    if (baseRuns.length < options.minRuns) continue;
    const baseConfig = JSON.parse(baseline.config) as unknown;
    const workload = g.workload_id ? workloadsById(g.workload_id) : undefined;
    for (const c of configs) {
      if (c.config_key === baseline.config_key || c.n < options.minRuns) continue;
      const runs = runsOf(c.config_key);
      const result = compare(values(baseRuns), values(runs), g.direction, { metric: g.primary_metric, alpha: options.alpha });
      if (result.verdict !== 'better' || result.relative_change === null || result.p_value === null) continue;
      const config = JSON.parse(c.config) as unknown;
      const patch = configPatch(baseConfig, config);
      if (Object.keys(patch).length === 0) continue;
      const gain = g.direction === 'lower' ? -result.relative_change : result.relative_change;
      const smaller = Math.min(baseRuns.length, runs.length);
      candidates.push({
        domain: g.domain,
        context: sharedContext(workload, [...baseRuns, ...runs]),
        patch,
        metric: g.primary_metric,
        direction: g.direction,
        gain: Number(gain.toFixed(4)),
        confidence: Number(((1 - result.p_value) * Math.min(1, smaller / 5)).toFixed(3)),
        evidence: [...baseRuns, ...runs].map((r) => r.id),
        source: 'derived',
        note: `${workload ? `${workload.name}: ` : ''}${result.explanation}`,
        workload_id: workload?.id ?? null,
        baseline_config_key: baseline.config_key,
        config_key: c.config_key,
        comparison: result,
      });
    }
  }
  return candidates.sort((a, b) => (b.gain ?? 0) * b.confidence - (a.gain ?? 0) * a.confidence);
}

function values(runs: Run[]): number[] {
  return runs.map((r) => r.primary_value).filter((v): v is number => v !== null);
}

/** The untuned default as the execution tools record it. */
export function isDefaultConfig(config: unknown): boolean {
  if (!config || typeof config !== 'object') return false;
  const c = config as Record<string, unknown>;
  if (Object.keys(c).length === 0) return true;
  return c.scheduler === 'default' && (!Array.isArray(c.flags) || c.flags.length === 0) && Object.keys(c).every((k) => k === 'scheduler' || k === 'flags');
}

function chooseBaseline(store: Store, g: Group, configs: ConfigRow[], explicitKey?: string): ConfigRow | undefined {
  if (explicitKey) return configs.find((c) => c.config_key === explicitKey);
  const defaults = configs.find((c) => isDefaultConfig(JSON.parse(c.config)));
  if (defaults) return defaults;
  const first = store.db
    .prepare(`SELECT config_key FROM runs WHERE workload_id IS ? AND domain = ? AND primary_metric = ? AND status = 'ok' ORDER BY created_ms, id LIMIT 1`)
    .get(g.workload_id || null, g.domain, g.primary_metric) as { config_key: string } | undefined;
  return configs.find((c) => c.config_key === first?.config_key);
}

/** Keys whose values differ from the baseline; a key only the baseline set becomes null. */
export function configPatch(baseline: unknown, config: unknown): Record<string, unknown> {
  const a = baseline && typeof baseline === 'object' && !Array.isArray(baseline) ? (baseline as Record<string, unknown>) : {};
  const b = config && typeof config === 'object' && !Array.isArray(config) ? (config as Record<string, unknown>) : { value: config };
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (canonicalJson(a[key]) === canonicalJson(b[key])) continue;
    patch[key] = key in b ? b[key] : null;
  }
  return patch;
}

/** What every run agrees on, as rule conditions. */
export function sharedContext(workload: Workload | undefined, runs: Run[]): RuleContext {
  const context: RuleContext = {};
  if (workload) {
    context.workload = workload.name;
    if (workload.classification) context.classification = workload.classification;
    if (workload.tags.length) context.tags = workload.tags;
  }
  const same = (read: (r: Run) => unknown): string | undefined => {
    const seen = new Set(runs.map((r) => read(r)).map((v) => (v === undefined || v === null ? '' : String(v))));
    const [only] = seen;
    return seen.size === 1 && only !== '' ? only : undefined;
  };
  const text = {
    host: same((r) => r.context.host),
    cpu_model: same((r) => r.context.cpu_model),
    kernel: same((r) => r.context.kernel),
    gpu_model: same((r) => (Array.isArray(r.context.gpu_models) && r.context.gpu_models.length === 1 ? r.context.gpu_models[0] : r.context.gpu_model)),
    nccl_version: same((r) => r.context.nccl_version),
    collective: same((r) => r.context.collective),
    message_band: same((r) => r.context.objective_band ?? r.context.message_band),
  };
  for (const [key, value] of Object.entries(text)) if (value !== undefined) (context as Record<string, unknown>)[key] = value;
  for (const key of ['nodes', 'ranks', 'gpus', 'cpus'] as const) {
    const xs = runs.map((r) => r.context[key]).filter((v): v is number => typeof v === 'number');
    if (xs.length === runs.length && xs.length > 0) context[key] = { min: Math.min(...xs), max: Math.max(...xs) };
  }
  return context;
}
