/**
 * The surrogate: a multivariate Tree-structured Parzen Estimator (TPE), hand-written because no
 * well-kept npm library offers TPE or a forest with expected improvement for mixed spaces.
 *
 * Method (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011; the
 * multivariate kernel as in Falkner et al., BOHB, ICML 2018, and Optuna's `multivariate=True`):
 * - Observed configs are split by loss into a good set (the best gamma(N) of them) and a bad set.
 * - Each set becomes a kernel density over the space: one product kernel per config, a truncated
 *   Gaussian per numeric dimension (in the unit/log-unit scale) and an Aitchison-Aitken kernel per
 *   categorical one, plus a uniform prior component. The product kernel keeps interactions
 *   (proto x channels) that independent per-parameter densities lose.
 * - Candidates are sampled from the good density l(x); the acquisition is l(x) / g(x), which is
 *   monotone in expected improvement under TPE's model. Several candidates at once use a
 *   "constant liar": each pick joins the bad set before the next is scored, pushing picks apart.
 * - A kernel regression with the same kernels gives each candidate a predicted loss and an
 *   uncertainty (the spread of nearby observations, inflated where data are thin).
 *
 * Points are encoded as number arrays: numeric dimensions as [0, 1] positions, categorical ones as
 * choice indices; NaN marks a parameter the config did not set (its kernel factor is neutral).
 */
import { errorFunction } from 'simple-statistics';
import { gaussian } from '../random.js';
import { cardinality, isNumeric, type ParamSpec } from './space.js';

export type Encoded = number[];

interface Dim {
  numeric: boolean;
  /** Choices (categorical) or distinct values (int); Infinity for float. */
  card: number;
}

export function dimsOf(params: ParamSpec[]): Dim[] {
  return params.map((p) => ({ numeric: isNumeric(p), card: cardinality(p) }));
}

/** Share of the good set: Optuna/hyperopt-style, a quarter of the data capped at 25, never the whole set. */
export function goodCount(n: number): number {
  return Math.max(1, Math.min(25, Math.ceil(0.25 * n), n - 1));
}

const SQRT2 = Math.SQRT2;
const normCdf = (z: number) => 0.5 * (1 + errorFunction(z / SQRT2));

class Parzen {
  private readonly bandwidth: number[];
  private readonly epsilon: number[];
  private readonly mass: Float64Array[];
  /** Weight of the uniform prior component, in units of one observation. */
  private readonly priorWeight = 1;

  constructor(
    private readonly dims: Dim[],
    private readonly points: Encoded[],
  ) {
    const n = Math.max(1, points.length);
    const d = dims.length;
    // Optuna's multivariate rule: 0.2 * n^(-1/(d+4)) of the (unit) range, whatever the spread of the
    // points (a data-driven width collapses onto a cluster of good points and stops exploring);
    // for ints at least about one grid step, so neighbours count.
    this.bandwidth = dims.map((dim) => {
      if (!dim.numeric) return 0;
      const floor = Number.isFinite(dim.card) && dim.card > 1 ? Math.min(0.5, 0.6 / (dim.card - 1)) : 0.01;
      return Math.max(floor, 0.2 * n ** (-1 / (d + 4)));
    });
    // Optuna's categorical kernel with prior weight 1: the observed choice keeps (1 + 1/k) / 2, the
    // rest share the remainder, so good sets never stop trying the other choices.
    this.epsilon = dims.map((dim) => (dim.numeric || dim.card < 2 ? 0 : (dim.card - 1) / (2 * dim.card)));
    // Mass of each numeric kernel inside [0, 1], so kernels near an edge are not under-counted.
    this.mass = points.map((p) =>
      Float64Array.from(dims, (dim, j) => {
        if (!dim.numeric || Number.isNaN(p[j])) return 1;
        const h = this.bandwidth[j];
        return Math.max(1e-9, normCdf((1 - p[j]) / h) - normCdf((0 - p[j]) / h));
      }),
    );
  }

  /** log density at x. */
  logDensity(x: Encoded): number {
    let sum = this.priorWeight * priorDensity(this.dims);
    for (let i = 0; i < this.points.length; i++) sum += this.kernel(i, x);
    return Math.log(sum / (this.points.length + this.priorWeight));
  }

  /** The product kernel of observation i at x (numeric: truncated Gaussian; categorical: Aitchison-Aitken). */
  kernel(i: number, x: Encoded): number {
    const p = this.points[i];
    let k = 1;
    for (let j = 0; j < this.dims.length; j++) {
      const dim = this.dims[j];
      const a = p[j];
      const b = x[j];
      if (Number.isNaN(a) || Number.isNaN(b)) {
        k *= dim.numeric ? 1 : 1 / dim.card;
        continue;
      }
      if (dim.numeric) {
        const h = this.bandwidth[j];
        const z = (b - a) / h;
        k *= Math.exp(-0.5 * z * z) / (h * Math.sqrt(2 * Math.PI) * this.mass[i][j]);
      } else if (dim.card > 1) {
        const e = this.epsilon[j];
        k *= a === b ? 1 - e : e / (dim.card - 1);
      }
    }
    return k;
  }

  /** Draw from the density: the prior now and then, else a perturbed observation. */
  sample(random: () => number): Encoded {
    const n = this.points.length;
    if (n === 0 || random() < this.priorWeight / (n + this.priorWeight)) return samplePrior(this.dims, random);
    const p = this.points[Math.floor(random() * n)];
    return this.dims.map((dim, j) => {
      const a = p[j];
      if (Number.isNaN(a)) return dim.numeric ? random() : Math.floor(random() * dim.card);
      if (dim.numeric) {
        for (let t = 0; t < 20; t++) {
          const x = a + this.bandwidth[j] * gaussian(random);
          if (x >= 0 && x <= 1) return x;
        }
        return a;
      }
      if (dim.card < 2 || random() >= this.epsilon[j]) return a;
      const other = Math.floor(random() * (dim.card - 1));
      return other >= a ? other + 1 : other;
    });
  }
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function priorDensity(dims: Dim[]): number {
  return dims.reduce((d, dim) => d * (dim.numeric ? 1 : 1 / dim.card), 1);
}

export function samplePrior(dims: Dim[], random: () => number): Encoded {
  return dims.map((dim) => (dim.numeric ? random() : Math.floor(random() * dim.card)));
}

export interface Observed {
  x: Encoded;
  /** Lower is better (the caller turns "higher is better" into a negated loss). */
  loss: number;
}

export interface Proposal {
  x: Encoded;
  /** log l(x) - log g(x): larger is more promising. */
  score: number;
}

/**
 * Propose `count` points by TPE. `accept` filters samples (e.g. configs already measured, or
 * points that do not decode to a distinct config); `snap` maps a sample onto the grid it decodes to
 * so equal configs score equally.
 */
export function proposeTpe(
  params: ParamSpec[],
  observed: Observed[],
  count: number,
  random: () => number,
  options: { samples?: number; accept?: (x: Encoded) => boolean; snap?: (x: Encoded) => Encoded } = {},
): Proposal[] {
  const dims = dimsOf(params);
  const sorted = [...observed].sort((a, b) => a.loss - b.loss);
  const nGood = goodCount(sorted.length);
  const good = new Parzen(dims, sorted.slice(0, nGood).map((o) => o.x));
  const badPoints = sorted.slice(nGood).map((o) => o.x);
  const samples: Encoded[] = [];
  const want = options.samples ?? 24;
  for (let t = 0; t < want * 4 && samples.length < want; t++) {
    const x = options.snap ? options.snap(good.sample(random)) : good.sample(random);
    if (!options.accept || options.accept(x)) samples.push(x);
  }
  const logL = samples.map((x) => good.logDensity(x));
  const picks: Proposal[] = [];
  const taken = new Set<string>();
  for (let k = 0; k < count && samples.length > 0; k++) {
    // The bad density is rebuilt with the previous picks as "liars" (pessimistic observations).
    const bad = new Parzen(dims, [...badPoints, ...picks.map((p) => p.x)]);
    let best = -1;
    let bestScore = -Infinity;
    samples.forEach((x, i) => {
      const key = x.join(',');
      if (taken.has(key)) return;
      const score = logL[i] - bad.logDensity(x);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    if (best < 0) break;
    taken.add(samples[best].join(','));
    picks.push({ x: samples[best], score: bestScore });
  }
  return picks;
}

/**
 * Predicted loss at x and its uncertainty: a kernel-weighted mean of the observed losses (the same
 * product kernels, fitted on all observations), shrunk towards the overall mean where few
 * observations are near, with an uncertainty from the local spread and the effective sample size.
 */
export function predictLoss(params: ParamSpec[], observed: Observed[], x: Encoded): { mean: number; sd: number } {
  const n = observed.length;
  const losses = observed.map((o) => o.loss);
  const globalMean = mean(losses);
  const globalVar = n > 1 ? losses.reduce((s, y) => s + (y - globalMean) ** 2, 0) / (n - 1) : globalMean ** 2 * 0.01 + 1e-12;
  const model = new Parzen(dimsOf(params), observed.map((o) => o.x));
  const weights = observed.map((_, i) => model.kernel(i, x));
  // The prior pseudo-observation weighs as much as one observation at the prior density.
  const w0 = priorDensity(dimsOf(params));
  const sw = weights.reduce((s, w) => s + w, 0) + w0;
  const mu = (weights.reduce((s, w, i) => s + w * losses[i], 0) + w0 * globalMean) / sw;
  const variance = (weights.reduce((s, w, i) => s + w * (losses[i] - mu) ** 2, 0) + w0 * globalVar) / sw;
  const sw2 = weights.reduce((s, w) => s + w * w, 0) + w0 * w0;
  const nEff = (sw * sw) / sw2;
  return { mean: mu, sd: Math.sqrt(variance * (1 + 1 / nEff)) };
}
