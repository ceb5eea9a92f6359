/**
 * The tuner CSV read back by the example plugin's own rules (example-tuner.ts): every measured
 * size gets the algorithm, protocol and channel count of its line; ranges are 64-bit, contiguous,
 * never empty or inverted, up to 16 GiB and beyond.
 */
import { describe, expect, it } from 'vitest';
import { SIZE_MAX, csvRanges, rowSizeOfLogged, tunerCsv, type SizeLine, type TunerChoice } from '../../../src/nccl/sweep/tuner-csv.js';
import { getCollInfo, loadConfig } from './example-tuner.js';

const GiB = 1024 ** 3;
const choice = (algorithm: string, protocol: string, channels: number): TunerChoice => ({ algorithm, protocol, channels });
const lineMap = (entries: [number, TunerChoice][]) => new Map(entries.map(([size, c]): [number, SizeLine] => [size, { size, choice: c, source: 'x', margin_vs_default: 0.1 }]));

describe('tuner CSV ranges', () => {
  it('covers (previous size, size] from 0 to 2^64-1, merging equal neighbours', () => {
    const sizes = [1024, 4096, 16384, 65536];
    const ranges = csvRanges(sizes, lineMap([[1024, choice('Tree', 'LL', 2)], [4096, choice('Tree', 'LL', 2)], [16384, choice('Ring', 'LL128', 4)], [65536, choice('Ring', 'Simple', 8)]]));
    expect(ranges.map((r) => [r.min_bytes, r.max_bytes, r.choice.protocol])).toEqual([
      [0n, 4096n, 'LL'],
      [4097n, 16384n, 'LL128'],
      [16385n, SIZE_MAX, 'Simple'],
    ]);
    expect(tunerCsv('AllReduce', ranges, { nodes: 2, ranks: 16 }, 'header')).toBe(
      '# header\n# collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff\n' +
        'allreduce,0,4096,tree,ll,2,2,16,-1,-1\nallreduce,4097,16384,ring,ll128,4,2,16,-1,-1\nallreduce,16385,18446744073709551615,ring,simple,8,2,16,-1,-1\n',
    );
  });

  it('writes 64-bit ranges for winners at 2G, 4G, 8G and 16G: no cut at 2^32-1, nothing inverted', () => {
    const sizes = [1, 2, 4, 8, 16].map((g) => g * GiB);
    const chosen: [number, TunerChoice][] = sizes.map((s, i) => [s, choice(i % 2 ? 'Ring' : 'Tree', 'Simple', 8 + i)]);
    const ranges = csvRanges(sizes, lineMap(chosen));
    expect(ranges.map((r) => [r.min_bytes, r.max_bytes])).toEqual([
      [0n, BigInt(GiB)],
      [BigInt(GiB) + 1n, BigInt(2 * GiB)],
      [BigInt(2 * GiB) + 1n, BigInt(4 * GiB)],
      [BigInt(4 * GiB) + 1n, BigInt(8 * GiB)],
      [BigInt(8 * GiB) + 1n, SIZE_MAX],
    ]);
    const plugin = loadConfig(tunerCsv('AllReduce', ranges, { nodes: 1, ranks: 8 }, 'h'));
    for (const [size, c] of chosen) {
      for (const probe of [size, size - 1]) {
        if (probe < GiB) continue;
        const expected = chosen.find(([s]) => s >= probe)![1];
        expect(getCollInfo(plugin, { nNodes: 1, nRanks: 8 }, { collType: 'allreduce', nBytes: BigInt(probe) }), `${probe}`).toEqual({
          algorithm: expected.algorithm.toLowerCase(),
          protocol: 'simple',
          nChannels: expected.channels,
        });
      }
      expect(c.channels).toBeGreaterThan(0);
    }
    expect(getCollInfo(plugin, { nNodes: 1, nRanks: 8 }, { collType: 'allreduce', nBytes: 64n * BigInt(GiB) }).nChannels).toBe(12);
  });

  it('leaves a gap only where no line is known, and never an empty range', () => {
    const ranges = csvRanges([8, 1024, 1024, 65536], lineMap([[8, choice('Ring', 'LL', 1)], [65536, choice('Ring', 'Simple', 8)]]));
    expect(ranges.map((r) => [r.min_bytes, r.max_bytes])).toEqual([
      [0n, 8n],
      [1025n, SIZE_MAX],
    ]);
    for (const r of ranges) expect(r.min_bytes <= r.max_bytes).toBe(true);
  });

  it('maps what NCCL logs (per-rank count x type size) to nccl-tests row sizes', () => {
    expect(rowSizeOfLogged({ bytes: 1 << 20, collective: 'AllReduce', channels: 8 }, 8)).toBe(1 << 20);
    expect(rowSizeOfLogged({ bytes: 1 << 17, collective: 'AllGather', channels: 8 }, 8)).toBe(1 << 20);
    expect(rowSizeOfLogged({ bytes: 1 << 17, collective: 'ReduceScatter', channels: 8 }, null)).toBeNull();
    // 2.20-2.23 log nBytes itself, without channels.
    expect(rowSizeOfLogged({ bytes: 1 << 20, collective: 'AllGather', channels: null }, 8)).toBe(1 << 20);
  });
});

describe('the example plugin rules the test reads CSVs with', () => {
  const csv = [
    '# comment',
    ' # not a comment for the plugin: too few fields, skipped',
    'allreduce, 0 ,1023,tree,ll,-1,1,2',
    'allreduce,1024,4095,nvls,simple,4,1,2,-1,-1',
    'AllReduce,4096,8191,ring,ll128,6,1,2',
    'allgather,,0,100,ring,simple,3,1,2',
    'allreduce,8192,18446744073709551615,bogus,LL,16,-1,-1,-1,-1,extra',
  ].join('\n');
  const plugin = loadConfig(csv);
  const get = (collType: string, nBytes: number, ignored?: (a: string, p: string) => boolean) => getCollInfo(plugin, { nNodes: 1, nRanks: 2 }, { collType, nBytes: BigInt(nBytes), ignored });

  it('sets one channel first: -1 keeps it, as does a size with no line', () => {
    expect(get('allreduce', 100)).toEqual({ algorithm: 'tree', protocol: 'll', nChannels: 1 });
    expect(get('broadcast', 100)).toEqual({ algorithm: null, protocol: null, nChannels: 1 });
  });

  it('reads names case-sensitively with silent defaults, and strtok drops empty fields', () => {
    // "AllReduce" is not "allreduce": parseCollType falls back to allreduce anyway.
    expect(get('allreduce', 5000)).toEqual({ algorithm: 'ring', protocol: 'll128', nChannels: 6 });
    // "bogus" becomes ring, "LL" (upper case) becomes simple; fields past the tenth are dropped.
    expect(get('allreduce', 1 << 30)).toEqual({ algorithm: 'ring', protocol: 'simple', nChannels: 16 });
    // "allgather,,0,100": the empty field vanishes, so min=0, max=100, algorithm "ring" ...
    expect(get('allgather', 50)).toEqual({ algorithm: 'ring', protocol: 'simple', nChannels: 3 });
  });

  it('skips a line whose algorithm/protocol NCCL marks IGNORE and tries the next', () => {
    expect(get('allreduce', 2000, (a) => a === 'nvls')).toEqual({ algorithm: null, protocol: null, nChannels: 1 });
    expect(get('allreduce', 2000)).toEqual({ algorithm: 'nvls', protocol: 'simple', nChannels: 4 });
  });
});
