/**
 * The suggester against random search and coordinate descent (AutoCCL-style) on synthetic noisy
 * landscapes (bench/landscapes.ts): trials until a config within 2% of the optimum is measured,
 * median over 20 seeds, all three methods in the same run. Target: the suggester needs at most a
 * third of random search's trials.
 */
import { fmt, quantile, type BenchFigure } from './lib.js';
import { LANDSCAPES, optimum, type Landscape } from './landscapes.js';
import { gaussian, seededRandom } from '../src/learn/random.js';
import { explicitSpace, type Point } from '../src/learn/suggest/space.js';
import { decode, suggest, type ConfigObservation } from '../src/learn/suggest/suggester.js';
import { dimsOf, samplePrior } from '../src/learn/suggest/tpe.js';
import { coordinateDescent } from './coordinate-descent.js';

const SEEDS = 20;
const BUDGET = 1500;
const TOLERANCE = 0.02;

/** A method draws trials one at a time through `measure`, which returns the noisy value; it stops when told. */
type Method = (l: Landscape, measure: (p: Point) => number | null, seed: number) => void;

const randomSearch: Method = (l, measure, seed) => {
  const random = seededRandom(seed, 'random-search');
  const dims = dimsOf(l.params);
  while (measure(decode(l.params, samplePrior(dims, random))) !== null);
};

const suggester: Method = (l, measure, seed) => {
  const space = explicitSpace(l.params);
  const observations: ConfigObservation[] = [];
  for (let id = 0; ; id++) {
    const s = suggest(space, observations, { direction: l.direction, count: 1, seed, seeds: [{ point: Object.fromEntries(l.params.map((p) => [p.name, p.default])), kind: 'default', reason: 'defaults' }] });
    const point = s.candidates[0].point;
    const v = measure(point);
    if (v === null) return;
    observations.push({ point, values: [v], run_ids: [id] });
  }
};

/** Runs a method until it measures a near-optimal config; returns the trial count (BUDGET + 1 if never). */
function trialsToNear(l: Landscape, method: Method, seed: number, isNear: (v: number) => boolean): number {
  const noise = seededRandom(seed, 'noise', l.name);
  let trials = 0;
  let found = false;
  method(
    l,
    (p) => {
      if (found || trials >= BUDGET) return null;
      trials++;
      const truth = l.value(p);
      if (isNear(truth)) {
        found = true;
        return null;
      }
      return truth * (1 + l.noise * gaussian(noise));
    },
    seed,
  );
  return found ? trials : BUDGET + 1;
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const l of LANDSCAPES) {
    const { isNear } = optimum(l, TOLERANCE);
    const medians: Record<string, number> = {};
    const started = Date.now();
    for (const [name, method] of [['random', randomSearch], ['coordinate descent', coordinateDescent], ['suggester', suggester]] as const) {
      const counts = Array.from({ length: SEEDS }, (_, s) => trialsToNear(l, method, 1000 + s, isNear));
      medians[name] = quantile(counts, 0.5);
      process.stdout.write(`  ${l.name} ${name}: median ${medians[name]} trials (p25 ${quantile(counts, 0.25)}, p75 ${quantile(counts, 0.75)}, not found ${counts.filter((c) => c > BUDGET).length}/${SEEDS})\n`);
    }
    figures.push({
      name: `suggester trials to within 2% of the optimum, ${l.name}`,
      value: medians.suggester,
      unit: 'trials',
      baseline: { name: 'random search', value: medians.random },
      target: 'ratio <= 0.333',
      met: medians.suggester <= medians.random / 3,
      note: `coordinate descent ${fmt(medians['coordinate descent'])} trials; noise ${l.noise * 100}%; ${SEEDS} seeds; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    });
  }
  return figures;
}
