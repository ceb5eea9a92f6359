/**
 * CPU the server spends per second of monitoring at 10 Hz, from the server process's own utime +
 * stime in /proc: one `tuneloop serve` process, idle windows and monitoring windows alternating, so
 * drift of the machine lands on both. Target: <= 1% of one core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure } from './lib.js';
import { CLI, alternate, cpuSeconds, startStdio } from './stdio.js';

const WINDOW_S = 5;
const ROUNDS = 4;

export async function run(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  const server = await startStdio([CLI, 'serve'], { TUNELOOP_HOME: home });
  try {
    // Load the observe toolset and let start-up work settle before the first window.
    const warm = await server.client.callTool({ name: 'system_monitor', arguments: { action: 'status' } });
    if (warm.isError) throw new Error(JSON.stringify(warm.content));
    await new Promise((r) => setTimeout(r, 1000));
    const window = async (monitor: boolean): Promise<number> => {
      let session: string | undefined;
      if (monitor) {
        const r = await server.client.callTool({ name: 'system_monitor', arguments: { action: 'start', interval_ms: 100, max_duration_s: WINDOW_S + 30 } });
        session = (r.structuredContent as { sessions: { session_id: string }[] }).sessions[0].session_id;
      }
      const before = cpuSeconds(server.pid);
      await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
      const used = cpuSeconds(server.pid) - before;
      if (session) await server.client.callTool({ name: 'system_monitor', arguments: { action: 'stop', session_id: session } });
      return used / WINDOW_S;
    };
    const w = await alternate(ROUNDS, () => window(false), () => window(true));
    const idle = w.a.reduce((x, y) => x + y, 0) / ROUNDS;
    const busy = w.b.reduce((x, y) => x + y, 0) / ROUNDS;
    const pct = Math.max(0, busy - idle) * 100;
    return [
      {
        name: 'system_monitor at 10 Hz: server CPU per second above idle',
        value: pct,
        unit: '% of one core',
        baseline: { name: 'same server idle', value: Math.max(idle * 100, 0.01) },
        target: '<= 1% of one core',
        met: pct <= 1,
        note: `${ROUNDS} idle and ${ROUNDS} monitoring windows of ${WINDOW_S} s, alternating; /proc/<pid>/stat has 10 ms resolution`,
      },
    ];
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}
