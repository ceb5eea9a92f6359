/**
 * The best-config query reads the top of an index kept current by every insertRun, never a sort of
 * all configs: checked on the query plan for each filter get_history sends, and on the answer against
 * a brute-force ranking of the same runs.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/core/store.js';
import { historyMigrations } from '../../src/learn/schema.js';
import { configAggregates, insertRun } from '../../src/learn/runs.js';
import { tempDir } from '../helpers/tmp.js';

describe('best config so far', () => {
  const store = openStore(join(tempDir(), 'db'), { history: historyMigrations });
  store.write((db) => {
    db.prepare("INSERT INTO workloads (name, created_at) VALUES ('a', 'x'), ('b', 'x')").run();
    let t = 1;
    for (let c = 0; c < 60; c++) {
      for (let r = 0; r < 1 + (c % 3); r++) {
        const value = 10 + ((c * 37 + r * 11) % 50);
        insertRun(db, { domain: 'sched', workload_id: 1, config: { c }, metrics: { wall_s: value }, primary_metric: 'wall_s', direction: 'lower' }, t++);
        insertRun(db, { domain: 'nccl', workload_id: 2, config: { c }, metrics: { busbw: value }, primary_metric: 'busbw', direction: 'higher' }, t++);
      }
    }
  });

  it('ranks configs by median in the metric\'s direction, as a brute-force ranking does', () => {
    const brute = (workload: number, metric: string, sign: number) => {
      const rows = store.db.prepare('SELECT config_key, primary_value AS v FROM runs WHERE workload_id = ? AND primary_metric = ?').all(workload, metric) as { config_key: string; v: number }[];
      const by = new Map<string, number[]>();
      for (const r of rows) by.set(r.config_key, [...(by.get(r.config_key) ?? []), r.v]);
      const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
      return [...by].map(([k, v]) => ({ k, m: median(v), n: v.length })).sort((a, b) => sign * (a.m - b.m) || b.n - a.n).slice(0, 5).map((x) => x.m);
    };
    expect(configAggregates(store, { workload_id: 1, domain: 'sched' }, 5).map((a) => a.median)).toEqual(brute(1, 'wall_s', 1));
    expect(configAggregates(store, { workload_id: 2, domain: 'nccl' }, 5).map((a) => a.median)).toEqual(brute(2, 'busbw', -1));
  });

  it.each([
    ['workload and domain', 'WHERE workload_id = 1 AND domain = \'sched\''],
    ['workload, domain and metric', 'WHERE workload_id = 1 AND domain = \'sched\' AND primary_metric = \'wall_s\''],
    ['workload only', 'WHERE workload_id = 1'],
    ['domain only', 'WHERE domain = \'sched\''],
  ])('reads the top in index order for a filter on %s', (_, where) => {
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM config_stats ${where} ORDER BY CASE direction WHEN 'lower' THEN median ELSE -median END, n DESC LIMIT 10`)
      .all() as { detail: string }[];
    const text = plan.map((p) => p.detail).join('; ');
    expect(text).toMatch(/USING INDEX config_stats_best_/);
    expect(text).not.toMatch(/TEMP B-TREE/);
  });
});
