/**
 * Ranking a sweep's trials: overall (the objective), per message-size band, and per size, always
 * against the untuned default measured in the same sweep. Whether a winner is real is decided by
 * compare() from learn/stats.ts (the one statistics module); with too few repeats it says so.
 */
import { compare, summarize, type Verdict } from '../../learn/stats.js';
import { BAND_NAMES, type BandName } from '../run/objective.js';
import type { PlannedConfig } from './plan.js';

export interface Trial {
  config: number;
  repeat: number;
  status: string;
  runId: number | null;
  objective: number | null;
  bands: Partial<Record<BandName, number>>;
  bySize: Map<number, number>;
  /** What NCCL chose per size, when the run logged it (NCCL_DEBUG_SUBSYS=TUNING). */
  choices: Map<number, { algorithm: string; protocol: string; channels: number | null }>;
}

export interface Standing {
  label: string;
  config_index: number;
  settings: Record<string, string>;
  n: number;
  median_gbps: number | null;
  values_gbps: number[];
  /** (median - default median) / default median. */
  margin_vs_default: number | null;
  verdict: Verdict | 'baseline';
  explanation: string;
}

export interface BandStanding {
  band: BandName;
  default_median_gbps: number | null;
  best: Standing | null;
}

export interface SizeStanding {
  bytes: number;
  winner: string;
  winner_index: number;
  busbw_gbps: number;
  default_busbw_gbps: number | null;
  margin_vs_default: number | null;
  verdict: Verdict | 'baseline';
}

const okValues = (trials: Trial[], config: number, pick: (t: Trial) => number | null | undefined): number[] =>
  trials.filter((t) => t.config === config && t.status === 'ok').map(pick).filter((v): v is number => typeof v === 'number');

export function standings(configs: PlannedConfig[], trials: Trial[], pick: (t: Trial) => number | null | undefined, metric: string): Standing[] {
  const baseline = okValues(trials, 0, pick);
  const baseMedian = median(baseline);
  const list = configs.map((c): Standing => {
    const values = okValues(trials, c.index, pick);
    const med = median(values);
    const margin = med !== null && baseMedian ? (med - baseMedian) / baseMedian : null;
    if (c.isDefault) {
      return { label: c.label, config_index: c.index, settings: c.settings, n: values.length, median_gbps: med, values_gbps: values, margin_vs_default: 0, verdict: 'baseline', explanation: 'The untuned default (no tuning variables set).' };
    }
    const cmp = values.length && baseline.length ? compare(baseline, values, 'higher', { metric }) : null;
    return {
      label: c.label,
      config_index: c.index,
      settings: c.settings,
      n: values.length,
      median_gbps: med,
      values_gbps: values,
      margin_vs_default: margin,
      verdict: cmp?.verdict ?? 'no significant difference',
      explanation: cmp?.explanation ?? (values.length ? 'The default produced no value to compare with.' : 'No successful run.'),
    };
  });
  return list.sort((a, b) => (b.median_gbps ?? -Infinity) - (a.median_gbps ?? -Infinity));
}

export function bandStandings(configs: PlannedConfig[], trials: Trial[]): BandStanding[] {
  return BAND_NAMES.map((band) => {
    const ranked = standings(configs, trials, (t) => t.bands[band], `busbw_${band}_gbps`).filter((s) => s.median_gbps !== null);
    const def = ranked.find((s) => s.config_index === 0);
    return { band, default_median_gbps: def?.median_gbps ?? null, best: ranked[0] ?? null };
  }).filter((b) => b.best !== null);
}

/** The best config at each measured size, optionally among a subset (e.g. tuner-expressible ones). */
export function sizeStandings(configs: PlannedConfig[], trials: Trial[], eligible: (c: PlannedConfig, size: number) => boolean = () => true): SizeStanding[] {
  const sizes = [...new Set(trials.flatMap((t) => [...t.bySize.keys()]))].sort((a, b) => a - b);
  const out: SizeStanding[] = [];
  for (const size of sizes) {
    const baseline = okValues(trials, 0, (t) => t.bySize.get(size));
    const baseMedian = median(baseline);
    let best: { c: PlannedConfig; values: number[]; med: number } | null = null;
    for (const c of configs) {
      if (!c.isDefault && !eligible(c, size)) continue;
      const values = okValues(trials, c.index, (t) => t.bySize.get(size));
      const med = median(values);
      if (med !== null && (!best || med > best.med)) best = { c, values, med };
    }
    if (!best) continue;
    const cmp = best.c.isDefault || !baseline.length ? null : compare(baseline, best.values, 'higher', { metric: `busbw_gbps@${size}` });
    out.push({
      bytes: size,
      winner: best.c.label,
      winner_index: best.c.index,
      busbw_gbps: best.med,
      default_busbw_gbps: baseMedian,
      margin_vs_default: baseMedian ? (best.med - baseMedian) / baseMedian : null,
      verdict: best.c.isDefault ? 'baseline' : (cmp?.verdict ?? 'no significant difference'),
    });
  }
  return out;
}

function median(values: number[]): number | null {
  return summarize(values).median;
}
