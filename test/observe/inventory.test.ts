/**
 * The host inventory through systeminformation, on this machine (real lscpu, lsblk, ip, lspci ...),
 * and its bounds: a hanging command is killed by the probe's per-command timeout, and what a command
 * leaves running dies with the probe.
 *
 * Slow-ish (about 1 s per probe: a Node child that runs ~25 commands), so few probes are run.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { collectInventory, crossCheckGpus, fromProbe, INVENTORY_CALLS } from '../../src/observe/inventory.js';
import { connectInMemory } from '../helpers/runtime.js';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

const cpuinfo = (field: string) => new RegExp(`^${field}\\s*:\\s*(.*)$`, 'm').exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];

describe('system_snapshot on this machine', async () => {
  const { call } = await connectInMemory();
  type Snapshot = {
    cpu: { model: string; vendor: string | null; flags: string[]; cache_kib: { l1d: number | null } | null; threads: number };
    os: { distro: string | null; arch: string | null };
    network: { name: string; mtu: number | null; virtual: boolean }[];
    disks: { name: string; medium: string | null; size_gib: number }[];
    inventory: { library: string; processes_started: number; duration_ms: number; calls: { call: string; processes: number; error: string | null }[] };
    missing: string[];
  };
  const first = (await call('system_snapshot', { top: 0 })).structuredContent as Snapshot;

  it('reads the CPU, OS, network and disks through systeminformation, agreeing with the kernel', () => {
    expect(first.inventory.library).toMatch(/^systeminformation 5\./);
    expect(first.cpu.model).toBe(cpuinfo('model name'));
    expect(first.cpu.vendor).toMatch(/AMD|Intel|ARM|[A-Za-z]/);
    // every flag the kernel reports for CPU 0 is in the list
    for (const flag of (cpuinfo('flags') ?? '').split(' ').slice(0, 20)) expect(first.cpu.flags).toContain(flag);
    expect(first.cpu.cache_kib?.l1d).toBeGreaterThan(0);
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    expect(osRelease).toContain(first.os.distro!);
    const nic = first.network.find((i) => !i.virtual && i.name !== 'lo')!;
    expect(nic.mtu).toBe(Number(readFileSync(`/sys/class/net/${nic.name}/mtu`, 'utf8')));
    const disk = first.disks[0];
    const rotational = readFileSync(`/sys/block/${disk.name}/queue/rotational`, 'utf8').trim();
    expect(disk.medium).toBe(rotational === '1' ? 'HDD' : disk.medium === 'NVMe' ? 'NVMe' : 'SSD');
    expect(disk.size_gib).toBeCloseTo((Number(readFileSync(`/sys/block/${disk.name}/size`, 'utf8')) * 512) / 2 ** 30, 0);
  });

  it('counts the processes systeminformation started, per call', () => {
    expect(first.inventory.calls.map((c) => c.call)).toEqual([...INVENTORY_CALLS]);
    expect(first.inventory.calls.find((c) => c.call === 'cpu')!.processes).toBeGreaterThan(0);
    expect(first.inventory.processes_started).toBe(first.inventory.calls.reduce((sum, c) => sum + c.processes, 0));
  });

  it('probes once per server: a second snapshot reuses the inventory', async () => {
    const second = (await call('system_snapshot', { top: 0 })).structuredContent as Snapshot;
    expect(second.inventory).toEqual(first.inventory);
  });
});

describe('inventory bounds', () => {
  it('kills a hanging command after its timeout, and what a command left behind dies with the probe', async () => {
    const bin = tempDir();
    const marker = `tuneloop-inventory-${process.pid}`;
    // lscpu hangs; lsblk leaves a background child behind and exits.
    writeFileSync(join(bin, 'lscpu'), `#!/bin/sh\nexec sleep 300 # ${marker}-hang\n`);
    writeFileSync(join(bin, 'lsblk'), `#!/bin/sh\nsh -c 'sleep 300 # ${marker}-left' &\nexit 0\n`);
    chmodSync(join(bin, 'lscpu'), 0o755);
    chmodSync(join(bin, 'lsblk'), 0o755);
    const config = loadConfig({}, { PATH: `${bin}:${process.env.PATH}`, TUNELOOP_HOME: tempDir() });
    const started = Date.now();
    const inventory = await collectInventory(config, { commandTimeoutMs: 500, callDeadlineMs: 3000, probeTimeoutMs: 20_000 });
    // cpu() gave up on lscpu at its timeout and answered without it (no flags, no caches from lscpu)
    const cpu = inventory.source.calls.find((c) => c.call === 'cpu')!;
    expect(cpu.error).toBeNull();
    expect(inventory.cpu!.flags).toEqual([]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(inventory.source.calls.find((c) => c.call === 'blockDevices')!.processes).toBeGreaterThan(0);
    expect(await waitFor(() => pidsMatching(marker).length === 0, 5000)).toBe(true);
  });

  it('a call past its deadline is reported, and the probe still answers', async () => {
    const bin = tempDir();
    // a command that ignores the per-command timeout cannot exist (SIGKILL), so make the deadline shorter than it
    writeFileSync(join(bin, 'lscpu'), '#!/bin/sh\nexec sleep 300\n');
    chmodSync(join(bin, 'lscpu'), 0o755);
    const config = loadConfig({}, { PATH: `${bin}:${process.env.PATH}`, TUNELOOP_HOME: tempDir() });
    const inventory = await collectInventory(config, { commandTimeoutMs: 5000, callDeadlineMs: 300, probeTimeoutMs: 20_000 });
    expect(inventory.source.calls.find((c) => c.call === 'cpu')!.error).toBe('no answer within 300 ms');
    expect(inventory.cpu).toBeNull();
    expect(inventory.os).not.toBeNull(); // later calls still ran
  });
});

describe('mapping systeminformation answers to plain fields', () => {
  // Shapes as systeminformation 5.33 returns them (lib/index.d.ts); values from a dual-socket server's dmidecode.
  const answer = {
    version: '5.33.26',
    calls: {
      memLayout: {
        ms: 10,
        commands: ['dmidecode -t memory'],
        value: [
          ...Array.from({ length: 16 }, (_, i) => ({ size: 64 * 2 ** 30, bank: `P0_Node0_Channel${i}_Dimm0`, type: 'DDR5', ecc: true, clockSpeed: 4800, formFactor: 'DIMM' })),
          { size: 0, bank: 'P0_Node0_Channel0_Dimm1', type: 'Empty', ecc: null, clockSpeed: 0, formFactor: 'DIMM' },
        ],
      },
      networkInterfaces: {
        ms: 5,
        commands: ['ip a'],
        value: [{ iface: 'ens1f0', type: 'wired', speed: 100000, mtu: 9000, operstate: 'up', default: true, virtual: false, internal: false }, { iface: 'eth0', type: 'wired', speed: -1, mtu: 1500, operstate: 'up', default: false, virtual: false, internal: false }],
      },
      blockDevices: {
        ms: 5,
        commands: ['lsblk'],
        value: [
          { name: 'nvme0n1', type: 'disk', size: 3.84e12, physical: 'SSD', protocol: 'nvme', model: 'SAMSUNG MZQL23T8HCLS', removable: false },
          { name: 'nvme0n1p1', type: 'part', size: 1e9, physical: 'SSD', protocol: 'nvme', model: '', removable: false },
          { name: 'zram0', type: 'disk', size: 0, physical: 'SSD', protocol: '', model: '', removable: false },
        ],
      },
    },
  };
  const inventory = fromProbe(answer);

  it('groups identical modules and leaves out empty slots', () => {
    expect(inventory.memory_modules).toEqual([{ count: 16, size_mib: 65536, type: 'DDR5', clock_mhz: 4800, form_factor: 'DIMM', ecc: true }]);
  });

  it("treats systeminformation's made-up module (no dmidecode answer) as no answer", () => {
    const made = fromProbe({ version: '5', calls: { memLayout: { ms: 1, commands: [], value: [{ size: 2 ** 34, bank: '', type: '', ecc: null, clockSpeed: 0, formFactor: '' }] } } });
    expect(made.memory_modules).toBeNull();
  });

  it('turns unknown link speeds into null and keeps disks only', () => {
    expect(inventory.network!.map((i) => i.speed_mbps)).toEqual([100000, null]);
    expect(inventory.disks).toEqual([{ name: 'nvme0n1', medium: 'NVMe', transport: 'nvme', size_gib: 3576.3, model: 'SAMSUNG MZQL23T8HCLS', removable: false }]);
  });

  it('reports calls that did not run', () => {
    expect(inventory.cpu).toBeNull();
    expect(inventory.source.calls.find((c) => c.call === 'cpu')).toEqual({ call: 'cpu', ms: 0, processes: 0, error: 'not run' });
    expect(inventory.source.processes_started).toBe(3);
  });

  it('cross-checks nvidia-smi against the PCI bus', () => {
    const bus = [
      { vendor: 'NVIDIA Corporation', model: 'GH100 [H100 SXM5 80GB]', bus: '18:00.0', vram_mib: 81559 },
      { vendor: 'NVIDIA Corporation', model: 'GH100 [H100 SXM5 80GB]', bus: '2a:00.0', vram_mib: 81559 },
      { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', bus: '03:00.0', vram_mib: null },
    ];
    expect(crossCheckGpus(2, bus)).toBe('agree: nvidia-smi and the PCI bus both show 2 NVIDIA GPU(s)');
    expect(crossCheckGpus(1, bus)).toMatch(/^differ: nvidia-smi shows 1 GPU\(s\), the PCI bus 2/);
    expect(crossCheckGpus(null, bus)).toMatch(/PCI bus shows 2 NVIDIA controller\(s\) but nvidia-smi/);
    expect(crossCheckGpus(null, [])).toBeNull();
  });
});
