import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';

describe('history tools through MCP', async () => {
  const { call } = await connectInMemory();

  it('creates, lists and gets workloads', async () => {
    const created = await call('workload', { action: 'create', name: 'kbuild', description: 'kernel build', command: ['make', '-j2'], classification: 'throughput', tags: ['cpu'] });
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ workload: { name: 'kbuild', command: ['make', '-j2'], classification: 'throughput' } });
    const dup = await call('workload', { action: 'create', name: 'kbuild' });
    expect(dup.isError).toBe(true);
    expect(textOf(dup)).toMatch(/already exists[\s\S]*Remedy:/);
    const list = await call('workload', { action: 'list', tags: ['cpu'] });
    expect((list.structuredContent as { workloads: unknown[] }).workloads).toHaveLength(1);
    const get = await call('workload', { action: 'get', workload: 'kbuild' });
    expect(get.structuredContent).toMatchObject({ workload: { name: 'kbuild' }, recent_runs: [] });
  });

  it('records runs and answers history with aggregates and the best config', async () => {
    const times: Record<string, number[]> = { eevdf: [60, 61, 59, 62, 60, 61], lavd: [50, 51, 49, 52, 50, 51] };
    for (const [scheduler, values] of Object.entries(times)) {
      for (const v of values) {
        const r = await call('record_run', { domain: 'sched', workload: 'kbuild', config: { scheduler }, metrics: { wall_s: v, user_s: v * 2 }, primary_metric: 'wall_s', direction: 'lower' });
        expect(r.isError).toBeFalsy();
      }
    }
    const h = await call('get_history', { workload: 'kbuild', sort: 'primary', limit: 3 });
    const history = h.structuredContent as { runs: { primary_value: number }[]; has_more: boolean; best: { config: unknown; n: number; median: number } };
    expect(history.runs.map((r) => r.primary_value)).toEqual([49, 50, 50]);
    expect(history.has_more).toBe(true);
    expect(history.best).toMatchObject({ config: { scheduler: 'lavd' }, n: 6, median: 50.5 });
    expect(textOf(h)).toMatch(/Best config so far/);
    // Time and status filters narrow the runs; aggregates stay over all ok runs.
    const filtered = (await call('get_history', { workload: 'kbuild', status: 'failed', since: '1h' })).structuredContent as { runs: unknown[]; best: { n: number } };
    expect(filtered.runs).toEqual([]);
    expect(filtered.best.n).toBe(6);
  });

  it('compares two configs and says which is better', async () => {
    const h = await call('get_history', { workload: 'kbuild', limit: 1 });
    const aggs = (h.structuredContent as { aggregates: { config: { scheduler: string }; config_key: string }[] }).aggregates;
    const key = (s: string) => aggs.find((a) => a.config.scheduler === s)!.config_key;
    const c = await call('compare_runs', { workload: 'kbuild', a_config_key: key('eevdf'), b_config_key: key('lavd') });
    expect(c.structuredContent).toMatchObject({ metric: 'wall_s', direction: 'lower', verdict: 'better', a: { n: 6 }, b: { n: 6 } });
    const other = await call('compare_runs', { workload: 'kbuild', a_config_key: key('eevdf'), b_config_key: key('lavd'), metric: 'user_s', direction: 'higher' });
    expect(other.structuredContent).toMatchObject({ metric: 'user_s', verdict: 'worse' });
  });

  it('explains what is wrong with bad input, naming the field', async () => {
    const missing = await call('compare_runs', { b_config_key: 'x' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/Group a is empty: pass a_config_key or a_run_ids/);
    const range = await call('get_history', { limit: 5000 });
    expect(range.isError).toBe(true);
    expect(textOf(range)).toMatch(/limit/);
    const unknown = await call('get_history', { limitt: 5 });
    expect(textOf(unknown)).toMatch(/Unknown argument\(s\) "limitt"; get_history takes: workload, domain/);
    const time = await call('get_history', { since: 'yesterday' });
    expect(textOf(time)).toMatch(/since: "yesterday" is neither an ISO 8601 time nor an age/);
    const noMetric = await call('record_run', { domain: 'other', config: {}, metrics: { a: 1 }, primary_metric: 'b', direction: 'lower' });
    expect(textOf(noMetric)).toMatch(/primary_metric "b" is not among the metrics/);
  });
});
