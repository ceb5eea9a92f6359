/**
 * Coordinate descent as AutoCCL (NSDI 2025) tunes NCCL: the nominal parameters (algorithm,
 * protocol; scheduler, mode) split the space into subspaces, visited one after another (the
 * defaults' first); inside each, the ordered "resource" parameters are treated as unimodal and
 * tuned one coordinate at a time, stepping while the measurement improves, until a full pass
 * changes nothing.
 */
import type { Landscape } from './landscapes.js';
import type { ParamSpec, Point } from '../src/learn/suggest/space.js';

const isNominal = (p: ParamSpec) => p.type === 'categorical' && p.choices!.every((c) => typeof c === 'string');

/** One step from a coordinate's value in a direction (+1 up, -1 down), or undefined at the edge. */
function step(p: ParamSpec, v: Point[string], dir: 1 | -1): Point[string] {
  if (p.type === 'bool') return dir === 1 ? (v ? undefined : true) : v ? false : undefined;
  if (p.type === 'categorical') return p.choices![p.choices!.indexOf(v!) + dir];
  const x = v as number;
  const range = p.max! - p.min!;
  // Log-scaled ints move by a factor of sqrt(2) (at least 1), others by 1 or a 16th of the range.
  const next = p.log ? Math.round(dir === 1 ? Math.max(x + 1, x * Math.SQRT2) : Math.min(x - 1, x / Math.SQRT2)) : x + dir * (range <= 16 ? 1 : Math.ceil(range / 16));
  const clamped = Math.min(p.max!, Math.max(p.min!, next));
  return clamped === x ? undefined : clamped;
}

export function coordinateDescent(l: Landscape, measure: (p: Point) => number | null): void {
  const better = (a: number, b: number) => (l.direction === 'higher' ? a > b : a < b);
  const nominal = l.params.filter(isNominal);
  const coords = l.params.filter((p) => !isNominal(p));
  let subspaces: Point[] = [{}];
  for (const p of nominal) {
    const ordered = [p.default!, ...p.choices!.filter((c) => c !== p.default)];
    subspaces = subspaces.flatMap((s) => ordered.map((c) => ({ ...s, [p.name]: c })));
  }
  for (const sub of subspaces) {
    let current: Point = { ...sub, ...Object.fromEntries(coords.map((p) => [p.name, p.default])) };
    let value = measure(current);
    if (value === null) return;
    for (let improved = true; improved; ) {
      improved = false;
      for (const p of coords) {
        for (const dir of [1, -1] as const) {
          // Step in this direction while it keeps improving.
          for (let next = step(p, current[p.name], dir); next !== undefined; next = step(p, current[p.name], dir)) {
            const candidate = { ...current, [p.name]: next };
            const v = measure(candidate);
            if (v === null) return;
            if (!better(v, value)) break;
            current = candidate;
            value = v;
            improved = true;
          }
        }
      }
    }
  }
}
