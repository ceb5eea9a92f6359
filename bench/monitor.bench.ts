/**
 * CPU the server spends per second of monitoring at 10 Hz, from the server process's own utime +
 * stime in /proc, against the same server idle for the same time. Target: <= 1% of one core.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { BenchFigure } from './lib.js';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const SECONDS = 20;
const USER_HZ = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / USER_HZ;
}

async function serverCpuPerSecond(monitor: boolean): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve'], env: { ...process.env, TUNELOOP_HOME: home } as Record<string, string> });
  const client = new Client({ name: 'bench', version: '0' });
  try {
    await client.connect(transport);
    await client.listTools();
    await new Promise((r) => setTimeout(r, 1000)); // let start-up work settle
    const pid = transport.pid!;
    if (monitor) await client.callTool({ name: 'system_monitor', arguments: { action: 'start', interval_ms: 100, max_duration_s: SECONDS + 10 } });
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    return (cpuSeconds(pid) - before) / SECONDS;
  } finally {
    await client.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchFigure[]> {
  const idle = await serverCpuPerSecond(false);
  const busy = await serverCpuPerSecond(true);
  const pct = busy * 100;
  return [
    {
      name: 'system_monitor at 10 Hz: server CPU per second',
      value: pct,
      unit: '% of one core',
      baseline: { name: 'idle server', value: Math.max(idle * 100, 0.01) },
      target: '<= 1% of one core',
      met: pct <= 1,
      note: `measured over ${SECONDS} s from /proc/<pid>/stat (10 ms resolution)`,
    },
  ];
}
