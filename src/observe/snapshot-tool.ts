/**
 * system_snapshot: what the host is (inventory, once per server, through systeminformation) and what
 * it is doing now (direct /proc and /sys reads). inventory.ts says which source answers what.
 */
import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { nvidiaSmiPath, queryGpus } from '../core/nvidia.js';
import { findBinary } from '../core/probe.js';
import type { Config } from '../core/config.js';
import { cachedInventory, crossCheckGpus, type Inventory } from './inventory.js';
import {
  readCgroup,
  readGovernors,
  readKernel,
  readLoad,
  readMeminfo,
  readPsi,
  readRdmaPorts,
  readSchedExtBrief,
  readTopology,
  topProcesses,
} from './system.js';

const psiLine = z.object({ avg10: z.number(), avg60: z.number(), avg300: z.number(), total_us: z.number() }).nullable();
const psi = z.object({ some: psiLine, full: psiLine }).nullable();
const SNAPSHOT_GPU_FIELDS = ['index', 'name', 'pci.bus_id', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw'];
const n = () => z.number().nullable();
const s = () => z.string().nullable();

/** The commands systeminformation needs for a part of the inventory, with the package that has them. */
const INVENTORY_COMMANDS = [
  { command: 'lscpu', part: 'CPU caches, flags and frequency range', install: 'util-linux' },
  { command: 'lspci', part: 'GPU controllers on the PCI bus', install: 'pciutils' },
  { command: 'dmidecode', part: 'memory modules (also needs root)', install: 'dmidecode' },
  { command: 'lsblk', part: 'disks', install: 'util-linux' },
] as const;

export const systemSnapshotTool = defineTool({
  name: 'system_snapshot',
  toolset: 'observe',
  title: 'System snapshot',
  description:
    'A point-in-time picture of this host for tuning decisions. What it is: kernel and OS, virtualization, CPU model, vendor, topology (sockets/cores/threads, SMT, NUMA), ' +
    'frequency, caches and flags, memory and its modules, network interfaces (type, speed, MTU) and RDMA ports, disks (SSD/HDD/NVMe), GPUs from nvidia-smi cross-checked ' +
    'against the PCI bus. What it is doing: load, pressure stall info (PSI), CPU governors, the limits of the cgroup tuneloop runs in, sched_ext state, the top processes ' +
    'by CPU over a short window. The hardware inventory is read once per server. Start here; use system_monitor to watch over time.',
  annotations: READ_ONLY,
  input: z.object({
    top: z.number().int().min(0).max(50).default(10).describe('How many top processes by CPU to list (0: skip).'),
    sample_ms: z.number().int().min(100).max(5000).default(500).describe('Window for measuring per-process CPU.'),
  }),
  output: z.object({
    kernel: z.object({ release: s(), version: s(), hostname: z.string(), uptime_s: n() }),
    os: z.object({ distro: s(), release: s(), codename: s(), arch: s(), uefi: z.boolean().nullable() }).nullable(),
    virtualization: z
      .object({ virtual: z.boolean(), host: s().describe('Hypervisor (KVM, VMware ...).'), system: s().describe('Maker and model of the (virtual) machine.') })
      .nullable(),
    cpu: z.object({
      model: s().describe('/proc/cpuinfo model name, as recorded in run contexts.'),
      vendor: s(),
      family: s(),
      sockets: z.number().int(),
      cores: z.number().int(),
      threads: z.number().int(),
      smt_active: z.boolean().nullable(),
      numa_nodes: z.array(z.object({ node: z.number().int(), cpus: z.string(), mem_total_mib: n() })),
      frequency_mhz: z.object({ base: n(), min: n(), max: n(), current: n() }),
      cache_kib: z.object({ l1d: n(), l1i: n(), l2: n(), l3: n() }).describe('Per instance (L1/L2 per core, L3 per complex).').nullable(),
      flags: z.array(z.string()).describe('CPU feature flags (avx2, avx512f, amx_tile ...).'),
    }),
    memory: z
      .object({
        total_mib: z.number(),
        available_mib: n(),
        swap_total_mib: n(),
        swap_free_mib: n(),
        hugepages_total: n(),
        modules: z
          .array(z.object({ count: z.number().int(), size_mib: z.number(), type: s(), clock_mhz: n(), form_factor: s(), ecc: z.boolean().nullable() }))
          .nullable()
          .describe('Installed modules, identical ones counted together (dmidecode: root only; VMs show one).'),
      })
      .nullable(),
    network: z
      .array(z.object({ name: z.string(), type: s(), speed_mbps: n(), mtu: n(), state: s(), default_route: z.boolean(), virtual: z.boolean() }))
      .nullable(),
    rdma: z
      .array(z.object({ device: z.string(), port: z.number().int(), state: s(), rate: s(), link_layer: s() }))
      .describe('InfiniBand/RoCE ports (/sys/class/infiniband); empty when none.'),
    disks: z
      .array(z.object({ name: z.string(), medium: s().describe('SSD, HDD or NVMe.'), transport: s(), size_gib: z.number(), model: s(), removable: z.boolean() }))
      .nullable(),
    load: z.object({ load1: z.number(), load5: z.number(), load15: z.number(), runnable: z.number(), tasks: z.number() }).nullable(),
    pressure: z.object({ cpu: psi, memory: psi, io: psi }).describe('PSI averages (% of time stalled); null: kernel without PSI.'),
    cpufreq: z.object({ governors: z.record(z.string(), z.number()), driver: s() }).nullable().describe('Governor -> number of CPUs; null: no cpufreq (VMs).'),
    cgroup: z
      .object({
        version: z.union([z.literal(1), z.literal(2)]),
        path: z.string(),
        cpu_quota_cores: n(),
        cpuset: s(),
        memory_limit_bytes: n(),
        memory_current_bytes: n(),
        pids_limit: n(),
      })
      .nullable()
      .describe("Limits of tuneloop's own cgroup (null fields: unlimited)."),
    sched_ext: z.object({ supported: z.boolean(), state: s(), ops: s(), enable_seq: n() }),
    gpus: z
      .object({
        available: z.boolean(),
        error: s(),
        devices: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
        models: z.array(z.string()).describe('Distinct GPU models (nvidia-smi, else the PCI bus).'),
        controllers: z
          .array(z.object({ vendor: s(), model: s(), bus: s(), vram_mib: n() }))
          .nullable()
          .describe('Display/3D controllers on the PCI bus (lspci via systeminformation).'),
        cross_check: s().describe('nvidia-smi against the PCI bus: agree, or how they differ.'),
      })
      .describe('GPUs via nvidia-smi; available=false when it is not installed.'),
    top_processes: z.array(
      z.object({ pid: z.number().int(), comm: z.string(), cmdline: z.string(), cpu_pct: z.number(), rss_mib: n(), state: z.string() }),
    ),
    inventory: z
      .object({
        library: z.string(),
        duration_ms: z.number(),
        processes_started: z.number().int().describe('Commands systeminformation ran (lscpu, lspci, ...), each bounded by a timeout.'),
        calls: z.array(z.object({ call: z.string(), ms: z.number(), processes: z.number().int(), error: s() })),
      })
      .nullable()
      .describe('How the hardware inventory was read (once per server); null when it could not be.'),
    missing: z.array(z.string()).describe('Sources this host does not expose.'),
  }),
  async handler(args, { runtime }) {
    const config = runtime.config;
    const missing: string[] = [];
    const inventoryPromise = inventoryFor(config, () => cachedInventory(runtime), missing);
    const mem = readMeminfo(config);
    if (!mem) missing.push('meminfo');
    const mib = (kb: number | undefined) => (kb === undefined ? null : Math.round(kb / 1024));
    const pressure = readPsi(config);
    if (!pressure.cpu) missing.push('PSI (/proc/pressure): kernel without CONFIG_PSI or booted with psi=0');
    const cpufreq = readGovernors(config);
    if (!cpufreq) missing.push('cpufreq: no scaling governors exposed (typical in VMs)');
    const sched = readSchedExtBrief(config);
    if (!sched.supported) missing.push('sched_ext: kernel without CONFIG_SCHED_CLASS_EXT');

    let smi: { available: boolean; error: string | null; devices: Record<string, string | number | null>[] } = { available: false, error: null, devices: [] };
    if (nvidiaSmiPath(config)) {
      try {
        const rows = await queryGpus(config, SNAPSHOT_GPU_FIELDS);
        smi = { available: true, error: null, devices: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, f]) => [k, f.value]))) };
      } catch (error) {
        smi = { available: true, error: errorMessage(error), devices: [] };
      }
    } else missing.push('GPUs: nvidia-smi not installed');

    const topology = readTopology(config);
    const top = args.top > 0 ? await topProcesses(config, args.top, args.sample_ms) : [];
    const inv = await inventoryPromise;
    const controllers = inv?.gpu_controllers ?? null;
    const smiModels = smi.devices.map((d) => d.name).filter((m): m is string => typeof m === 'string');
    const busModels = (controllers ?? []).filter((c) => /nvidia|amd|ati|intel/i.test(c.vendor ?? '') && c.model).map((c) => c.model!);
    return {
      kernel: readKernel(config),
      os: inv?.os ?? null,
      virtualization: inv?.virtualization ?? null,
      cpu: {
        model: topology.model,
        vendor: inv?.cpu?.vendor ?? null,
        family: inv?.cpu?.family ?? null,
        sockets: topology.sockets,
        cores: topology.cores,
        threads: topology.threads,
        smt_active: topology.smt_active,
        numa_nodes: topology.numa_nodes,
        frequency_mhz: { base: null, min: null, max: null, ...inv?.cpu?.frequency_mhz, current: topology.current_mhz },
        cache_kib: inv?.cpu?.cache_kib ?? null,
        flags: inv?.cpu?.flags ?? [],
      },
      memory: mem
        ? {
            total_mib: mib(mem.MemTotal) ?? 0,
            available_mib: mib(mem.MemAvailable),
            swap_total_mib: mib(mem.SwapTotal),
            swap_free_mib: mib(mem.SwapFree),
            hugepages_total: mem.HugePages_Total ?? null,
            modules: inv?.memory_modules ?? null,
          }
        : null,
      network: inv?.network ?? null,
      rdma: readRdmaPorts(config),
      disks: inv?.disks ?? null,
      load: readLoad(config),
      pressure,
      cpufreq,
      cgroup: readCgroup(config),
      sched_ext: sched,
      gpus: {
        ...smi,
        models: [...new Set(smiModels.length ? smiModels : busModels)],
        controllers,
        cross_check: smi.error ? null : crossCheckGpus(smi.available ? smi.devices.length : null, controllers),
      },
      top_processes: top,
      inventory: inv?.source ?? null,
      missing,
    };
  },
  summarize(r) {
    const c = r.cpu;
    const freq = c.frequency_mhz.max ?? c.frequency_mhz.current;
    const lines = [
      `${r.kernel.hostname}: Linux ${r.kernel.release ?? '?'}${r.os?.distro ? ` (${r.os.distro} ${r.os.release ?? ''})`.replace(' )', ')') : ''}${r.virtualization?.virtual ? `, virtual (${r.virtualization.host ?? 'unknown hypervisor'})` : ''}`,
      `CPU: ${c.model ?? 'unknown'}; ${c.sockets} socket(s), ${c.cores} cores, ${c.threads} threads, SMT ${c.smt_active ?? 'unknown'}, ${c.numa_nodes.length || 1} NUMA node(s)${freq ? `, ${freq} MHz` : ''}${c.cache_kib?.l3 ? `, L3 ${c.cache_kib.l3} KiB` : ''}`,
      r.memory ? `Memory: ${r.memory.available_mib} of ${r.memory.total_mib} MiB available` : 'Memory: unreadable',
      r.load ? `Load: ${r.load.load1} ${r.load.load5} ${r.load.load15}` : 'Load: unreadable',
      r.pressure.cpu?.some ? `PSI cpu some avg10 ${r.pressure.cpu.some.avg10}%, memory some ${r.pressure.memory?.some?.avg10 ?? '?'}%, io some ${r.pressure.io?.some?.avg10 ?? '?'}%` : 'PSI: not available',
      `sched_ext: ${r.sched_ext.supported ? `${r.sched_ext.state}${r.sched_ext.ops ? ` (${r.sched_ext.ops})` : ''}` : 'not supported by this kernel'}`,
      `GPUs: ${r.gpus.available ? (r.gpus.error ?? `${r.gpus.devices.length}${r.gpus.models.length ? ` (${r.gpus.models.join(', ')})` : ''}`) : 'none (no nvidia-smi)'}${r.gpus.cross_check?.startsWith('differ') ? `; ${r.gpus.cross_check}` : ''}`,
    ];
    const nics = (r.network ?? []).filter((i) => !i.virtual);
    if (nics.length) lines.push(`Network: ${nics.map((i) => `${i.name} ${i.speed_mbps ? `${i.speed_mbps} Mb/s` : 'speed ?'} MTU ${i.mtu ?? '?'}`).join(', ')}${r.rdma.length ? `; RDMA ${r.rdma.map((p) => `${p.device}/${p.port} ${p.state ?? '?'} ${p.rate ?? ''}`.trim()).join(', ')}` : ''}`);
    if (r.top_processes.length) lines.push(`Top CPU: ${r.top_processes.slice(0, 5).map((p) => `${p.comm}(${p.pid}) ${p.cpu_pct}%`).join(', ')}`);
    return lines.join('\n');
  },
});

/**
 * The inventory, or null with the reason in `missing`. systeminformation reads the real host: with
 * TUNELOOP_PROC_ROOT/SYSFS_ROOT pointing at another tree, its answer would describe a different
 * machine than the rest of the snapshot, so it is left out.
 */
async function inventoryFor(config: Config, load: () => Promise<Inventory>, missing: string[]): Promise<Inventory | null> {
  if (config.procRoot !== '/proc' || config.sysfsRoot !== '/sys') {
    missing.push('inventory: systeminformation reads the real /proc and /sys, and TUNELOOP_PROC_ROOT/TUNELOOP_SYSFS_ROOT point elsewhere');
    return null;
  }
  for (const c of INVENTORY_COMMANDS) {
    if (!findBinary(c.command, config.binPath)) missing.push(`${c.part}: ${c.command} not installed (apt-get install ${c.install})`);
  }
  try {
    const inventory = await load();
    for (const call of inventory.source.calls) if (call.error) missing.push(`inventory ${call.call}(): ${call.error}`);
    if (inventory.memory_modules === null && findBinary('dmidecode', config.binPath)) {
      missing.push('memory modules: dmidecode read none (it needs root and the DMI tables, which VMs and containers often lack)');
    }
    // Without lspci the controller list is empty because unread, not because there are none.
    return { ...inventory, gpu_controllers: findBinary('lspci', config.binPath) ? inventory.gpu_controllers : null };
  } catch (error) {
    missing.push(`inventory: ${errorMessage(error)}`);
    return null;
  }
}
