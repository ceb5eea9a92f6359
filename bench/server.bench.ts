/**
 * Protocol overhead of tuneloop against a bare SDK server measured in the same run:
 * - round-trip latency of a cheap tool (get_history, limit 10) vs an echo tool, over stdio;
 * - cold start: spawn to the first tools/list answer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { quantile, type BenchFigure } from './lib.js';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const ECHO = resolve(import.meta.dirname, 'echo-server.mjs');
const CALLS = 2000;
const WARMUP = 200;
const STARTS = 15;
/** Runs in the store before timing get_history (BENCH_RUNS=0 times the empty store). */
const BENCH_RUNS = Number(process.env.BENCH_RUNS ?? 50);

async function connect(args: string[], env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env: { ...process.env, ...env } as Record<string, string> }));
  return client;
}

async function latencies(client: Client, name: string, args: Record<string, unknown>, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await client.callTool({ name, arguments: args });
    out.push(performance.now() - t);
  }
  return out;
}

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

async function coldStarts(args: string[], env: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < STARTS; i++) out.push(await coldStart(args, env));
  return out;
}

export async function run(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  const env = { TUNELOOP_HOME: home };
  try {
    const tuneloop = await connect([CLI, 'serve'], env);
    const echo = await connect([ECHO], {});
    await tuneloop.listTools();
    await echo.listTools();
    for (let i = 0; i < BENCH_RUNS; i++) {
      await tuneloop.callTool({ name: 'record_run', arguments: { domain: 'other', config: { i: i % 5 }, metrics: { t: i }, primary_metric: 't', direction: 'lower' } });
    }
    const history = { limit: 10 };
    const hello = { text: 'hello' };
    await latencies(tuneloop, 'get_history', history, WARMUP);
    await latencies(echo, 'echo', hello, WARMUP);
    // Interleave the two series in blocks so machine drift hits both alike.
    const t: number[] = [];
    const e: number[] = [];
    const m: number[] = [];
    const status = { action: 'status' };
    await latencies(tuneloop, 'system_monitor', status, WARMUP);
    for (let block = 0; block < 10; block++) {
      t.push(...(await latencies(tuneloop, 'get_history', history, CALLS / 10)));
      e.push(...(await latencies(echo, 'echo', hello, CALLS / 10)));
      m.push(...(await latencies(tuneloop, 'system_monitor', status, CALLS / 10)));
    }
    await tuneloop.close();
    await echo.close();
    const tc = await coldStarts([CLI, 'serve'], env);
    const ec = await coldStarts([ECHO], {});
    const p50 = quantile(t, 0.5) / quantile(e, 0.5);
    const start = quantile(tc, 0.5) / quantile(ec, 0.5);
    return [
      {
        name: 'get_history(limit 10) round trip p50',
        value: quantile(t, 0.5),
        unit: 'ms',
        baseline: { name: 'bare SDK echo p50', value: quantile(e, 0.5) },
        target: 'p50 ratio <= 1.3',
        met: p50 <= 1.3,
        note: `${BENCH_RUNS} runs stored; the answer carries ${BENCH_RUNS ? 'up to 10 runs and their config aggregates' : 'no runs'}`,
      },
      {
        name: 'trivial tool (system_monitor status) round trip p50',
        value: quantile(m, 0.5),
        unit: 'ms',
        baseline: { name: 'bare SDK echo p50', value: quantile(e, 0.5) },
        target: 'reported: the per-call cost of tuneloop\'s own tool wrapper',
        met: true,
      },
      { name: 'get_history(limit 10) round trip p99', value: quantile(t, 0.99), unit: 'ms', baseline: { name: 'bare SDK echo p99', value: quantile(e, 0.99) }, target: 'reported', met: true },
      { name: 'cold start to first tools/list (median)', value: quantile(tc, 0.5), unit: 'ms', baseline: { name: 'bare SDK echo server', value: quantile(ec, 0.5) }, target: 'ratio <= 1.5', met: start <= 1.5 },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
