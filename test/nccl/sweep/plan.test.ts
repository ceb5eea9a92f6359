/** Sweep planning (the sweep itself runs in sweep.test.ts, the tuner CSV in tuner-csv.test.ts). */
import { describe, expect, it } from 'vitest';
import { expandGrid, planSweep } from '../../../src/nccl/sweep/plan.js';

describe('planSweep', () => {
  it('expands a grid in order', () => {
    expect(expandGrid({ NCCL_PROTO: ['LL', 'Simple'], NCCL_MIN_CTAS: ['8', '16'] })).toEqual([
      { NCCL_PROTO: 'LL', NCCL_MIN_CTAS: '8' },
      { NCCL_PROTO: 'LL', NCCL_MIN_CTAS: '16' },
      { NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '8' },
      { NCCL_PROTO: 'Simple', NCCL_MIN_CTAS: '16' },
    ]);
    expect(() => expandGrid({ NCCL_PROTO: [] })).toThrow(/grid.NCCL_PROTO has no values/);
    const huge = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`NCCL_X${i}`, Array.from({ length: 7 }, (_, j) => String(j))]));
    expect(() => expandGrid(huge)).toThrow(/16807 combinations/);
  });

  it('builds the default from the base without tuning or swept variables', () => {
    const plan = planSweep({
      base: { NCCL_SOCKET_IFNAME: '=eth0', NCCL_BUFFSIZE: '8388608', NCCL_DEBUG: 'INFO', NCCL_PROTO: 'LL' },
      grid: { NCCL_PROTO: ['LL128', 'Simple'] },
      configs: [{ NCCL_PROTO: 'Simple' }],
      repeats: 1,
      maxRuns: 10,
    });
    expect(plan.defaultOmits).toEqual(['NCCL_BUFFSIZE', 'NCCL_PROTO']);
    expect(plan.configs[0]).toMatchObject({ label: 'default', isDefault: true, env: { NCCL_SOCKET_IFNAME: '=eth0', NCCL_DEBUG: 'INFO' } });
    // The explicit config and the grid's identical one are one config.
    expect(plan.configs.map((c) => c.label)).toEqual(['default', 'NCCL_PROTO=Simple', 'NCCL_PROTO=LL128']);
    expect(plan.configs[1].env).toEqual({ NCCL_SOCKET_IFNAME: '=eth0', NCCL_BUFFSIZE: '8388608', NCCL_DEBUG: 'INFO', NCCL_PROTO: 'Simple' });
  });

  it('skips invalid configs and those over the budget, and refuses a budget with no room', () => {
    const plan = planSweep({ base: {}, configs: [{ NCCL_PROTO: 'LL' }, { NCCL_PROTO: 'LL12' }, { NCCL_PROTO: 'Simple' }], repeats: 2, maxRuns: 5 });
    expect(plan.configs.map((c) => c.label)).toEqual(['default', 'NCCL_PROTO=LL']);
    expect(plan.skipped.map((s) => [s.label, s.reason.split(':')[0]])).toEqual([
      ['NCCL_PROTO=LL12', 'invalid'],
      ['NCCL_PROTO=Simple', 'over the run budget (max_runs 5, repeats 2)'],
    ]);
    expect(() => planSweep({ base: {}, configs: [{ NCCL_PROTO: 'LL' }], repeats: 3, maxRuns: 5 })).toThrow(/max_runs 5 with repeats 3 leaves no room beyond the default/);
  });
});
