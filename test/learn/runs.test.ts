import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../../src/core/store.js';
import { configAggregates, queryRuns, rebuildConfigStats, recordRun, selectRuns } from '../../src/learn/runs.js';
import { historyMigrations } from '../../src/learn/schema.js';
import { createWorkload } from '../../src/learn/workloads.js';
import { canonicalJson, configKey } from '../../src/learn/canonical.js';
import { tempDir } from '../helpers/tmp.js';

function store() {
  return openStore(join(tempDir(), 'db'), { history: historyMigrations });
}

const run = (config: unknown, value: number, extra: Record<string, unknown> = {}) => ({
  domain: 'other' as const,
  config,
  metrics: { latency_ms: value },
  primary_metric: 'latency_ms',
  direction: 'lower' as const,
  ...extra,
});

describe('canonical configs', () => {
  it('gives the same key to the same config whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(configKey({ x: 1, y: 2 })).toBe(configKey({ y: 2, x: 1 }));
    expect(configKey({ x: 1 })).not.toBe(configKey({ x: 2 }));
    expect(configKey({ x: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('recordRun', () => {
  it('stores the run with host context and keeps the per-config aggregate current', () => {
    const s = store();
    for (const v of [5, 1, 3, 9]) recordRun(s, run({ algo: 'ring' }, v));
    const r = recordRun(s, run({ algo: 'ring' }, 7, { context: { gpus: 8 } }));
    expect(r.context).toMatchObject({ gpus: 8, host: expect.any(String), kernel: expect.any(String) });
    expect(r.primary_value).toBe(7);
    const [agg] = configAggregates(s, { domain: 'other' }, 10);
    expect(agg).toMatchObject({ n: 5, median: 5, min: 1, max: 9, mean: 5, config: { algo: 'ring' } });
    recordRun(s, run({ algo: 'ring' }, 2));
    expect(configAggregates(s, { domain: 'other' }, 10)[0]).toMatchObject({ n: 6, median: 4 });
  });

  it('ranks configs by median honouring the direction', () => {
    const s = store();
    for (const v of [10, 11, 12]) recordRun(s, run({ c: 'slow' }, v));
    for (const v of [4, 5, 6]) recordRun(s, run({ c: 'fast' }, v));
    expect(configAggregates(s, {}, 10).map((a) => (a.config as { c: string }).c)).toEqual(['fast', 'slow']);
    const t = store();
    for (const v of [10, 11, 12]) recordRun(t, { ...run({ c: 'wide' }, v), primary_metric: 'busbw', metrics: { busbw: v }, direction: 'higher' });
    for (const v of [4, 5, 6]) recordRun(t, { ...run({ c: 'narrow' }, v), primary_metric: 'busbw', metrics: { busbw: v }, direction: 'higher' });
    expect(configAggregates(t, {}, 10)[0].config).toEqual({ c: 'wide' });
  });

  it('keeps failed runs out of the statistics', () => {
    const s = store();
    recordRun(s, run({ c: 1 }, 5));
    recordRun(s, { ...run({ c: 1 }, 0), metrics: {}, status: 'failed' });
    expect(configAggregates(s, {}, 10)[0].n).toBe(1);
    expect(queryRuns(s, { sort: 'time', limit: 10, offset: 0 }).runs.map((r) => r.status)).toEqual(['failed', 'ok']);
  });

  it('refuses an ok run whose primary metric is missing, and records nothing', () => {
    const s = store();
    expect(() => recordRun(s, { ...run({}, 1), primary_metric: 'p99' })).toThrow(/primary_metric "p99" is not among the metrics \(latency_ms\)/);
    expect(queryRuns(s, { sort: 'time', limit: 10, offset: 0 }).runs).toHaveLength(0);
  });

  it('refuses non-finite metrics and a direction that contradicts earlier runs', () => {
    const s = store();
    expect(() => recordRun(s, run({}, Number.NaN))).toThrow(/metrics.latency_ms is NaN/);
    recordRun(s, run({}, 1));
    expect(() => recordRun(s, { ...run({}, 1), direction: 'higher' })).toThrow(/recorded before as lower-is-better/);
  });

  it('refuses an unknown workload id', () => {
    expect(() => recordRun(store(), run({}, 1, { workload_id: 42 }))).toThrow(/No workload with id 42/);
  });
});

describe('queryRuns', () => {
  it('filters, sorts by primary best-first and pages', () => {
    const s = store();
    const w = createWorkload(s, { name: 'bench-1' });
    for (const v of [3, 1, 2]) recordRun(s, run({ v }, v, { workload_id: w.id }));
    recordRun(s, run({ v: 0 }, 0));
    const page1 = queryRuns(s, { workload_id: w.id, sort: 'primary', limit: 2, offset: 0 });
    expect(page1.runs.map((r) => r.primary_value)).toEqual([1, 2]);
    expect(page1.has_more).toBe(true);
    const page2 = queryRuns(s, { workload_id: w.id, sort: 'primary', limit: 2, offset: 2 });
    expect(page2.runs.map((r) => r.primary_value)).toEqual([3]);
    expect(page2.has_more).toBe(false);
    expect(selectRuns(s, { config_key: configKey({ v: 0 }) })).toHaveLength(1);
  });

  it('filters by time', () => {
    const s = store();
    recordRun(s, run({}, 1));
    const now = Date.now();
    expect(queryRuns(s, { since_ms: now + 60_000, sort: 'time', limit: 10, offset: 0 }).runs).toHaveLength(0);
    expect(queryRuns(s, { since_ms: now - 60_000, sort: 'time', limit: 10, offset: 0 }).runs).toHaveLength(1);
  });
});

describe('rebuildConfigStats', () => {
  it('recomputes the same aggregates that recording maintains', () => {
    const s = store();
    for (const v of [5, 1, 3, 9, 7, 2]) recordRun(s, run({ c: 'a' }, v));
    for (const v of [4, 8, 6]) recordRun(s, run({ c: 'b' }, v));
    const before = configAggregates(s, {}, 10);
    s.write((db) => rebuildConfigStats(db));
    expect(configAggregates(s, {}, 10)).toEqual(before);
    expect(before.map((a) => [a.n, a.median])).toEqual([[6, 4], [3, 6]]);
  });
});
