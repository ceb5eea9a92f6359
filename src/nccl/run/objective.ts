/**
 * tuneloop's own objective for an nccl-tests run. nccl-tests' "Avg bus bandwidth" is the plain mean
 * over every row, tiny latency-bound sizes included, so it moves with the size range rather than
 * with the tuning. Instead: bus bandwidth per message-size band, and as the objective the mean bus
 * bandwidth of the largest band the run measured (large messages when there are any).
 *
 * A row's bus bandwidth is its out-of-place busbw (the figure nccl-tests users quote), or the
 * in-place one when only that half was printed.
 */
import type { ResultRow } from '../output/types.js';

export const BAND_NAMES = ['small', 'medium', 'large'] as const;
export type BandName = (typeof BAND_NAMES)[number];

export interface BandEdges {
  /** Sizes below this are "small" (latency-bound). Default 64 KiB. */
  smallMaxBytes: number;
  /** Sizes from this up are "large" (bandwidth-bound). Default 16 MiB. */
  largeMinBytes: number;
}

export const DEFAULT_EDGES: BandEdges = { smallMaxBytes: 64 * 1024, largeMinBytes: 16 * 1024 * 1024 };

export interface BandSummary {
  band: BandName;
  min_bytes: number;
  /** Exclusive upper edge; null for the open-ended large band. */
  max_bytes: number | null;
  rows: number;
  busbw_mean_gbps: number | null;
  busbw_max_gbps: number | null;
}

export interface Objective {
  metric: 'busbw_gbps';
  /** Mean bus bandwidth over the rows of `band`; null when no row had a value. */
  value: number | null;
  band: BandName | null;
  rows: number;
}

export function rowBusbw(row: ResultRow): number | null {
  return row.out_of_place?.busbw_gbps ?? row.in_place?.busbw_gbps ?? null;
}

export function bandOf(size: number, edges: BandEdges = DEFAULT_EDGES): BandName {
  if (size < edges.smallMaxBytes) return 'small';
  return size < edges.largeMinBytes ? 'medium' : 'large';
}

export function summarizeBands(rows: readonly ResultRow[], edges: BandEdges = DEFAULT_EDGES): BandSummary[] {
  return BAND_NAMES.map((band) => {
    const values = rows.filter((r) => bandOf(r.size, edges) === band).map(rowBusbw).filter((v): v is number => v !== null);
    return {
      band,
      min_bytes: band === 'small' ? 0 : band === 'medium' ? edges.smallMaxBytes : edges.largeMinBytes,
      max_bytes: band === 'small' ? edges.smallMaxBytes : band === 'medium' ? edges.largeMinBytes : null,
      rows: values.length,
      busbw_mean_gbps: values.length ? mean(values) : null,
      busbw_max_gbps: values.length ? Math.max(...values) : null,
    };
  });
}

export function objectiveOf(bands: readonly BandSummary[]): Objective {
  const top = [...bands].reverse().find((b) => b.rows > 0);
  return { metric: 'busbw_gbps', value: top?.busbw_mean_gbps ?? null, band: top?.band ?? null, rows: top?.rows ?? 0 };
}

/** Mean busbw per distinct message size (several rows per size with -d all / -o all). */
export function busbwBySize(rows: readonly ResultRow[]): Map<number, number> {
  const sums = new Map<number, { sum: number; n: number }>();
  for (const row of rows) {
    const v = rowBusbw(row);
    if (v === null) continue;
    const s = sums.get(row.size) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(row.size, s);
  }
  return new Map([...sums].sort(([a], [b]) => a - b).map(([size, s]) => [size, s.sum / s.n]));
}

export function checkEdges(edges: BandEdges): string | null {
  if (!(edges.smallMaxBytes > 0) || !(edges.largeMinBytes > edges.smallMaxBytes)) {
    return `band edges must satisfy 0 < small_max_bytes (${edges.smallMaxBytes}) < large_min_bytes (${edges.largeMinBytes})`;
  }
  return null;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
