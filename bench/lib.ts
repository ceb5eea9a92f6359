/**
 * Benchmark helpers. Every figure is reported next to a baseline measured in the same run, as a
 * ratio, with its target; nothing here asserts (timings belong in benchmarks, not in tests).
 */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, when the target is a ratio. */
  baseline?: { name: string; value: number };
  /** Human-readable target, e.g. "p50 ratio <= 1.3". */
  target: string;
  /** Whether the target is met (printed, never asserted). */
  met: boolean;
  note?: string;
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

export function printFigure(f: BenchFigure): void {
  const base = f.baseline ? `  baseline ${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}  ratio ${fmt(f.value / f.baseline.value)}` : '';
  process.stdout.write(`${f.met ? 'MET ' : 'MISS'}  ${f.name}: ${fmt(f.value)} ${f.unit}${base}  (target: ${f.target})${f.note ? `  [${f.note}]` : ''}\n`);
}
