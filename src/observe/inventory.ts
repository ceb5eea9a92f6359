/**
 * The host inventory: what the hardware and OS are, read once per server through systeminformation.
 *
 * Which source answers what (system_snapshot):
 * - systeminformation (this module): CPU vendor, family, frequency range, caches and flags (lscpu),
 *   memory modules (dmidecode; root only, VMs show one pseudo-module), OS distribution (os-release),
 *   virtualization (dmidecode, dmesg, sysfs DMI), network interfaces with type, speed and MTU
 *   (sysfs, ip, ethtool), block devices with their medium (lsblk: ROTA, TRAN), GPU controllers on the
 *   PCI bus (lspci; the cross-check of nvidia-smi).
 * - direct /proc and /sys reads (system.ts): CPU model string (/proc/cpuinfo, the same string every
 *   recorded run's context carries, so rules match it), topology, SMT and NUMA, current CPU MHz,
 *   meminfo, load, PSI, schedstat, governors, cgroup limits, sched_ext state, RDMA ports, top
 *   processes; and the 10 Hz monitor path (sampler.ts), which must not start processes.
 * - nvidia-smi (core/nvidia.ts): GPU devices and their state.
 *
 * systeminformation shells out by itself (child_process.exec/execSync, about 30 commands for the
 * calls below), outside src/core/exec.ts. So it never runs in the server: tools/inventory/probe.mjs
 * runs the calls in a child that exec.ts starts, contains and times out, which bounds every command
 * systeminformation starts (each also gets its own SIGKILL timeout inside the probe) and keeps its
 * synchronous execSync calls off the server's event loop. The probe counts the commands per call;
 * the answer reports them. The result is cached for the life of the server (hardware does not change
 * under a running server; a failed probe is retried on the next call).
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { runCommand, outputTail } from '../core/exec.js';
import type { Runtime } from '../core/runtime.js';

const PROBE_PATH = fileURLToPath(new URL('../../tools/inventory/probe.mjs', import.meta.url));

/**
 * The systeminformation calls, in the order the probe runs them, and what each starts on Linux
 * (systeminformation 5.33, counted by the probe on a Debian 12 VM: 29 commands in all):
 * - cpu: lscpu (twice), dmidecode -t 4;
 * - memLayout: dmidecode -t memory, cat /proc/cpuinfo;
 * - osInfo: hostname -f, cat /etc/*-release, echo $LANG, dmesg | grep EFI, which ip, ip link show up,
 *   a machine-id script;
 * - system: dmidecode -t system, a sysfs DMI script, ls /dev/disk/by-id, dmesg | grep hypervisor;
 * - networkInterfaces: ip a, ip route, per interface a sysfs + ethtool/iwconfig script, nmcli;
 * - blockDevices: lsblk;
 * - graphics: lspci -vvv, clinfo, xdpyinfo, xrandr, and nvidia-smi when lspci shows an NVIDIA GPU.
 * Left out on purpose: diskLayout (smartctl per disk, see mapDisks), versions (~40 commands, none of
 * them about tuning), processes and the *Stats calls (the monitor reads /proc itself).
 */
export const INVENTORY_CALLS = ['cpu', 'memLayout', 'osInfo', 'system', 'networkInterfaces', 'blockDevices', 'graphics'] as const;
type CallName = (typeof INVENTORY_CALLS)[number];

export interface InventoryBounds {
  /** Each command systeminformation starts is SIGKILLed after this long. */
  commandTimeoutMs: number;
  /** Each call's answer is dropped after this long. */
  callDeadlineMs: number;
  /** The whole probe, all calls together, is killed (with every process it started) after this long. */
  probeTimeoutMs: number;
}

export const DEFAULT_INVENTORY_BOUNDS: InventoryBounds = { commandTimeoutMs: 4000, callDeadlineMs: 6000, probeTimeoutMs: 20_000 };

export interface Inventory {
  cpu: {
    vendor: string | null;
    family: string | null;
    frequency_mhz: { base: number | null; min: number | null; max: number | null };
    cache_kib: { l1d: number | null; l1i: number | null; l2: number | null; l3: number | null };
    flags: string[];
  } | null;
  memory_modules: { count: number; size_mib: number; type: string | null; clock_mhz: number | null; form_factor: string | null; ecc: boolean | null }[] | null;
  os: { distro: string | null; release: string | null; codename: string | null; arch: string | null; uefi: boolean | null } | null;
  virtualization: { virtual: boolean; host: string | null; system: string | null } | null;
  network: { name: string; type: string | null; speed_mbps: number | null; mtu: number | null; state: string | null; default_route: boolean; virtual: boolean }[] | null;
  disks: { name: string; medium: string | null; transport: string | null; size_gib: number; model: string | null; removable: boolean }[] | null;
  gpu_controllers: { vendor: string | null; model: string | null; bus: string | null; vram_mib: number | null }[] | null;
  source: {
    library: string;
    duration_ms: number;
    /** Processes systeminformation started, all calls together. */
    processes_started: number;
    calls: { call: string; ms: number; processes: number; error: string | null }[];
  };
}

type Raw = Record<string, unknown>;
interface ProbeAnswer {
  version: string;
  calls: Record<string, { ms: number; commands: string[]; value?: unknown; error?: string }>;
}

/** The inventory for this server: probed on first use, then cached; concurrent callers share one probe. */
export function cachedInventory(runtime: Runtime, bounds: InventoryBounds = DEFAULT_INVENTORY_BOUNDS): Promise<Inventory> {
  const cache = runtime.service('observe.inventory', () => ({ pending: null as Promise<Inventory> | null }));
  cache.pending ??= collectInventory(runtime.config, bounds).catch((error: unknown) => {
    cache.pending = null;
    throw error;
  });
  return cache.pending;
}

/** Run the probe once. Throws (an Error with the probe's own words) when it produced no answer at all. */
export async function collectInventory(config: Config, bounds: InventoryBounds = DEFAULT_INVENTORY_BOUNDS): Promise<Inventory> {
  const request = { calls: INVENTORY_CALLS, commandTimeoutMs: bounds.commandTimeoutMs, callDeadlineMs: bounds.callDeadlineMs };
  const r = await runCommand([process.execPath, PROBE_PATH, JSON.stringify(request)], {
    timeoutMs: bounds.probeTimeoutMs,
    killGraceMs: 500,
    // The commands systeminformation runs are found on the configured search path, like every other binary.
    env: { PATH: config.binPath.join(':'), LC_ALL: 'C' },
    maxOutputBytes: 8 << 20,
  });
  if (!r.ok) {
    const why = r.timedOut ? `no answer within ${bounds.probeTimeoutMs} ms` : r.spawnError ?? `exit ${r.exitCode ?? r.signal}: ${outputTail(r, 3)}`;
    throw new Error(`the systeminformation probe failed (${why})`);
  }
  return fromProbe(JSON.parse(r.stdout) as ProbeAnswer);
}

/** Map systeminformation's answers to tuneloop's plain field names; absent or unknown values are null. */
export function fromProbe(answer: ProbeAnswer): Inventory {
  const value = (name: CallName): unknown => answer.calls[name]?.value;
  const calls = INVENTORY_CALLS.map((call) => {
    const c = answer.calls[call];
    return { call, ms: c?.ms ?? 0, processes: c?.commands.length ?? 0, error: c ? (c.error ?? null) : 'not run' };
  });
  return {
    cpu: mapCpu(value('cpu') as Raw | undefined),
    memory_modules: mapMemory(value('memLayout') as Raw[] | undefined),
    os: mapOs(value('osInfo') as Raw | undefined),
    virtualization: mapSystem(value('system') as Raw | undefined),
    network: mapNetwork(value('networkInterfaces') as Raw[] | undefined),
    disks: mapDisks(value('blockDevices') as Raw[] | undefined),
    gpu_controllers: mapGraphics(value('graphics') as Raw | undefined),
    source: {
      library: `systeminformation ${answer.version}`,
      duration_ms: calls.reduce((sum, c) => sum + c.ms, 0),
      processes_started: calls.reduce((sum, c) => sum + c.processes, 0),
      calls,
    },
  };
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
/** systeminformation writes 0, -1 or '' for "unknown". */
const positive = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
const kib = (bytes: unknown): number | null => (positive(bytes) === null ? null : Math.round((bytes as number) / 1024));
const mhz = (ghz: unknown): number | null => (positive(ghz) === null ? null : Math.round((ghz as number) * 1000));

function mapCpu(cpu: Raw | undefined): Inventory['cpu'] {
  if (!cpu) return null;
  const cache = (cpu.cache ?? {}) as Raw;
  return {
    vendor: text(cpu.vendor) ?? text(cpu.manufacturer),
    family: text(cpu.family),
    frequency_mhz: { base: mhz(cpu.speed), min: mhz(cpu.speedMin), max: mhz(cpu.speedMax) },
    cache_kib: { l1d: kib(cache.l1d), l1i: kib(cache.l1i), l2: kib(cache.l2), l3: kib(cache.l3) },
    flags: (text(cpu.flags) ?? '').split(/\s+/).filter(Boolean).sort(),
  };
}

/**
 * Identical modules are counted together: a server's 32 DIMMs are one line. When dmidecode reads
 * nothing (no root, no DMI tables), systeminformation makes up one bank of the total size with no
 * locator and no type: that is no answer, so null.
 */
function mapMemory(banks: Raw[] | undefined): Inventory['memory_modules'] {
  if (!Array.isArray(banks) || banks.every((b) => !text(b.bank) && !text(b.type))) return null;
  const groups = new Map<string, NonNullable<Inventory['memory_modules']>[number]>();
  for (const b of banks) {
    const size = positive(b.size);
    if (size === null) continue; // an empty slot
    const module = {
      size_mib: Math.round(size / 2 ** 20),
      type: text(b.type),
      clock_mhz: positive(b.clockSpeed),
      form_factor: text(b.formFactor),
      ecc: typeof b.ecc === 'boolean' ? b.ecc : null,
    };
    const key = JSON.stringify(module);
    const seen = groups.get(key);
    if (seen) seen.count++;
    else groups.set(key, { count: 1, ...module });
  }
  return [...groups.values()];
}

function mapOs(os: Raw | undefined): Inventory['os'] {
  if (!os) return null;
  return { distro: text(os.distro), release: text(os.release), codename: text(os.codename), arch: text(os.arch), uefi: typeof os.uefi === 'boolean' ? os.uefi : null };
}

function mapSystem(system: Raw | undefined): Inventory['virtualization'] {
  if (!system) return null;
  const model = [text(system.manufacturer), text(system.model)].filter(Boolean).join(' ');
  return { virtual: system.virtual === true, host: text(system.virtualHost), system: model || null };
}

function mapNetwork(interfaces: Raw[] | undefined): Inventory['network'] {
  if (!Array.isArray(interfaces)) return null;
  return interfaces.map((i) => ({
    name: String(i.iface),
    type: text(i.type),
    speed_mbps: positive(i.speed),
    mtu: positive(i.mtu),
    state: text(i.operstate),
    default_route: i.default === true,
    virtual: i.virtual === true || i.internal === true,
  }));
}

/**
 * blockDevices rather than diskLayout: diskLayout leaves out every mounted disk without a model
 * (all virtio disks) and runs smartctl per disk; lsblk's ROTA and TRAN answer the medium in one command.
 */
function mapDisks(devices: Raw[] | undefined): Inventory['disks'] {
  if (!Array.isArray(devices)) return null;
  return devices
    .filter((d) => d.type === 'disk' && positive(d.size) !== null)
    .map((d) => {
      const transport = text(d.protocol);
      return {
        name: String(d.name),
        medium: transport === 'nvme' ? 'NVMe' : text(d.physical),
        transport,
        size_gib: Math.round(((d.size as number) / 2 ** 30) * 10) / 10,
        model: text(d.model),
        removable: d.removable === true,
      };
    });
}

function mapGraphics(graphics: Raw | undefined): Inventory['gpu_controllers'] {
  const controllers = graphics?.controllers;
  if (!Array.isArray(controllers)) return null;
  return (controllers as Raw[]).map((c) => ({
    vendor: text(c.vendor),
    model: text(c.model) ?? text(c.name),
    bus: text(c.pciBus) ?? text(c.busAddress),
    vram_mib: positive(c.vram),
  }));
}

/**
 * nvidia-smi against the PCI bus. A GPU that fell off the bus (Xid 79) or whose driver lost it is
 * still a controller on the bus but missing from nvidia-smi: that difference is worth saying.
 */
export function crossCheckGpus(smiCount: number | null, controllers: Inventory['gpu_controllers']): string | null {
  if (controllers === null) return null;
  const nvidia = controllers.filter((c) => /nvidia/i.test(`${c.vendor ?? ''} ${c.model ?? ''}`)).length;
  if (smiCount === null) return nvidia > 0 ? `the PCI bus shows ${nvidia} NVIDIA controller(s) but nvidia-smi is not installed or failed` : null;
  if (smiCount === nvidia) return `agree: nvidia-smi and the PCI bus both show ${nvidia} NVIDIA GPU(s)`;
  return `differ: nvidia-smi shows ${smiCount} GPU(s), the PCI bus ${nvidia} NVIDIA controller(s); a GPU may have fallen off the bus or lost its driver`;
}
