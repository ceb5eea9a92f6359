/**
 * nccl-tests output parser throughput on a large synthetic output in the real format: full runs
 * with device lines, tables, interleaved NCCL INFO tuning lines and WARNs, half of them behind
 * mpirun --tag-output prefixes. Baseline, measured in the same run on the same text: splitting it
 * into lines (the least any line parser must do).
 */
import { NcclTestsParser } from '../src/nccl/output/parser.js';
import type { BenchFigure } from './lib.js';

const TARGET_MBPS = 50;

function block(tagged: boolean, seed: number): string {
  const p = tagged ? '[1,0]<stdout>:' : '';
  const lines = [
    '# nccl-tests version 2.19.4 nccl-headers=21903 nccl-library=21903',
    '# Collective test starting: all_reduce_perf',
    '# nThread 1 nGpus 8 minBytes 8 maxBytes 8589934592 step: 2(factor) warmup iters: 1 iters: 20 agg iters: 1 validation: 1 graph: 0 unalign: 0',
    '#',
    '# Using devices',
  ];
  for (let r = 0; r < 8; r++) lines.push(`#  Rank  ${r} Group  0 Pid  ${12000 + seed} on     node-a device  ${r} [0000:${(0x1a + r).toString(16)}:00] NVIDIA H100 80GB HBM3`);
  lines.push(
    'node-a:12001:12090 [0] NCCL INFO 24 coll channels, 24 collnet channels, 0 nvls channels, 32 p2p channels, 32 p2p channels per peer',
    '#',
    '#                                                              out-of-place                       in-place          ',
    '#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong ',
    '#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)         ',
  );
  for (let i = 0, size = 8; i < 31; i++, size *= 2) {
    for (let k = 0; k < 4; k++) lines.push(`node-a:12001:12001 [0] NCCL INFO AllReduce: ${size} Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..23}`);
    if (i % 10 === 3) lines.push(`node-a:12001:12093 [3] transport/net_ib.cc:1400 NCCL WARN NET/IB : mlx5_${i % 4}:1 Got async event : port error`);
    const t = (20 + size / 2e5).toFixed(2);
    const bw = (size / Number(t) / 1e3).toFixed(2);
    lines.push(`${String(size).padStart(12)}  ${String(size / 4).padStart(12)}     float     sum      -1  ${t.padStart(7)}  ${bw.padStart(6)}  ${bw.padStart(6)}       0  ${t.padStart(7)}  ${bw.padStart(6)}  ${bw.padStart(6)}       0`);
  }
  lines.push('# Out of bounds values : 0 OK', '# Avg bus bandwidth    : 63.3618 ', '#', '# Collective test concluded: all_reduce_perf', '');
  return lines.map((l) => p + l).join('\n') + '\n';
}

function synthetic(bytes: number): string {
  const parts: string[] = [];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const b = block(i % 2 === 1, i);
    parts.push(b);
    total += b.length;
  }
  return parts.join('');
}

function bestOf(runs: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export async function run(): Promise<BenchFigure[]> {
  const text = synthetic(64 * 1024 * 1024);
  const mb = Buffer.byteLength(text) / 1e6;
  let rows = 0;
  let lines = 0;
  const parseMs = bestOf(3, () => {
    rows = new NcclTestsParser().pushText(text).result().rows.length;
  });
  const splitMs = bestOf(3, () => {
    lines = 0;
    for (const line of text.split('\n')) if (line.length) lines++;
  });
  const mbps = mb / (parseMs / 1000);
  return [
    {
      name: `nccl-tests output parse (${mb.toFixed(0)} MB, ${lines} lines, ${rows} rows)`,
      value: mbps,
      unit: 'MB/s',
      baseline: { name: 'split into lines', value: mb / (splitMs / 1000) },
      target: `>= ${TARGET_MBPS} MB/s`,
      met: mbps >= TARGET_MBPS,
    },
  ];
}
