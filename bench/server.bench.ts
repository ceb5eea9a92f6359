/**
 * Protocol overhead of tuneloop against a bare SDK server (bench/echo-server.mjs), both as users
 * meet them: separate processes over stdio, the two sides measured alternately.
 * - cold start: spawn to the first tools/list answer, tuneloop and echo starts alternating;
 * - round trip of get_history (limit 10, 50 runs recorded through record_run) and of a trivial tool
 *   (system_monitor status) against the echo tool, in alternating blocks.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantile, type BenchFigure } from './lib.js';
import { CLI, ECHO, alternate, latencies, median, startStdio } from './stdio.js';

const CALLS = 2000;
const BLOCKS = 10;
const WARMUP = 200;
const STARTS = 15;
/** Runs recorded before timing get_history (BENCH_RUNS=0 times the empty store). */
const BENCH_RUNS = Number(process.env.BENCH_RUNS ?? 50);

/**
 * Spawn to the tools/list answer, speaking raw JSON-RPC: the time is the server's alone (an SDK
 * client would add its own work, e.g. compiling validators for every output schema it receives).
 */
function coldStart(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = '';
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, newline)) as { id?: number };
        buffer = buffer.slice(newline + 1);
        if (message.id === 1) {
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
        } else if (message.id === 2) {
          const elapsed = performance.now() - started;
          child.stdin.end();
          child.once('exit', () => resolvePromise(elapsed));
        }
      }
    });
    child.once('error', reject);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } });
  });
}

export async function run(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  const env = { TUNELOOP_HOME: home };
  try {
    // The store is created once, so every cold start below opens an up-to-date store like a user's second start.
    await coldStart([CLI, 'serve'], env);
    const starts = await alternate(STARTS, () => coldStart([CLI, 'serve'], env), () => coldStart([ECHO], {}));

    const tuneloop = await startStdio([CLI, 'serve'], env);
    const echo = await startStdio([ECHO]);
    for (let i = 0; i < BENCH_RUNS; i++) {
      await tuneloop.client.callTool({ name: 'record_run', arguments: { domain: 'other', config: { i: i % 5 }, metrics: { t: i }, primary_metric: 't', direction: 'lower' } });
    }
    const history = { limit: 10 };
    const hello = { text: 'hello' };
    const status = { action: 'status' };
    await latencies(tuneloop.client, 'get_history', history, WARMUP);
    await latencies(tuneloop.client, 'system_monitor', status, WARMUP);
    await latencies(echo.client, 'echo', hello, WARMUP);
    const t: number[] = [];
    const e: number[] = [];
    const m: number[] = [];
    for (let block = 0; block < BLOCKS; block++) {
      t.push(...(await latencies(tuneloop.client, 'get_history', history, CALLS / BLOCKS)));
      e.push(...(await latencies(echo.client, 'echo', hello, CALLS / BLOCKS)));
      m.push(...(await latencies(tuneloop.client, 'system_monitor', status, CALLS / BLOCKS)));
    }
    await tuneloop.close();
    await echo.close();
    const p50 = quantile(t, 0.5) / quantile(e, 0.5);
    const start = median(starts.a) / median(starts.b);
    return [
      {
        name: 'cold start to first tools/list (median, starts alternating)',
        value: median(starts.a),
        unit: 'ms',
        baseline: { name: 'bare SDK echo server', value: median(starts.b) },
        target: 'ratio <= 1.4',
        met: start <= 1.4,
        note: `${STARTS} starts each`,
      },
      {
        name: 'get_history(limit 10) round trip p50',
        value: quantile(t, 0.5),
        unit: 'ms',
        baseline: { name: 'bare SDK echo p50', value: quantile(e, 0.5) },
        target: 'p50 ratio <= 1.3',
        met: p50 <= 1.3,
        note: `${BENCH_RUNS} runs stored through record_run; the answer carries ${BENCH_RUNS ? 'up to 10 runs and their config aggregates' : 'no runs'}`,
      },
      {
        name: 'trivial tool (system_monitor status) round trip p50',
        value: quantile(m, 0.5),
        unit: 'ms',
        baseline: { name: 'bare SDK echo p50', value: quantile(e, 0.5) },
        target: "reported: the per-call cost of tuneloop's own tool wrapper",
        met: true,
      },
      { name: 'get_history(limit 10) round trip p99', value: quantile(t, 0.99), unit: 'ms', baseline: { name: 'bare SDK echo p99', value: quantile(e, 0.99) }, target: 'reported', met: true },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
