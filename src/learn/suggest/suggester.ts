/**
 * The suggester: given a space, the configs measured so far and an objective, which configs to try
 * next. Pure (no store, no MCP): suggest_config, the adaptive sweeps and the benchmark call it.
 *
 * Phases, per call:
 * 1. A repeat, when noise makes the ranking uncertain: the best config measured only once, or
 *    contenders within about two standard errors of the best that have few runs. Building on a
 *    lucky single measurement is the classic way a tuner fools itself.
 * 2. Seeds not yet measured: the space's defaults first (the baseline every gain is relative to),
 *    then the patches of matching rules (what worked on similar hosts/workloads).
 * 3. Space-filling while data are scarce: maximin picks among random points (each new point as far
 *    as possible from everything measured or already picked).
 * 4. The TPE surrogate (tpe.ts) once enough configs are measured.
 * Deterministic: the random stream depends only on the seed and the observations.
 */
import { seededRandom } from '../random.js';
import { choiceIndex, coverage, fromUnit, isNumeric, pointKey, spaceSize, toUnit, type ParamSpec, type Point, type Space } from './space.js';
import { predictLoss, proposeTpe, samplePrior, dimsOf, type Encoded, type Observed } from './tpe.js';

export type Direction = 'lower' | 'higher';
export type CandidateKind = 'repeat' | 'default' | 'rule' | 'space-filling' | 'model';

export interface ConfigObservation {
  point: Point;
  /** The objective's values over this config's ok runs. */
  values: number[];
  run_ids: number[];
}

export interface Seed {
  point: Point;
  kind: 'default' | 'rule';
  /** Why this seed: "the defaults", "rule 4: ...". */
  reason: string;
}

export interface SuggestOptions {
  direction: Direction;
  count: number;
  seed: number;
  seeds?: Seed[];
  /** Distinct configs to measure before the model takes over (default: from the dimension count). */
  startup?: number;
  /** Runs a contender may get through repeats (default 4). */
  maxRepeats?: number;
}

export interface Candidate {
  point: Point;
  kind: CandidateKind;
  /** The surrogate's estimate of the objective (in the metric's own units), when it has data. */
  predicted: number | null;
  /** One standard deviation of that estimate. */
  uncertainty: number | null;
  rationale: string;
}

export interface ConfigSummary {
  point: Point;
  n: number;
  mean: number;
  median: number;
  stdev: number | null;
  run_ids: number[];
}

export interface Suggestion {
  phase: 'space-filling' | 'model';
  candidates: Candidate[];
  best: ConfigSummary | null;
  /** Pooled within-config coefficient of variation of the objective, when some config has 2+ runs. */
  noise_cv: number | null;
  coverage: ReturnType<typeof coverage>;
}

export function startupCount(params: ParamSpec[]): number {
  return Math.min(10, Math.max(5, params.length + 3));
}

export function encode(params: ParamSpec[], point: Point): Encoded {
  return params.map((p) => {
    const v = point[p.name];
    if (v === undefined) return NaN;
    if (isNumeric(p)) return toUnit(p, v as number);
    const i = choiceIndex(p, v);
    return i < 0 ? NaN : i;
  });
}

export function decode(params: ParamSpec[], x: Encoded): Point {
  const point: Point = {};
  params.forEach((p, j) => {
    if (Number.isNaN(x[j])) return;
    point[p.name] = isNumeric(p) ? fromUnit(p, x[j]) : p.choices![Math.min(p.choices!.length - 1, Math.max(0, Math.round(x[j])))];
  });
  return point;
}

export function suggest(space: Space, observations: ConfigObservation[], options: SuggestOptions): Suggestion {
  const params = space.params;
  const sign = options.direction === 'lower' ? 1 : -1;
  const configs = mergeByPoint(params, observations);
  // Ranked by median (robust to one wild run), as get_history ranks configs.
  const summaries = configs.map(summarizeConfig).sort((a, b) => sign * (a.median - b.median));
  const best = summaries[0] ?? null;
  const noiseCv = pooledCv(summaries);
  const observed: Observed[] = summaries.map((s) => ({ x: encode(params, s.point), loss: sign * s.median }));
  const measured = new Set(summaries.map((s) => pointKey(params, s.point)));
  const fingerprint = summaries.map((s) => `${pointKey(params, s.point)}:${s.n}:${s.median}`).join('|');
  const random = seededRandom(options.seed, fingerprint);
  const startup = options.startup ?? startupCount(params);
  const size = spaceSize(params);

  const candidates: Candidate[] = [];
  const picked = new Set<string>();
  const add = (c: Candidate): void => {
    picked.add(pointKey(params, c.point));
    candidates.push(c);
  };
  const isCandidate = (point: Point) => !measured.has(pointKey(params, point)) && !picked.has(pointKey(params, point)) && (space.isValid?.(point) ?? true);

  const repeat = chooseRepeat(summaries, options, startup, measured.size >= size);
  if (repeat) add({ point: repeat.config.point, kind: 'repeat', predicted: null, uncertainty: null, rationale: repeat.reason });

  for (const seed of options.seeds ?? []) {
    if (candidates.length >= options.count) break;
    // Seeds may leave parameters unset (an untuned default lets the system choose).
    if (!isCandidate(seed.point)) continue;
    add({ point: seed.point, kind: seed.kind, predicted: null, uncertainty: null, rationale: seed.reason });
  }

  const snap = (x: Encoded) => encode(params, decode(params, x));
  while (candidates.length < options.count && measured.size + picked.size < Math.min(startup, size)) {
    const point = maximinPoint(params, [...observed.map((o) => o.x), ...candidates.map((c) => encode(params, c.point))], random, isCandidate);
    if (!point) break;
    add({ point, kind: 'space-filling', predicted: null, uncertainty: null, rationale: 'Space-filling start: the point farthest from everything measured so far.' });
  }

  const modelReady = observed.length >= 2;
  if (candidates.length < options.count && modelReady) {
    const proposals = proposeTpe(params, observed, options.count - candidates.length, random, { snap, accept: (x) => isCandidate(decode(params, x)) });
    for (const p of proposals) {
      const point = decode(params, p.x);
      if (!isCandidate(point)) continue;
      add({ point, kind: 'model', predicted: null, uncertainty: null, rationale: 'Surrogate (TPE): most likely to beat the best configs relative to the rest.' });
    }
  }
  // A small space fully measured, or a model that found nothing new: more runs of the leaders.
  for (const s of summaries) {
    if (candidates.length >= options.count) break;
    if (picked.has(pointKey(params, s.point))) continue;
    if (measured.size + picked.size < size && !modelReady) break;
    add({ point: s.point, kind: 'repeat', predicted: null, uncertainty: null, rationale: `Nothing unmeasured is more promising: another run of a leading config (n=${s.n}).` });
  }

  if (modelReady) {
    for (const c of candidates) {
      const { mean, sd } = predictLoss(params, observed, encode(params, c.point));
      c.predicted = round(sign * mean);
      c.uncertainty = round(sd);
      if (c.kind === 'model') c.rationale = modelRationale(c, best, options.direction);
    }
  }
  return {
    phase: measured.size < startup ? 'space-filling' : 'model',
    candidates,
    best,
    noise_cv: noiseCv,
    coverage: coverage(params, summaries.map((s) => s.point)),
  };
}

function mergeByPoint(params: ParamSpec[], observations: ConfigObservation[]): ConfigObservation[] {
  const byKey = new Map<string, ConfigObservation>();
  for (const o of observations) {
    if (o.values.length === 0) continue;
    const key = pointKey(params, o.point);
    const prev = byKey.get(key);
    if (prev) byKey.set(key, { point: prev.point, values: [...prev.values, ...o.values], run_ids: [...prev.run_ids, ...o.run_ids] });
    else byKey.set(key, { point: o.point, values: [...o.values], run_ids: [...o.run_ids] });
  }
  return [...byKey.values()];
}

function summarizeConfig(o: ConfigObservation): ConfigSummary {
  const n = o.values.length;
  const mean = o.values.reduce((s, v) => s + v, 0) / n;
  const sorted = [...o.values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const stdev = n > 1 ? Math.sqrt(o.values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { point: o.point, n, mean, median, stdev, run_ids: o.run_ids };
}

/** Pooled within-config CV over configs with 2+ runs. */
function pooledCv(summaries: ConfigSummary[]): number | null {
  let num = 0;
  let df = 0;
  for (const s of summaries) {
    if (s.stdev === null || s.mean === 0) continue;
    num += (s.n - 1) * (s.stdev / Math.abs(s.mean)) ** 2;
    df += s.n - 1;
  }
  return df > 0 ? Math.sqrt(num / df) : null;
}

function chooseRepeat(summaries: ConfigSummary[], options: SuggestOptions, startup: number, exhausted: boolean): { config: ConfigSummary; reason: string } | null {
  const best = summaries[0];
  const maxRepeats = options.maxRepeats ?? 4;
  if (!best || summaries.length < Math.min(startup, 3) || exhausted) return null;
  // Repeats are at most a fifth of all runs: the rest of the budget explores.
  const runs = summaries.reduce((s, c) => s + c.n, 0);
  if (runs - summaries.length >= 0.2 * runs) return null;
  if (best.n === 1 && summaries.length >= startup) {
    return { config: best, reason: 'The best config so far was measured once: a repeat tells a real lead from a lucky run.' };
  }
  const cv = pooledCv(summaries);
  if (cv === null || best.n >= maxRepeats) return null;
  // Contenders: configs whose mean is within two standard errors (from the pooled noise) of the best.
  const se = (s: ConfigSummary) => (cv * Math.abs(s.mean)) / Math.sqrt(s.n);
  const contenders = summaries.slice(1, 4).filter((s) => Math.abs(s.median - best.median) < 2 * Math.hypot(se(s), se(best)));
  if (contenders.length === 0) return null;
  const thinnest = [best, ...contenders].filter((s) => s.n < maxRepeats).sort((a, b) => a.n - b.n)[0];
  if (!thinnest) return null;
  return {
    config: thinnest,
    reason: `${contenders.length + 1} configs are within noise of each other (CV ${(cv * 100).toFixed(1)}%): another run of the least-measured (n=${thinnest.n}) settles the ranking.`,
  };
}

function maximinPoint(params: ParamSpec[], taken: Encoded[], random: () => number, isCandidate: (p: Point) => boolean): Point | null {
  const dims = dimsOf(params);
  let best: Point | null = null;
  let bestDistance = -1;
  for (let t = 0; t < 128; t++) {
    const point = decode(params, samplePrior(dims, random));
    if (!isCandidate(point)) continue;
    const x = encode(params, point);
    const d = taken.length ? Math.min(...taken.map((y) => distance(dims, x, y))) : 1;
    if (d > bestDistance) {
      bestDistance = d;
      best = point;
    }
  }
  return best;
}

/** Mixed distance: |du| per numeric dimension, 1 per differing category, 0.5 per unknown. */
function distance(dims: ReturnType<typeof dimsOf>, a: Encoded, b: Encoded): number {
  let d = 0;
  for (let j = 0; j < dims.length; j++) {
    if (Number.isNaN(a[j]) || Number.isNaN(b[j])) d += 0.5;
    else d += dims[j].numeric ? Math.abs(a[j] - b[j]) : a[j] === b[j] ? 0 : 1;
  }
  return d;
}

function modelRationale(c: Candidate, best: ConfigSummary | null, direction: Direction): string {
  if (!best || c.predicted === null) return c.rationale;
  const better = direction === 'lower' ? c.predicted < best.median : c.predicted > best.median;
  const rel = best.median !== 0 ? Math.abs((c.predicted - best.median) / best.median) : 0;
  return better
    ? `Surrogate (TPE) predicts ${(rel * 100).toFixed(1)}% ${direction === 'lower' ? 'below' : 'above'} the best so far.`
    : `Surrogate (TPE): unexplored region near good configs (prediction ${c.predicted} ± ${c.uncertainty}).`;
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
