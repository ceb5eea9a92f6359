/**
 * Slow-ish: each gpu_status call runs the fake nvidia-smi (a Node script) once per query the tool makes.
 * gpu_status against a fake nvidia-smi on PATH that answers in the real CSV format for a
 * datacenter GPU (every field), a consumer GPU ([N/A] / [Not Supported]), an old driver that
 * rejects newer field names, and a host whose driver is not loaded.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');
const PATH = `${BIN}:${process.env.PATH}`;

type Gpu = {
  index: number;
  name: string;
  health: string;
  flags: { flag: string; severity: string }[];
  unavailable: Record<string, string>;
  processes: { pid: number; name: string; used_memory_mib: number | null; unavailable: Record<string, string> }[];
  [key: string]: unknown;
};

async function gpuStatus(profile: string, args: Record<string, unknown> = {}) {
  process.env.FAKE_NVIDIA_SMI_PROFILE = profile; // the fake reads it from the environment the server's children inherit
  const { call } = await connectInMemory({ PATH });
  const r = await call('gpu_status', args);
  return { r, s: r.structuredContent as { gpus: Gpu[]; fields_rejected: string[]; summary: Record<string, number> } };
}

afterEach(() => {
  delete process.env.FAKE_NVIDIA_SMI_PROFILE;
});

describe('gpu_status', () => {
  it('reads every field of a datacenter GPU and flags the unhealthy one', async () => {
    const { r, s } = await gpuStatus('h100');
    expect(r.isError).toBeFalsy();
    expect(s.fields_rejected).toEqual([]);
    const [g0, g1] = s.gpus;
    expect(g0).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      bus_id: '00000000:18:00.0',
      utilization_pct: { gpu: 97, memory: 61 },
      memory_mib: { used: 71234, total: 81559 },
      power_w: { draw: 688.41, limit: 700 },
      clocks_mhz: { sm: 1980, mem: 2619, max_sm: 1980, max_mem: 2619 },
      throttle: { active_mask: '0x0000000000000004', active: ['sw_power_cap'] },
      ecc: { mode: 'Enabled', volatile_uncorrected: 0, aggregate_corrected: 12 },
      remapped_rows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
      fan_pct: null,
      health: 'healthy',
    });
    // H100 has row remapping, not page retirement: those are null with nvidia-smi's reason, not 0.
    expect(g0.retired_pages).toEqual({ single_bit: null, double_bit: null, pending: null });
    expect(g0.unavailable).toEqual({ 'fan.speed': 'not available', 'retired_pages.single_bit_ecc.count': 'not available', 'retired_pages.double_bit.count': 'not available', 'retired_pages.pending': 'not available' });
    expect(g0.flags.map((f) => [f.flag, f.severity])).toEqual([['power_capped', 'info']]);
    expect(g0.processes).toEqual([{ pid: 4242, name: '/usr/bin/python3', used_memory_mib: 70112, unavailable: {} }]);

    expect(g1.health).toBe('unhealthy');
    expect(g1.throttle).toMatchObject({ active: ['hw_slowdown', 'hw_thermal_slowdown', 'sw_thermal_slowdown'] });
    expect(g1.flags.map((f) => [f.flag, f.severity])).toEqual([
      ['thermal_throttling', 'warning'],
      ['ecc_uncorrected', 'critical'],
      ['row_remap_pending', 'warning'],
    ]);
    // A process name with a comma survives the CSV.
    expect(g1.processes[0].name).toBe('python3 -m vllm.entrypoints.openai.api_server, worker');
    expect(s.summary).toEqual({ healthy: 1, degraded: 0, unhealthy: 1 });
    expect(textOf(r)).toMatch(/GPU 1 NVIDIA H100 80GB HBM3 \(00000000:2A:00.0\): unhealthy[\s\S]*critical: ecc_uncorrected/);
  });

  it('reports what a consumer GPU does not support as null with the reason', async () => {
    const { s } = await gpuStatus('consumer');
    const g = s.gpus[0];
    expect(g.ecc).toEqual({ mode: null, volatile_corrected: null, volatile_uncorrected: null, aggregate_corrected: null, aggregate_uncorrected: null });
    expect(g.remapped_rows).toEqual({ correctable: null, uncorrectable: null, pending: null, failure: null });
    expect(g.unavailable).toMatchObject({ 'ecc.mode.current': 'not available', 'remapped_rows.pending': 'not supported by this GPU', 'temperature.memory': 'not available' });
    expect(g.temperature_c).toEqual({ gpu: 58, memory: null });
    expect(g.health).toBe('healthy');
    expect(g.processes).toEqual([{ pid: 999, name: 'python3', used_memory_mib: null, unavailable: { used_gpu_memory: 'not available' } }]);
  });

  it('degrades gracefully on a driver that rejects newer field names', async () => {
    const { r, s } = await gpuStatus('old');
    expect(r.isError).toBeFalsy();
    // Throttle reasons come back under their pre-535 names; remapped rows do not exist there.
    expect(s.fields_rejected).toEqual(['remapped_rows.correctable', 'remapped_rows.uncorrectable', 'remapped_rows.pending', 'remapped_rows.failure']);
    const g = s.gpus[0];
    expect(g.throttle).toMatchObject({ active_mask: '0x0000000000000000', active: [], reasons: { hw_thermal_slowdown: false, sw_power_cap: false } });
    expect(g.remapped_rows).toEqual({ correctable: null, uncorrectable: null, pending: null, failure: null });
    expect(g.unavailable['remapped_rows.pending']).toBe('not a field this driver knows');
    expect(g.retired_pages).toEqual({ single_bit: 2, double_bit: 1, pending: true });
    expect(g.flags.map((f) => f.flag)).toEqual(['ecc_uncorrected_history', 'ecc_corrected', 'page_retirement_pending', 'retired_pages_dbe']);
    expect(g.health).toBe('degraded');
    expect(g.processes).toEqual([]);
  });

  it('filters by GPU index and refuses an index that does not exist', async () => {
    const { s } = await gpuStatus('h100', { gpus: [1], processes: false });
    expect(s.gpus.map((g) => g.index)).toEqual([1]);
    expect(s.gpus[0].processes).toEqual([]);
    const { r } = await gpuStatus('h100', { gpus: [7] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/gpus: no GPU with index 7[\s\S]*indices 0, 1/);
  });

  it('passes on a driver failure with what to check', async () => {
    const { r } = await gpuStatus('broken');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver[\s\S]*Remedy: .*Xid/);
  });

  it('says clearly that there is no nvidia-smi', async () => {
    const { call } = await connectInMemory({ PATH: tempDir() });
    const r = await call('gpu_status');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/nvidia-smi was not found[\s\S]*Remedy: install the NVIDIA driver/);
  });
});
