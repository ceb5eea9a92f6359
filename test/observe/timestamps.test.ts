import { describe, expect, it } from 'vitest';
import { formatStamp, parseTimestamp } from '../../src/observe/logs/timestamps.js';

const now = Date.UTC(2024, 2, 6, 12, 0, 0);
const local = (mo: number, d: number, h: number, mi: number, s: number, ms = 0, y = 2024) => new Date(y, mo - 1, d, h, mi, s).getTime() + ms;

describe('log line timestamps', () => {
  it.each([
    ['journalctl short-iso', '2024-03-05T10:12:33+0000 node kernel: x', { ms: Date.UTC(2024, 2, 5, 10, 12, 33) }],
    ['journalctl short-iso with a colon offset', '2024-03-05T11:12:33+01:00 node kernel: x', { ms: Date.UTC(2024, 2, 5, 10, 12, 33) }],
    ['dmesg --time-format iso', '2024-03-05T10:12:33,250000+00:00 NVRM: x', { ms: Date.UTC(2024, 2, 5, 10, 12, 33, 250) }],
    ['RFC 3339 with Z', '2024-03-05T10:12:33.5Z msg', { ms: Date.UTC(2024, 2, 5, 10, 12, 33, 500) }],
    ['Python logging (local)', '2024-03-05 10:12:33,123 - root - ERROR - x', { ms: local(3, 5, 10, 12, 33, 123) }],
    ['NCCL_DEBUG_TIMESTAMP_FORMAT', '[2024-03-05 10:12:33] node:1:2 [0] NCCL WARN x', { ms: local(3, 5, 10, 12, 33) }],
    ['kernel seconds since boot', '[ 3001.000010] NVRM: Xid', { mono: 3001.00001 }],
    ['dmesg -T', '[Tue Mar  5 10:12:33 2024] NVRM: Xid', { ms: local(3, 5, 10, 12, 33) }],
    ['syslog with a kernel time', 'Mar  5 10:12:33 node kernel: [ 1234.567890] NVRM: Xid', { ms: local(3, 5, 10, 12, 33), mono: 1234.56789 }],
    ['vLLM V1', '(APIServer pid=1) INFO 03-05 10:12:33 [utils.py:812] Waiting', { ms: local(3, 5, 10, 12, 33) }],
    ['vLLM V0', 'WARNING 03-05 10:12:33 scheduler.py:1555] Sequence group', { ms: local(3, 5, 10, 12, 33) }],
    ['PyTorch c10 with a rank prefix', '[rank0]:[E0305 10:12:33.123456789 ProcessGroupNCCL.cpp:616] [Rank 0] Watchdog', { ms: local(3, 5, 10, 12, 33, 123.456789) }],
    ['glog', 'E0305 10:12:33.500000 12345 file.cc:10] msg', { ms: local(3, 5, 10, 12, 33, 500) }],
    ['no time at all', 'node-a:1:2 [0] NCCL WARN x', {}],
  ])('%s', (_name, line, expected) => {
    const stamp = parseTimestamp(line, now);
    expect(stamp.mono).toBe((expected as { mono?: number }).mono);
    if ((expected as { ms?: number }).ms === undefined) expect(stamp.ms).toBeUndefined();
    else expect(stamp.ms).toBeCloseTo((expected as { ms: number }).ms, 3);
  });

  it('gives a year-less date in the future of now the previous year', () => {
    expect(parseTimestamp('Dec 31 23:00:00 node kernel: x', now).ms).toBe(local(12, 31, 23, 0, 0, 0, 2023));
  });

  it('formats wall-clock and boot-relative stamps', () => {
    expect(formatStamp({ ms: Date.UTC(2024, 2, 5, 10, 0, 0) })).toBe('2024-03-05T10:00:00.000Z');
    expect(formatStamp({ mono: 12.5 })).toBe('boot+12.500s');
    expect(formatStamp({})).toBeNull();
  });
});
