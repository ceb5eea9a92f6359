/**
 * `npm run bench [name...]`: runs the benchmarks (all, or those whose name contains an argument)
 * and prints each figure with its baseline and target. Add a benchmark: a module exporting
 * `run(): Promise<BenchFigure[]>`, listed below.
 */
import { printFigure, type BenchFigure } from './lib.js';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<BenchFigure[]> }>> = {
  server: () => import('./server.bench.js'),
  history: () => import('./history.bench.js'),
  monitor: () => import('./monitor.bench.js'),
  diagnose: () => import('./diagnose.bench.js'),
  'nccl-parser': () => import('./nccl-parser.bench.js'),
  suggest: () => import('./suggest.bench.js'),
  'nccl-adaptive': () => import('./nccl-adaptive.bench.js'),
  'triton-verify': () => import('./triton-verify.bench.js'),
  sched: () => import('./sched.bench.js'),
  contain: () => import('./contain.bench.js'),
};

const filters = process.argv.slice(2);
let missed = 0;
for (const [name, load] of Object.entries(BENCHES)) {
  if (filters.length && !filters.some((f) => name.includes(f))) continue;
  process.stdout.write(`\n== ${name}\n`);
  for (const figure of await (await load()).run()) {
    printFigure(figure);
    if (!figure.met) missed++;
  }
}
process.stdout.write(`\n${missed === 0 ? 'All targets met.' : `${missed} target(s) missed.`}\n`);
