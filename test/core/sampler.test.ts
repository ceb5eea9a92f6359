import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { RESERVOIR, Sampler, Series } from '../../src/core/sampler.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/proc.js';
import { writeTree } from '../helpers/tree.js';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');

describe('Series', () => {
  it('keeps exact count/mean/min/max and a bounded reservoir', () => {
    const s = new Series();
    for (let i = 1; i <= RESERVOIR * 3; i++) s.add(i);
    expect(s.reservoir.length).toBe(RESERVOIR);
    const sum = s.summary();
    expect(sum).toMatchObject({ n: RESERVOIR * 3, min: 1, max: RESERVOIR * 3, mean: (RESERVOIR * 3 + 1) / 2 });
    expect(sum.p50).toBeGreaterThan(RESERVOIR * 1.2);
    expect(sum.p50).toBeLessThan(RESERVOIR * 1.8);
  });
});

describe('Sampler on a fake /proc', () => {
  it('computes rates from counter deltas and reports missing sources', async () => {
    const proc = writeTree(tempDir(), {
      stat: 'cpu  100 0 100 800 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0\nctxt 1000\nprocs_running 3\nprocs_blocked 1\n',
      meminfo: 'MemTotal: 1000 kB\nMemAvailable: 250 kB\n',
      schedstat: 'version 15\ntimestamp 1\ncpu0 0 0 0 0 0 0 1000 5000000 10\ncpu1 0 0 0 0 0 0 1000 5000000 10\n',
    });
    const sampler = new Sampler(loadConfig({}, { TUNELOOP_PROC_ROOT: proc, PATH: '' }), { intervalMs: 100, maxDurationMs: 10_000 });
    // cpu: +300 busy of +400 total -> 75%; cpu0 all busy; cpu1 half busy
    writeFileSync(
      join(proc, 'stat'),
      'cpu  300 0 200 900 0 0 0 0\ncpu0 150 0 50 400 0 0 0 0\ncpu1 150 0 150 600 0 0 0 0\nctxt 3000\nprocs_running 5\nprocs_blocked 0\n',
    );
    writeFileSync(join(proc, 'schedstat'), 'version 15\ntimestamp 2\ncpu0 0 0 0 0 0 0 1000 6000000 10\ncpu1 0 0 0 0 0 0 1000 5000000 10\n');
    expect(await waitFor(() => sampler.sampleCount >= 1, 5000)).toBe(true);
    sampler.stop();
    const s = sampler.summary();
    expect(s.metrics['cpu.util_pct'].max).toBe(75);
    expect(s.metrics['cpu.user_pct'].max).toBe(50);
    expect(s.metrics['sched.ctxt_per_s'].max).toBeGreaterThan(0);
    expect(s.metrics['mem.used_pct'].max).toBe(75);
    expect(s.metrics['schedstat.run_delay_ms_per_s'].max).toBeGreaterThan(0);
    expect(s.per_cpu).toEqual([
      { cpu: 0, mean_util_pct: 100, max_util_pct: 100 },
      { cpu: 1, mean_util_pct: 50, max_util_pct: 50 },
    ]);
    expect(s.missing.map((m) => m.source)).toEqual(expect.arrayContaining(['/proc/pressure/cpu', 'nvidia-smi']));
    expect(Object.keys(s.metrics).some((k) => k.startsWith('psi.'))).toBe(false);
  });
});

describe('Sampler on this machine', () => {
  it('samples real /proc and a streaming (fake) nvidia-smi', async () => {
    const sampler = new Sampler(loadConfig({}, { PATH: `${FAKE_BIN}:${process.env.PATH}` }), { intervalMs: 100, maxDurationMs: 10_000 });
    expect(await waitFor(() => sampler.sampleCount >= 3 && 'gpu1.util_pct' in sampler.latest, 10_000)).toBe(true);
    sampler.stop();
    const s = sampler.summary();
    expect(s.metrics['cpu.util_pct'].n).toBeGreaterThanOrEqual(3);
    expect(s.metrics['gpu0.util_pct'].mean).toBe(97);
    expect(s.metrics['gpu0.power_w'].mean).toBe(688.41);
    expect(s.metrics['gpu1.util_pct'].mean).toBe(100);
    expect(s.metrics['sched.procs_running'].min).toBeGreaterThanOrEqual(1);
  });

  it('stops by itself at its max duration', async () => {
    const sampler = new Sampler(loadConfig({}, { PATH: '' }), { intervalMs: 100, maxDurationMs: 300 });
    expect(await waitFor(() => !sampler.running, 5000)).toBe(true);
    const n = sampler.sampleCount;
    await new Promise((r) => setTimeout(r, 300));
    expect(sampler.sampleCount).toBe(n);
  });
});
