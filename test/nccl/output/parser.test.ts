/**
 * The nccl-tests text parser against every format the reference lists: current and pre-2.13
 * tables, #wrong as %g and N/A, mpirun --tag-output and srun --label prefixes, interleaved NCCL
 * INFO/WARN lines, truncated output, failure lines. Fixtures are real-format outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NcclTestsParser, parseNcclTestsOutput } from '../../../src/nccl/output/parser.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/nccl/outputs', name), 'utf8');

describe('current format (2.13+)', () => {
  const out = parseNcclTestsOutput(fixture('current-allreduce-info.txt'));

  it('reads versions, test name, settings and devices', () => {
    expect(out.format).toBe('current');
    expect(out.nccl_tests_version).toBe('2.19.4');
    expect(out.nccl_version).toBe('2.19.3');
    expect(out.test_name).toBe('all_reduce_perf');
    expect(out.settings).toMatchObject({ nThread: '1', nGpus: '4', minBytes: '1024', maxBytes: '67108864', step: '4(factor)', 'warmup iters': '1', iters: '20', validation: '1' });
    expect(out.devices).toHaveLength(4);
    expect(out.devices[2]).toEqual({ rank: 2, group: 0, pid: 12001, host: 'node-a', device: 2, bus_id: '0000:3d:00', name: 'NVIDIA H100 80GB HBM3' });
  });

  it('parses every row between interleaved NCCL INFO lines, by column name', () => {
    expect(out.rows).toHaveLength(9);
    expect(out.rows[0]).toEqual({
      size: 1024,
      count: 256,
      type: 'float',
      redop: 'sum',
      root: -1,
      out_of_place: { time_us: 21.07, algbw_gbps: 0.05, busbw_gbps: 0.07, wrong: 0 },
      in_place: { time_us: 20.93, algbw_gbps: 0.05, busbw_gbps: 0.07, wrong: 0 },
    });
    expect(out.rows.at(-1)!.in_place!.busbw_gbps).toBe(234.03);
    expect(out.unparsed_rows).toEqual([]);
  });

  it('reads the footer, the WARN lines, the channels and the tuning choices', () => {
    expect(out.out_of_bounds).toEqual({ count: 0, ok: true });
    expect(out.avg_busbw).toEqual({ value: 63.3618, verdict: null });
    expect(out.concluded).toBe(true);
    expect(out.truncated).toBe(false);
    expect(out.nccl_warnings).toEqual(["Cuda failure 'peer access is not supported between these two devices'"]);
    expect(out.channels).toEqual({ coll: 24, collnet: 24, nvls: 0, p2p: 32 });
    expect(out.tuning).toEqual([
      { collective: 'AllReduce', bytes: 1024, algorithm: 'Tree', protocol: 'Simple', channels: 1, calls: 2, mixed: false },
      { collective: 'AllReduce', bytes: 4096, algorithm: 'Tree', protocol: 'Simple', channels: 2, calls: 1, mixed: false },
      { collective: 'AllReduce', bytes: 262144, algorithm: 'Ring', protocol: 'Simple', channels: 8, calls: 1, mixed: false },
      { collective: 'AllReduce', bytes: 4194304, algorithm: 'Ring', protocol: 'Simple', channels: 24, calls: 2, mixed: true },
    ]);
    expect(out.failures).toEqual([]);
  });

  it('gives the same result streamed line by line, and reports each row as it comes', () => {
    const seen: number[] = [];
    const parser = new NcclTestsParser((row, n) => seen.push(n));
    for (const line of fixture('current-allreduce-info.txt').split('\n')) parser.push(line);
    expect(parser.result().rows).toEqual(out.rows);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('pre-2.13 formats', () => {
  it('all_reduce: redop but no root, an `error` deviation column, the old device line', () => {
    const out = parseNcclTestsOutput(fixture('pre213-allreduce.txt'));
    expect(out.format).toBe('pre-2.13');
    expect(out.nccl_tests_version).toBeNull();
    expect(out.devices[0]).toEqual({ rank: 0, group: null, pid: 112372, host: 'sb-validation-scus-000001', device: 0, bus_id: '0x00', name: 'A100-SXM4-40GB' });
    expect(out.rows).toHaveLength(4);
    expect(out.rows[3]).toEqual({
      size: 134217728,
      count: 33554432,
      type: 'float',
      redop: 'sum',
      root: null,
      out_of_place: { time_us: 1180.2, algbw_gbps: 113.72, busbw_gbps: 199.01, wrong: null, max_error: 2e-7 },
      in_place: { time_us: 1179.5, algbw_gbps: 113.79, busbw_gbps: 199.14, wrong: null, max_error: 2e-7 },
    });
    expect(out.truncated).toBe(false);
  });

  it('broadcast: root but no redop', () => {
    const out = parseNcclTestsOutput(fixture('pre213-broadcast.txt'));
    expect(out.rows[0]).toMatchObject({ size: 40046416, type: 'int8', redop: null, root: 0 });
    expect(out.rows[0].out_of_place!.busbw_gbps).toBe(31.58);
  });

  it('all_gather without checking: neither redop nor root, N/A errors', () => {
    const out = parseNcclTestsOutput(fixture('pre213-allgather-nocheck.txt'));
    expect(out.rows.map((r) => [r.size, r.type, r.redop, r.root, r.out_of_place!.max_error])).toEqual([
      [0, 'float', null, null, null],
      [32, 'float', null, null, null],
    ]);
  });
});

describe('#wrong, prefixes, per-iteration columns', () => {
  it('reads #wrong printed with %g and the FAILED footer', () => {
    const out = parseNcclTestsOutput(fixture('wrong-g.txt'));
    expect(out.rows.map((r) => r.out_of_place!.wrong)).toEqual([0, 262144, 1048580]);
    expect(out.out_of_bounds).toEqual({ count: 1310720, ok: false });
    expect(out.failures).toContainEqual({ kind: 'data', line: '# Out of bounds values : 1310720 FAILED' });
  });

  it('strips mpirun --tag-output prefixes and labels WARN lines with their rank', () => {
    const out = parseNcclTestsOutput(fixture('tag-output.txt'));
    expect(out.rows).toHaveLength(3);
    expect(out.rows[2]).toMatchObject({ size: 4194304, redop: 'none', root: -1 });
    expect(out.devices.map((d) => d.host)).toEqual(['node-a', 'node-b']);
    expect(out.nccl_warnings).toEqual(['[rank 1] NET/IB : mlx5_1:1 Got async event : port error']);
    expect(out.concluded).toBe(true);
  });

  it('maps -I per-iteration columns, N/A #wrong, and the numeric-id tuning lines of older NCCL', () => {
    const out = parseNcclTestsOutput(fixture('per-iter-old-tuning.txt'));
    expect(out.columns).toContain('i_cv%');
    expect(out.rows).toHaveLength(2);
    expect(out.rows[1].in_place).toEqual({ time_us: 9.25, algbw_gbps: 0.22, busbw_gbps: 0.22, wrong: null });
    // A hostname starting with digits is not a table row.
    expect(out.tuning).toEqual([
      { collective: null, bytes: 2048, algorithm: 'Tree', protocol: 'Simple', channels: null, calls: 1, mixed: false },
      { collective: 'AllReduce', bytes: 1024, algorithm: 'Ring', protocol: 'LL', channels: null, calls: 1, mixed: false },
    ]);
  });

  it('guesses the layout of rows seen without a header', () => {
    const rows = [
      '        1024           256     float     sum      -1    21.07    0.05    0.07       0    20.93    0.05    0.07       0',
      '    40046416      40046416      int8       0   1268.1   31.58   31.58  0e+00   1279.3   31.30   31.30  0e+00',
      '          32             1   float    35.03    0.00    0.00    N/A    34.15    0.00    0.00    N/A',
    ];
    const out = parseNcclTestsOutput(rows.join('\n'));
    expect(out.rows.map((r) => [r.size, r.redop, r.root, r.out_of_place!.busbw_gbps])).toEqual([
      [1024, 'sum', -1, 0.07],
      [40046416, null, 0, 31.58],
      [32, null, null, 0],
    ]);
    expect(out.rows[1].out_of_place!.max_error).toBe(0);
  });
});

describe('truncated output and failures', () => {
  it('keeps the complete rows of a cut run and says it was truncated', () => {
    const out = parseNcclTestsOutput(fixture('truncated.txt'));
    expect(out.rows.map((r) => r.size)).toEqual([8, 16]);
    expect(out.unparsed_rows).toEqual(['32             8     float     sum      -1    22.5']);
    expect(out.truncated).toBe(true);
    expect(out.out_of_bounds).toBeNull();
  });

  it('reads an NCCL failure on a remote rank and Open MPI\'s abort messages', () => {
    const out = parseNcclTestsOutput(fixture('nccl-failure-mpirun.txt'));
    expect(out.rows).toEqual([]);
    expect(out.nccl_warnings[0]).toMatch(/^\[rank 1\] NET\/IB : Got completion from peer/);
    expect(out.failures.map((f) => f.kind)).toEqual(['nccl', 'test', 'launcher', 'launcher']);
    expect(out.failures[0].line).toMatch(/^node-b: Test NCCL failure common\.cu:1005 'remote process exited/);
    expect(out.failures[2].line).toBe('Primary job  terminated normally, but 1 process returned');
    expect(out.truncated).toBe(false); // no table ever started
  });

  it('reads a CUDA failure', () => {
    const out = parseNcclTestsOutput(fixture('cuda-failure.txt'));
    expect(out.failures).toEqual([
      { kind: 'cuda', line: "gpu07: Test CUDA failure common.cu:893 'out of memory'" },
      { kind: 'test', line: '.. gpu07 pid 5520: Test failure common.cu:1120' },
    ]);
  });

  it('reads a timeout under srun --label, with srun\'s own errors', () => {
    const out = parseNcclTestsOutput(fixture('timeout-srun.txt'));
    expect(out.rows).toHaveLength(1);
    expect(out.truncated).toBe(true);
    expect(out.failures.map((f) => f.kind)).toEqual(['timeout', 'launcher', 'launcher']);
    expect(out.failures[0].line).toBe('gpu03: Test timeout (30s)');
  });

  it('reads "Invalid number of GPUs" from stderr and the trailing error line', () => {
    const out = parseNcclTestsOutput(
      'Invalid number of GPUs: 16 requested but only 8 were found.\nPlease check the number of processes and GPUs per process.\n# error: unhandled cuda error\n',
    );
    expect(out.failures.map((f) => f.kind)).toEqual(['gpus', 'gpus', 'error']);
  });

  it('handles empty output', () => {
    const out = parseNcclTestsOutput('');
    expect(out).toMatchObject({ format: 'none', rows: [], truncated: false, failures: [] });
  });
});

describe('real reports: shortened runs, old layouts, data failures (sources in outputs/SOURCES.md)', () => {
  it('reads "# Reducing maxBytes to ..." as a complete, shorter run, not a truncated one', () => {
    const out = parseNcclTestsOutput(fixture('reduced-maxbytes-mpirun.txt'));
    expect(out.max_bytes_reduced_to).toBe(7582078293);
    expect(out.truncated).toBe(false);
    expect(out.rows).toHaveLength(30);
    expect(out.rows.at(-1)!.size).toBe(4294967296);
    expect(out.devices).toHaveLength(16);
    expect(out.settings).toMatchObject({ maxBytes: '17179869184' });
    expect(out.out_of_bounds).toEqual({ count: 0, ok: true });
    expect(out.avg_busbw).toEqual({ value: 92.3405, verdict: null });
  });

  it('reads nccl-tests 1.x: uncommented settings and footer, bytes/N/res columns, times in ms', () => {
    const out = parseNcclTestsOutput(fixture('v1-out-of-bounds-failed.txt'));
    expect(out.settings).toMatchObject({ nGpus: '8', maxBytes: '33554432' });
    expect(out.devices[0]).toEqual({ rank: 0, group: null, pid: null, host: 'seedsmed-f02hpc02', device: 0, bus_id: '0x04', name: 'Tesla P100-PCIE-16GB' });
    expect(out.format).toBe('pre-2.13');
    expect(out.rows).toHaveLength(32);
    expect(out.rows[0]).toMatchObject({ size: 8, count: 2, type: 'float', redop: 'sum', root: null });
    expect(out.rows[0].out_of_place).toMatchObject({ time_us: 50, wrong: null, max_error: 0 });
    expect(out.rows.at(-1)!.out_of_place!.max_error).toBe(2);
    expect(out.out_of_bounds).toEqual({ count: 248, ok: false });
    expect(out.avg_busbw).toEqual({ value: 1.40577, verdict: null });
    expect(out.failures).toEqual([{ kind: 'data', line: 'Out of bounds values : 248 FAILED' }]);
    expect(out.truncated).toBe(false);
  });

  it('reads a complete one-row alltoall with N/A in place', () => {
    const out = parseNcclTestsOutput(fixture('alltoall-rtx5090.txt'));
    expect(out.rows).toEqual([
      {
        size: 33554432,
        count: 8388608,
        type: 'float',
        redop: 'none',
        root: -1,
        out_of_place: { time_us: 19.56, algbw_gbps: 1715.44, busbw_gbps: 0, wrong: 0 },
        in_place: { time_us: 0.78, algbw_gbps: 43046.1, busbw_gbps: 0, wrong: null },
      },
    ]);
    expect(out).toMatchObject({ truncated: false, out_of_bounds: { count: 0, ok: true }, avg_busbw: { value: 0, verdict: null } });
  });
});

