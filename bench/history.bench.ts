/**
 * get_history's best-config query over a store of 1,000,000 runs (100 workloads x 100 configs x
 * 100 runs), through the real tool over an in-memory MCP link, against the same query on a store
 * of 1,000 runs measured in the same run. Target: p50 <= 5 ms at 1M.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../src/core/config.js';
import { createServer } from '../src/server.js';
import { rebuildConfigStats } from '../src/learn/runs.js';
import { canonicalJson, configKey } from '../src/learn/canonical.js';
import { quantile, type BenchFigure } from './lib.js';

const QUERIES = 300;

async function measure(workloads: number, configs: number, runsPerConfig: number): Promise<{ p50: number; p99: number; seedS: number }> {
  const home = mkdtempSync(join(tmpdir(), 'tuneloop-bench-'));
  const server = createServer(loadConfig({}, { TUNELOOP_HOME: home, TUNELOOP_TOOLSETS: 'history', PATH: process.env.PATH }));
  try {
    const seeded = performance.now();
    const db = server.runtime.store.db;
    server.runtime.store.write(() => {
      const addWorkload = db.prepare("INSERT INTO workloads (name, created_at) VALUES (?, '2026-01-01T00:00:00Z')");
      const addRun = db.prepare(
        `INSERT INTO runs (domain, workload_id, config, config_key, metrics, primary_metric, direction, primary_value, context, status, created_ms)
         VALUES ('sched', ?, ?, ?, ?, 'wall_s', 'lower', ?, '{"host":"bench"}', 'ok', ?)`,
      );
      let t = Date.UTC(2026, 0, 1);
      for (let w = 1; w <= workloads; w++) {
        addWorkload.run(`w${w}`);
        for (let c = 0; c < configs; c++) {
          const config = { scheduler: 'scx_bpfland', flags: ['--slice-us', String(500 + c * 10)] };
          const text = canonicalJson(config);
          const key = configKey(config);
          for (let r = 0; r < runsPerConfig; r++) {
            const value = 50 + ((c * 7919 + r * 104729) % 1000) / 100;
            addRun.run(w, text, key, `{"wall_s":${value}}`, value, t++);
          }
        }
      }
      rebuildConfigStats(db);
    });
    const seedS = (performance.now() - seeded) / 1000;
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.server.connect(b);
    const client = new Client({ name: 'bench', version: '0' });
    await client.connect(a);
    const times: number[] = [];
    for (let i = 0; i < QUERIES + 20; i++) {
      const workload = `w${1 + (i % workloads)}`;
      const t0 = performance.now();
      const r = await client.callTool({ name: 'get_history', arguments: { workload, domain: 'sched', limit: 10 } });
      if (i >= 20) times.push(performance.now() - t0);
      if (r.isError || !(r.structuredContent as { best: unknown }).best) throw new Error(`unexpected answer: ${JSON.stringify(r.content)}`);
    }
    await client.close();
    return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), seedS };
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchFigure[]> {
  const small = await measure(10, 10, 10);
  const big = await measure(100, 100, 100);
  return [
    {
      name: 'get_history best-config query, 1,000,000 runs, p50',
      value: big.p50,
      unit: 'ms',
      baseline: { name: 'same query, 1,000 runs', value: small.p50 },
      target: 'p50 <= 5 ms',
      met: big.p50 <= 5,
      note: `p99 ${big.p99.toFixed(2)} ms; seeding 1M runs took ${big.seedS.toFixed(0)} s`,
    },
  ];
}
