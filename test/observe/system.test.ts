import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { spawnChild } from '../../src/core/exec.js';
import { findBinary } from '../../src/core/probe.js';
import { readCgroup, readGovernors, readPsi, readRdmaPorts, readSchedExtBrief, readTopology, topProcesses } from '../../src/observe/system.js';
import { fakeProc, fakeSys } from '../fixtures/observe/host.js';
import { connectInMemory } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTree } from '../helpers/tree.js';

function fakeHost() {
  const root = tempDir();
  const proc = writeTree(join(root, 'proc'), fakeProc);
  const sys = writeTree(join(root, 'sys'), fakeSys);
  return { proc, sys, config: loadConfig({}, { TUNELOOP_PROC_ROOT: proc, TUNELOOP_SYSFS_ROOT: sys, TUNELOOP_HOME: join(root, 'home'), PATH: '' }) };
}

describe('system readers on a fake 2-socket host', () => {
  const { config, proc } = fakeHost();

  it('reads CPU topology, SMT and NUMA', () => {
    expect(readTopology(config)).toEqual({
      model: 'Intel(R) Xeon(R) Platinum 8480+',
      sockets: 2,
      cores: 4,
      threads: 8,
      smt_active: true,
      current_mhz: 2350,
      numa_nodes: [
        { node: 0, cpus: '0-3', mem_total_mib: 128868 },
        { node: 1, cpus: '4-7', mem_total_mib: 128868 },
      ],
    });
  });

  it('reads PSI, governors, sched_ext and cgroup v2 limits', () => {
    expect(readPsi(config).cpu).toEqual({ some: { avg10: 12.5, avg60: 8, avg300: 2, total_us: 123456789 }, full: { avg10: 0, avg60: 0, avg300: 0, total_us: 0 } });
    expect(readGovernors(config)).toEqual({ governors: { performance: 6, powersave: 2 }, driver: 'intel_pstate' });
    expect(readSchedExtBrief(config)).toEqual({ supported: true, state: 'enabled', ops: 'lavd', enable_seq: 3 });
    expect(readCgroup(config)).toEqual({
      version: 2,
      path: '/system.slice/tuneloop.service',
      cpu_quota_cores: 2,
      cpuset: '0-7',
      memory_limit_bytes: 1073741824,
      memory_current_bytes: 52428800,
      pids_limit: null,
    });
  });

  it('reads RDMA ports', () => {
    expect(readRdmaPorts(config)).toEqual([{ device: 'mlx5_0', port: 1, state: 'ACTIVE', rate: '400 Gb/sec (4X NDR)', link_layer: 'InfiniBand' }]);
  });

  it('reports what the kernel lacks as missing, not as zeros', async () => {
    rmSync(join(proc, 'pressure'), { recursive: true });
    expect(readPsi(config)).toEqual({ cpu: null, memory: null, io: null });
  });
});

describe('system readers on this machine', () => {
  const config = loadConfig({}, { PATH: process.env.PATH });

  it('finds the cgroup this process runs in', () => {
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    const cg = readCgroup(config)!;
    expect(cg).not.toBeNull();
    expect(self).toContain(cg.path);
    expect(cg.memory_current_bytes).toBeGreaterThan(0);
  });

  it('lists a CPU-bound process among the top processes', async () => {
    const burner = spawnChild([process.execPath, '-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { timeoutMs: 30_000 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      // A wide list and a low bar: on a loaded 2-core machine the burner gets only its fair share,
      // and other busy processes may rank above it. A sleeping process would read 0.
      const top = await topProcesses(config, 500, 500);
      const row = top.find((p) => p.pid === burner.pid);
      expect(row).toBeDefined();
      expect(row!.cpu_pct).toBeGreaterThan(3);
      expect(row!.cmdline).toContain('Date.now()');
      expect(row!.rss_mib).toBeGreaterThan(1);
    } finally {
      await burner.terminate();
    }
  });
});

describe('system_snapshot through MCP', async () => {
  const { proc, sys } = fakeHost();
  const { call } = await connectInMemory({ TUNELOOP_PROC_ROOT: proc, TUNELOOP_SYSFS_ROOT: sys, PATH: '' });

  it('returns the fake host, with GPUs reported as unavailable without nvidia-smi', async () => {
    const r = await call('system_snapshot', { top: 0 });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      kernel: { release: '6.12.9-sched-ext', uptime_s: 12345.67 },
      cpu: { sockets: 2, cores: 4, threads: 8 },
      memory: { total_mib: 257736, available_mib: 195313 },
      load: { load1: 3.5, runnable: 4, tasks: 812 },
      cpufreq: { governors: { performance: 6, powersave: 2 } },
      cgroup: { version: 2, cpu_quota_cores: 2 },
      sched_ext: { supported: true, state: 'enabled', ops: 'lavd' },
      gpus: { available: false, devices: [], models: [] },
      rdma: [{ device: 'mlx5_0', state: 'ACTIVE' }],
      top_processes: [],
      // systeminformation would describe the real machine, not the fake tree
      inventory: null,
      os: null,
    });
    const missing = (r.structuredContent as { missing: string[] }).missing;
    expect(missing).toContain('GPUs: nvidia-smi not installed');
    expect(missing.some((m) => m.startsWith('inventory: systeminformation reads the real'))).toBe(true);
  });
});

describe('system_snapshot with GPUs', async () => {
  const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');
  const { call } = await connectInMemory({ PATH: `${FAKE_BIN}:${process.env.PATH}` });

  it('lists GPUs from nvidia-smi, with unsupported fields as null', async () => {
    const r = await call('system_snapshot', { top: 0 });
    const gpus = (r.structuredContent as { gpus: { available: boolean; error: null; devices: Record<string, unknown>[] } }).gpus;
    expect(gpus).toMatchObject({ available: true, error: null });
    expect(gpus.devices).toHaveLength(2);
    expect(gpus.devices[1]).toMatchObject({ index: 1, name: 'NVIDIA H100 80GB HBM3', 'pci.bus_id': '00000000:2A:00.0', 'temperature.gpu': 91 });
  });

  it('cross-checks nvidia-smi against the PCI bus: this machine has no NVIDIA controller, so they differ', async () => {
    const r = await call('system_snapshot', { top: 0 });
    const gpus = (r.structuredContent as { gpus: { models: string[]; controllers: unknown[] | null; cross_check: string | null } }).gpus;
    expect(gpus.models).toEqual(['NVIDIA H100 80GB HBM3']);
    if (findBinary('lspci', (process.env.PATH ?? '').split(':'))) {
      expect(gpus.controllers).toEqual([]);
      expect(gpus.cross_check).toBe('differ: nvidia-smi shows 2 GPU(s), the PCI bus 0 NVIDIA controller(s); a GPU may have fallen off the bus or lost its driver');
    } else {
      expect(gpus.controllers).toBeNull(); // unread, not "none"
      expect(r.content[0].type === 'text' && r.content[0].text).not.toContain('differ');
    }
  });
});
