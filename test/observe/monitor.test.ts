import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { connectInMemory, textOf } from '../helpers/runtime.js';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');

describe('system_monitor through MCP', async () => {
  const { call, server } = await connectInMemory({ PATH: `${FAKE_BIN}:${process.env.PATH}` });

  it('runs several sessions at once and summarizes each on stop', async () => {
    const a = (await call('system_monitor', { action: 'start', interval_ms: 100, label: 'first' })).structuredContent as { sessions: { session_id: string }[] };
    const b = (await call('system_monitor', { action: 'start', interval_ms: 200, gpus: false })).structuredContent as { sessions: { session_id: string }[]; missing: unknown[] };
    const ida = a.sessions[0].session_id;
    const idb = b.sessions[0].session_id;
    expect(ida).not.toBe(idb);
    const status = async () => (await call('system_monitor', { action: 'status' })).structuredContent as { sessions: { session_id: string; samples: number }[] };
    let sessions = (await status()).sessions;
    expect(sessions.map((s) => s.session_id).sort()).toEqual([ida, idb].sort());
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && sessions.some((s) => s.samples < 3)) {
      await new Promise((r) => setTimeout(r, 100));
      sessions = (await status()).sessions;
    }
    const stopped = await call('system_monitor', { action: 'stop', session_id: ida });
    expect(stopped.isError).toBeFalsy();
    const summary = (stopped.structuredContent as { summary: { samples: number; metrics: Record<string, { mean: number }> } }).summary;
    expect(summary.samples).toBeGreaterThanOrEqual(3);
    expect(summary.metrics['cpu.util_pct']).toBeDefined();
    expect(summary.metrics['gpu0.util_pct'].mean).toBe(97);
    expect(textOf(stopped)).toMatch(/samples over/);
    // Read-only (issue 9 section 6): the summary goes to the client, nothing to the store.
    expect(server.runtime.store.db.prepare('SELECT COUNT(*) AS n FROM monitor_sessions').get()).toEqual({ n: 0 });
    expect((await status()).sessions.map((s) => s.session_id)).toEqual([idb]);
    await call('system_monitor', { action: 'stop', session_id: idb });
  });

  it('says which sessions exist when asked for an unknown one', async () => {
    const r = await call('system_monitor', { action: 'stop', session_id: 'mon-nope' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No monitor session "mon-nope"/);
    const bad = await call('system_monitor', { action: 'start', interval_ms: 50 });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/interval_ms/);
  });
});
