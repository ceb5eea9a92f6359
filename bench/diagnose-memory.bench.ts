/**
 * diagnose_logs on a 100 MB log must stay under 200 MB peak RSS and return a bounded answer.
 * Each side runs in its own node process (the built dist/), which reports its VmHWM: the baseline
 * reads the same file line by line with the same reader and does nothing with the lines, so the
 * difference is what the analysis itself holds.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '../dist/core/exec.js';
import type { BenchFigure } from './lib.js';

const ROOT = resolve(import.meta.dirname, '..');
const TARGET_BYTES = 100 * 1024 * 1024;
const PEAK_TARGET_MB = 200;

const CHILD = `
import { readFileSync } from 'node:fs';
const [mode, file, dist] = process.argv.slice(2);
const { readFileTail } = await import(dist + '/observe/logs/sources.js');
const { diagnose } = await import(dist + '/observe/logs/diagnose.js');
const { loadConfig } = await import(dist + '/core/config.js');
const started = performance.now();
let out;
if (mode === 'baseline') {
  let lines = 0;
  await readFileTail(file, 'file', 1 << 30, () => lines++);
  out = { lines };
} else {
  const r = await diagnose(loadConfig(), { files: [file], journalKernel: false, journalUnits: [], dmesg: false, maxBytes: 1 << 30, journalLines: 1,
    maxFindings: 25, maxEvidence: 5, maxUnclassified: 15, windowS: 120 });
  out = { lines: r.sources[0].lines, findings: r.findings.length, unclassified: r.unclassified.lines, answer_bytes: JSON.stringify(r).length };
}
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
process.stdout.write(JSON.stringify({ ...out, ms: performance.now() - started, hwm_kb: hwm }) + '\\n');
`;

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

async function measure(mode: 'baseline' | 'diagnose', script: string, file: string) {
  const r = await runCommand([process.execPath, script, mode, file, join(ROOT, 'dist')], { timeoutMs: 600_000 });
  if (!r.ok) throw new Error(`${mode} child failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { lines: number; ms: number; hwm_kb: number; findings?: number; answer_bytes?: number; unclassified?: number };
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  try {
    const file = join(dir, 'big.log');
    const bytes = writeLog(file);
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const baseline = await measure('baseline', script, file);
    const analysed = await measure('diagnose', script, file);
    const mb = (kb: number) => Math.round(kb / 102.4) / 10;
    const mbPerS = (ms: number) => Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 10) / 10;
    return [
      {
        name: `diagnose_logs peak RSS on a ${Math.round(bytes / 1024 / 1024)} MB log (${analysed.lines} lines)`,
        value: mb(analysed.hwm_kb),
        unit: 'MB',
        baseline: { name: 'same reader, no analysis', value: mb(baseline.hwm_kb) },
        target: `< ${PEAK_TARGET_MB} MB`,
        met: mb(analysed.hwm_kb) < PEAK_TARGET_MB,
      },
      {
        name: 'diagnose_logs throughput',
        value: mbPerS(analysed.ms),
        unit: 'MB/s',
        baseline: { name: 'same reader, no analysis', value: mbPerS(baseline.ms) },
        target: 'reported (no target): analysis cost per byte read',
        met: true,
      },
      {
        name: `diagnose_logs answer size (${analysed.findings} findings, ${analysed.unclassified} unclassified lines)`,
        value: Math.round((analysed.answer_bytes ?? 0) / 1024),
        unit: 'KiB',
        target: '< 256 KiB whatever the input size',
        met: (analysed.answer_bytes ?? Infinity) < 256 * 1024,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
