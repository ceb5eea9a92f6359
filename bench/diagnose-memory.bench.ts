/**
 * diagnose_logs on a 100 MB log must stay under 200 MB peak RSS of the server process and return a
 * bounded answer. Measured where users meet it: `tuneloop serve` processes over stdio, whose VmHWM
 * (peak RSS, /proc/<pid>/status) is read after the call. The baseline is a fresh server that ran the
 * same tool on a one-line log (same modules loaded, no volume); the two kinds of server alternate.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFigure } from './lib.js';
import { CLI, alternate, median, peakRssMb, startStdio } from './stdio.js';

const ROOT = resolve(import.meta.dirname, '..');
const TARGET_BYTES = 100 * 1024 * 1024;
const PEAK_TARGET_MB = 200;
const ROUNDS = 2;

/** A 100 MB log: every fixture line (all catalog cases) spread through normal traffic and varied error lines. */
function writeLog(path: string): number {
  const fixtures = join(ROOT, 'test/fixtures/incidents/logs');
  const incident = readdirSync(fixtures).filter((f) => f.endsWith('.log') || f.endsWith('.txt')).flatMap((f) => readFileSync(join(fixtures, f), 'utf8').split('\n').filter(Boolean));
  const normal = [
    (i: number) => `2024-03-05T10:${pad(i)}+0000 gpu-node-7 kernel: mlx5_core 0000:3b:00.0: poll_health: device's health compromised - reached miss count ${i % 3}`,
    (i: number) => `(APIServer pid=1) INFO 03-05 10:${pad(i)} [loggers.py:123] Engine 000: Avg prompt throughput: ${i % 5000}.0 tokens/s, Running: ${i % 64} reqs, Waiting: 0 reqs, GPU KV cache usage: ${i % 100}.0%`,
    (i: number) => `node-a:12345:${12000 + (i % 500)} [${i % 8}] NCCL INFO Channel ${i % 32}/32 : 0[${i % 8}] -> 1[${(i + 1) % 8}] via P2P/IPC/read`,
    (i: number) => `2024-03-05 10:${pad(i)},123 INFO worker ${i % 97}: request ${i} completed in ${i % 900} ms`,
    (i: number) => `2024-03-05 10:${pad(i)},456 ERROR worker ${i % 97}: request ${i} failed: upstream timeout after ${i % 30} s (code E${i % 7})`,
    // Thousands of distinct error messages: the unclassified summary must stay bounded too.
    (i: number) => `2024-03-05 10:${pad(i)},789 ERROR plugin ${word(i % 20_000)} failed to load: ${'x'.repeat(i % 200)}`,
  ];
  const fd = openSync(path, 'w');
  let written = 0;
  let i = 0;
  while (written < TARGET_BYTES) {
    let chunk = '';
    for (let k = 0; k < 2000; k++, i++) chunk += (i % 997 === 0 ? incident[(i / 997) % incident.length | 0] : normal[i % normal.length](i)) + '\n';
    written += writeSync(fd, chunk);
  }
  closeSync(fd);
  return written;
}

function word(n: number): string {
  let w = '';
  for (let k = n + 1; k > 0; k = Math.floor(k / 26)) w += String.fromCharCode(97 + (k % 26));
  return w;
}

function pad(i: number): string {
  return `${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
}

/** One fresh server, one diagnose_logs call on `file`: the server's peak RSS, the call's time and answer. */
async function measure(home: string, file: string): Promise<{ peak_mb: number; ms: number; answer_bytes: number; findings: number; lines: number }> {
  const server = await startStdio([CLI, 'serve'], { TUNELOOP_HOME: home, TUNELOOP_TOOLSETS: 'observe' });
  try {
    const started = performance.now();
    const r = await server.client.callTool({ name: 'diagnose_logs', arguments: { files: [file], max_bytes: 1024 ** 3 } }, undefined, { timeout: 600_000 });
    const ms = performance.now() - started;
    if (r.isError) throw new Error(`diagnose_logs failed: ${JSON.stringify(r.content)}`);
    const answer = r.structuredContent as { findings: unknown[]; sources: { lines: number }[] };
    return { peak_mb: peakRssMb(server.pid), ms, answer_bytes: JSON.stringify(r).length, findings: answer.findings.length, lines: answer.sources[0]?.lines ?? 0 };
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  try {
    const file = join(dir, 'big.log');
    const bytes = writeLog(file);
    const small = join(dir, 'small.log');
    writeFileSync(small, 'kernel: NVRM: Xid (PCI:0000:18:00): 79, pid=1, GPU has fallen off the bus.\n');
    const rounds = await alternate(ROUNDS, () => measure(join(dir, 'home'), small), () => measure(join(dir, 'home'), file));
    const analysed = rounds.b.reduce((worst, r) => (r.peak_mb > worst.peak_mb ? r : worst));
    const peak = analysed.peak_mb;
    const mbPerS = (ms: number) => Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 10) / 10;
    return [
      {
        name: `diagnose_logs: server peak RSS on a ${Math.round(bytes / 1024 / 1024)} MB log (${analysed.lines} lines; worst of ${ROUNDS})`,
        value: peak,
        unit: 'MB',
        baseline: { name: 'fresh server, one-line log', value: median(rounds.a.map((r) => r.peak_mb)) },
        target: `< ${PEAK_TARGET_MB} MB`,
        met: peak < PEAK_TARGET_MB,
      },
      {
        name: 'diagnose_logs throughput through the server',
        value: mbPerS(median(rounds.b.map((r) => r.ms))),
        unit: 'MB/s',
        target: 'reported (no target): the whole call, reading and analysis',
        met: true,
      },
      {
        name: `diagnose_logs answer size (${analysed.findings} findings)`,
        value: Math.round(analysed.answer_bytes / 1024),
        unit: 'KiB',
        target: '< 256 KiB whatever the input size',
        met: analysed.answer_bytes < 256 * 1024,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
