/**
 * Issue 9 section 6: a read-only tool must not change anything. system_monitor inserted a row on
 * `stop`, even under --read-only. This runs EVERY read-only tool (through MCP, with realistic
 * arguments, against fixtures) on a data dir and store that hold real content, under --read-only,
 * and proves neither changed: the store by a dump of every table, the data dir by every file's path,
 * size, mtime and hash. A read-only tool added later fails here until it has arguments below.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { selectTools } from '../../src/tool-index.js';
import { TOOLSETS } from '../../src/core/config.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';
import { FAKE_BIN, fakeHost } from '../sched/helpers.js';

const INCIDENTS = resolve(import.meta.dirname, '../fixtures/incidents');

/** Every table's schema and rows, in a stable order: the store's content, whatever the WAL holds. */
function dumpStore(store: Store): string {
  const tables = store.db.prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string | null }[];
  const out = tables.map((t) => t.sql ?? t.name);
  for (const { name } of tables.filter((t) => t.sql?.startsWith('CREATE TABLE'))) {
    out.push(name, JSON.stringify(store.db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()));
  }
  return createHash('sha256').update(out.join('\n')).digest('hex');
}

/** Every entry under `dir` but the database files: path, kind, size, mtime, content hash. */
function dumpTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (d === dir && name.startsWith('tuneloop.db')) continue; // the store: compared by content
      const s = statSync(path);
      if (s.isDirectory()) {
        out.push(`${path}/ ${s.mtimeMs}`);
        walk(path);
      } else {
        out.push(`${path} ${s.size} ${s.mtimeMs} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
      }
    }
  };
  walk(dir);
  return out;
}

describe('read-only tools change nothing', async () => {
  const home = tempDir();
  const host = fakeHost();
  const env = { ...host.env, TUNELOOP_HOME: home, PATH: `${join(INCIDENTS, 'bin')}:${FAKE_BIN}:${process.env.PATH}` };

  // A store with content: workloads, runs, a profile, a finished job with a log, a scheduler execution.
  const writer = await connectInMemory(env);
  const ok = async (name: string, args: Record<string, unknown>) => {
    const r = await writer.call(name, args);
    expect(r.isError, `${name}: ${textOf(r)}`).toBeFalsy();
    return r.structuredContent as Record<string, unknown>;
  };
  await ok('workload', { action: 'create', name: 'ro-test', command: ['true'], description: 'read-only proof' });
  const runIds: number[] = [];
  for (const [i, t] of [1.0, 1.1, 0.9, 1.05, 0.8, 0.82, 0.79, 0.81].entries()) {
    const r = await ok('record_run', { domain: 'other', workload: 'ro-test', config: { variant: i < 4 ? 'a' : 'b' }, metrics: { t }, primary_metric: 't', direction: 'lower' });
    runIds.push((r.run as { id: number }).id);
  }
  await ok('nccl_env', { action: 'save', name: 'ro', env: { NCCL_ALGO: 'Ring' } });
  const job = (await ok('benchmark_workload', { command: ['true'], scheduler: 'default', repeats: 1, warmup: 0, wait_s: 50 })) as { job_id: string };
  const execution = (await ok('run_scheduler', { scheduler: 'scx_lavd' })) as { execution: { id: string } };
  await ok('stop_scheduler', { execution_id: execution.execution.id, grace_s: 0.5 });

  // Realistic arguments for every read-only tool (several calls where the tool has several modes).
  const calls: Record<string, Record<string, unknown>[] | 'monitor'> = {
    system_snapshot: [{ top: 3, sample_ms: 100 }],
    system_monitor: 'monitor',
    gpu_status: [{}],
    diagnose_logs: [
      { files: readdirSync(join(INCIDENTS, 'mixed')).map((f) => join(INCIDENTS, 'mixed', f)) },
      { text: readFileSync(join(INCIDENTS, 'logs', 'nccl.log'), 'utf8') },
      { job_id: job.job_id },
      { journal_kernel: true, since: '-1h' },
    ],
    scrape_metrics: [{ file: join(INCIDENTS, 'metrics', 'vllm-1.prom') }, { text: readFileSync(join(INCIDENTS, 'metrics', 'tricky.prom'), 'utf8') }],
    sched_status: [{ limit: 10, output_lines: 5 }],
    list_schedulers: [{}, { name: 'lavd', check_drift: true }],
    nccl_params: [{ action: 'describe', query: 'ALGO' }, { action: 'validate', config: { NCCL_ALGO: 'ring,tree', NCCL_PROTO: 'LL128' } }],
    triton_cases: [{ action: 'list' }, { action: 'show', case: 'softmax' }],
    get_history: [{ workload: 'ro-test', aggregates: true }, { sort: 'primary', limit: 3 }],
    compare_runs: [{ a_run_ids: runIds.slice(0, 4), b_run_ids: runIds.slice(4) }],
    suggest_config: [
      { params: [{ name: 'variant', type: 'categorical', choices: ['a', 'b', 'c'], default: 'a' }], workload: 'ro-test', count: 2, seed: 1 },
      { space: 'sched:scx_lavd', count: 2, seed: 1 },
    ],
    search_knowledge: [{ query: 'allreduce slow on small messages' }, { query: 'Xid 79', kinds: ['incident'] }],
    job_status: [{ job_id: job.job_id, wait_s: 0 }],
  };

  const reader = await connectInMemory({ ...env, TUNELOOP_READ_ONLY: '1' });
  const readOnlyTools = (await selectTools({ toolsets: [...TOOLSETS], readOnly: true })).map((t) => t.name);

  it('every read-only tool has arguments here, and --read-only serves exactly those tools', async () => {
    expect(Object.keys(calls).sort()).toEqual([...readOnlyTools].sort());
    expect((await reader.client.listTools()).tools.map((t) => t.name).sort()).toEqual([...readOnlyTools].sort());
  });

  it('leaves the store and the data dir exactly as they were', async () => {
    const store = reader.server.runtime.store;
    const before = { store: dumpStore(store), tree: dumpTree(home) };
    for (const name of readOnlyTools) {
      const plan = calls[name];
      const answers: CallToolResult[] = [];
      if (plan === 'monitor') {
        const started = await reader.call(name, { action: 'start', interval_ms: 100, label: 'read-only proof' });
        const id = (started.structuredContent as { sessions: { session_id: string }[] }).sessions[0].session_id;
        await new Promise((r) => setTimeout(r, 350));
        answers.push(started, await reader.call(name, { action: 'status' }), await reader.call(name, { action: 'stop', session_id: id }));
      } else {
        for (const args of plan) answers.push(await reader.call(name, args));
      }
      for (const a of answers) expect(a.isError, `${name}: ${textOf(a)}`).toBeFalsy();
    }
    expect(dumpStore(store)).toBe(before.store);
    expect(dumpTree(home)).toEqual(before.tree);
  });
});
