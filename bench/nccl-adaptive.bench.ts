/**
 * nccl_sweep's adaptive mode against the full grid, on the model the fake nccl-tests follows
 * (test/fixtures/nccl/model.mjs: all_reduce on 2 ranks, 1 KiB..64 MiB, objective = busbw over the
 * large band). The same space (named "nccl" through sweepSpace), loop (runAdaptiveSearch) and
 * policy (searchPolicy) as the tool, in process: the model with 1% noise stands in for the runs.
 * Figures, median over 20 seeds, each against the grid's size (one run per config) in the same run:
 * trials until the search measures a config as good as the grid's winner (target: at most a third
 * of the grid), and trials until it stops on its own.
 */
import { fmt, type BenchFigure } from './lib.js';
import { gaussian, seededRandom } from '../src/learn/random.js';
import { runAdaptiveSearch } from '../src/learn/suggest/adaptive.js';
import { namedSpace } from '../src/learn/suggest/named-spaces.js';
import { suggest } from '../src/learn/suggest/suggester.js';
import { baselineProposal, searchPolicy } from '../src/nccl/sweep/adaptive.js';
import { plannedDefault } from '../src/nccl/sweep/plan.js';
import { sweepSpace } from '../src/nccl/sweep/space.js';
// @ts-expect-error: the fixture is plain JavaScript
import { simulate } from '../test/fixtures/nccl/model.mjs';

const SEEDS = 20;
const NOISE = 0.01;
const SIZES = Array.from({ length: 9 }, (_, i) => 1024 * 4 ** i);
const GRID = { NCCL_PROTO: ['LL', 'LL128', 'Simple'], NCCL_MIN_CTAS: [1, 2, 4, 8, 16, 32, 64], NCCL_BUFFSIZE: [1 << 20, 1 << 22, 1 << 24, 1 << 26], NCCL_NTHREADS: [128, 256, 512] };

/** busbw over the large band (>= 16 MiB), as the sweep's objective. */
function objective(env: Record<string, string>): number {
  const rows = (simulate('all_reduce', env, SIZES, 2) as { size: number; busbw: number }[]).filter((r) => r.size >= 16 << 20);
  return rows.reduce((s, r) => s + r.busbw, 0) / rows.length;
}

function gridConfigs(): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(GRID)) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: String(v) })));
  return combos;
}

export async function run(): Promise<BenchFigure[]> {
  const grid = gridConfigs();
  const gridSize = grid.length + 1; // and the default
  const gridBest = Math.max(objective({}), ...grid.map(objective));
  const inner = namedSpace('nccl', Object.keys(GRID), Object.entries(GRID).map(([name, choices]) => ({ name, choices })), { collective: 'all_reduce' });
  const { config: defaultConfig } = plannedDefault({}, new Set(Object.keys(GRID)));
  const space = sweepSpace(inner, defaultConfig, { base: {}, allowInvalid: false });
  const baseline = baselineProposal(space);
  const toWinner: number[] = [];
  const toStop: number[] = [];
  let stoppedOnWinner = 0;
  const isWinner = (point: Parameters<typeof space.settingsOf>[0]) => objective(space.settingsOf(point)) >= gridBest * (1 - 1e-9);
  for (let seed = 0; seed < SEEDS; seed++) {
    // The search alone (no stop rule): how soon it measures the grid's winner.
    let found: number | null = null;
    await search(seed, { patience: Infinity }, (point, trial) => {
      if (found === null && isWinner(point)) found = trial;
      return found !== null;
    });
    toWinner.push(found ?? gridSize + 1);
    // The tool's policy: when it stops, and on what.
    const result = await search(seed, {}, () => false);
    toStop.push(result.trials.length);
    if (result.ranked[0] && isWinner(result.ranked[0].point)) stoppedOnWinner++;
  }

  /** One search; `done` ends it early (the bench's own stop, not the policy's). */
  async function search(seed: number, override: { patience?: number }, done: (point: Parameters<typeof space.settingsOf>[0], trial: number) => boolean) {
    const noise = seededRandom(seed, 'nccl-adaptive-noise');
    const controller = new AbortController();
    return runAdaptiveSearch({
      space,
      direction: 'higher',
      suggest: (count, extra) => suggest(space, extra, { direction: 'higher', count, seed, seeds: [] }),
      maxTrials: gridSize,
      signal: controller.signal,
      ...searchPolicy(space, baseline, { repeats: 4, minGain: 0.02, alpha: 0.05 }),
      ...override,
      async evaluate(proposal, trial) {
        if (done(proposal.point, trial)) controller.abort();
        const truth = objective(space.settingsOf(proposal.point));
        return { status: 'ok', values: [truth * (1 + NOISE * gaussian(noise))] };
      },
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const winner = median(toWinner);
  const stop = median(toStop);
  return [
    {
      name: `nccl_sweep adaptive: trials to the grid's winner (${Object.keys(GRID).length} variables, model of the fake, ${NOISE * 100}% noise, median of ${SEEDS} seeds)`,
      value: winner,
      unit: 'trials',
      baseline: { name: 'full grid', value: gridSize },
      target: 'ratio <= 0.33',
      met: winner <= gridSize / 3,
    },
    {
      name: 'nccl_sweep adaptive: trials until it stops on its own (settled or converged, confirmation runs included)',
      value: stop,
      unit: 'trials',
      baseline: { name: 'full grid', value: gridSize },
      target: 'ratio <= 0.5',
      met: stop <= gridSize / 2,
      note: `its final best is the grid's winner in ${stoppedOnWinner}/${SEEDS} seeds; winner found by trial ${fmt(Math.max(...toWinner))} at worst`,
    },
  ];
}
