/**
 * What the host is doing, read from /proc and /sys directly (configurable roots, so tests can use
 * fake trees): topology, meminfo, load, PSI, governors, cgroup limits, sched_ext, RDMA ports, top
 * processes. Anything a host does not expose comes back null with the reason. What the hardware and
 * OS are (CPU caches and flags, memory modules, NICs, disks, PCI GPUs) comes from systeminformation
 * in inventory.ts, which says which source answers what.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { listDir, readNumber, readText, readTrimmed } from '../core/proc.js';

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ is 100 on every mainstream Linux arch. */
const USER_HZ = 100;

export interface Topology {
  /** /proc/cpuinfo's model name: the string recorded runs carry in their context (core/host.ts). */
  model: string | null;
  sockets: number;
  cores: number;
  threads: number;
  smt_active: boolean | null;
  /** Mean of /proc/cpuinfo's "cpu MHz" (what the kernel last saw; also in VMs without cpufreq). */
  current_mhz: number | null;
  numa_nodes: { node: number; cpus: string; mem_total_mib: number | null }[];
}

export function readTopology(config: Config): Topology {
  const cpuinfo = readText(join(config.procRoot, 'cpuinfo')) ?? '';
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string, key: string) => new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
  const model = blocks.length ? (field(blocks[0], 'model name') ?? field(blocks[0], 'Processor') ?? field(blocks[0], 'cpu model') ?? null) : null;
  const packages = new Set<string>();
  const cores = new Set<string>();
  for (const b of blocks) {
    const pkg = field(b, 'physical id') ?? '0';
    packages.add(pkg);
    cores.add(`${pkg}:${field(b, 'core id') ?? field(b, 'processor')}`);
  }
  // sysfs topology is authoritative where /proc/cpuinfo lacks ids (arm64).
  const cpuDir = join(config.sysfsRoot, 'devices', 'system', 'cpu');
  const cpuNames = listDir(cpuDir).filter((n) => /^cpu\d+$/.test(n));
  if (cpuNames.length && !/physical id/.test(cpuinfo)) {
    packages.clear();
    cores.clear();
    for (const c of cpuNames) {
      const pkg = readTrimmed(join(cpuDir, c, 'topology', 'physical_package_id')) ?? '0';
      packages.add(pkg);
      cores.add(`${pkg}:${readTrimmed(join(cpuDir, c, 'topology', 'core_id')) ?? c}`);
    }
  }
  const threads = blocks.length || cpuNames.length;
  const smt = readTrimmed(join(cpuDir, 'smt', 'active'));
  const nodeDir = join(config.sysfsRoot, 'devices', 'system', 'node');
  const numa = listDir(nodeDir)
    .filter((n) => /^node\d+$/.test(n))
    .map((n) => {
      const meminfo = readText(join(nodeDir, n, 'meminfo'));
      const kb = meminfo ? /MemTotal:\s+(\d+)\s*kB/.exec(meminfo)?.[1] : undefined;
      return { node: Number(n.slice(4)), cpus: readTrimmed(join(nodeDir, n, 'cpulist')) ?? '', mem_total_mib: kb ? Math.round(Number(kb) / 1024) : null };
    })
    .sort((a, b) => a.node - b.node);
  return {
    model,
    sockets: packages.size || 1,
    cores: cores.size || threads,
    threads,
    smt_active: smt === null ? (threads > cores.size ? true : null) : smt === '1',
    current_mhz: meanMhz(blocks.map((b) => Number(field(b, 'cpu MHz'))).filter((n) => n > 0)),
    numa_nodes: numa,
  };
}

function meanMhz(values: number[]): number | null {
  return values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null;
}

export interface RdmaPort {
  device: string;
  port: number;
  state: string | null;
  rate: string | null;
  link_layer: string | null;
}

/** InfiniBand/RoCE ports (/sys/class/infiniband): what NCCL's IB transport uses; systeminformation does not read them. */
export function readRdmaPorts(config: Config): RdmaPort[] {
  const root = join(config.sysfsRoot, 'class', 'infiniband');
  return listDir(root).flatMap((device) =>
    listDir(join(root, device, 'ports')).map((port) => {
      const dir = join(root, device, 'ports', port);
      return {
        device,
        port: Number(port),
        // "4: ACTIVE" -> "ACTIVE"
        state: readTrimmed(join(dir, 'state'))?.replace(/^\d+:\s*/, '') ?? null,
        rate: readTrimmed(join(dir, 'rate')),
        link_layer: readTrimmed(join(dir, 'link_layer')),
      };
    }),
  );
}

export function readMeminfo(config: Config): Record<string, number> | null {
  const text = readText(join(config.procRoot, 'meminfo'));
  if (text === null) return null;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s*kB)?$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export interface Psi {
  some: { avg10: number; avg60: number; avg300: number; total_us: number } | null;
  full: { avg10: number; avg60: number; avg300: number; total_us: number } | null;
}

export function readPsi(config: Config): Record<'cpu' | 'memory' | 'io', Psi | null> {
  const parse = (resource: string): Psi | null => {
    const text = readText(join(config.procRoot, 'pressure', resource));
    if (text === null) return null;
    const line = (kind: string) => {
      const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+) total=(\\d+)`, 'm').exec(text);
      return m ? { avg10: Number(m[1]), avg60: Number(m[2]), avg300: Number(m[3]), total_us: Number(m[4]) } : null;
    };
    return { some: line('some'), full: line('full') };
  };
  return { cpu: parse('cpu'), memory: parse('memory'), io: parse('io') };
}

export function readGovernors(config: Config): { governors: Record<string, number>; driver: string | null } | null {
  const cpuDir = join(config.sysfsRoot, 'devices', 'system', 'cpu');
  const governors: Record<string, number> = {};
  for (const c of listDir(cpuDir).filter((n) => /^cpu\d+$/.test(n))) {
    const g = readTrimmed(join(cpuDir, c, 'cpufreq', 'scaling_governor'));
    if (g) governors[g] = (governors[g] ?? 0) + 1;
  }
  if (Object.keys(governors).length === 0) return null;
  return { governors, driver: readTrimmed(join(cpuDir, 'cpu0', 'cpufreq', 'scaling_driver')) };
}

export interface CgroupLimits {
  version: 1 | 2;
  path: string;
  cpu_quota_cores: number | null;
  cpuset: string | null;
  memory_limit_bytes: number | null;
  memory_current_bytes: number | null;
  pids_limit: number | null;
}

/** Limits of the cgroup this server runs in (null fields: unlimited or not exposed). */
export function readCgroup(config: Config): CgroupLimits | null {
  const self = readText(join(config.procRoot, 'self', 'cgroup'));
  const mountinfo = readText(join(config.procRoot, 'self', 'mountinfo'));
  if (self === null || mountinfo === null) return null;
  const mounts = mountinfo.split('\n').map((line) => {
    const [left, right = ''] = line.split(' - ');
    const f = left.split(' ');
    const [fstype, , superOpts = ''] = right.split(' ');
    return { root: f[3], point: f[4], fstype, opts: superOpts.split(',') };
  });
  const memberships = self
    .trim()
    .split('\n')
    .map((l) => {
      const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
      return { controllers: (controllers ?? '').split(',').filter(Boolean), path: path ?? '/' };
    });
  // Mount points are absolute host paths; those under /sys follow sysfsRoot so fake trees work.
  const resolve = (mount: { root: string; point: string }, path: string) => {
    const point = mount.point.startsWith('/sys/') ? join(config.sysfsRoot, mount.point.slice(5)) : mount.point;
    return join(point, mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path);
  };
  const unlimited = (n: number | null) => (n === null || n >= 2 ** 62 ? null : n);

  const v1 = (controller: string) => {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.opts.includes(controller));
    const member = memberships.find((m) => m.controllers.includes(controller));
    return mount && member ? resolve(mount, member.path) : null;
  };
  const memDir = v1('memory');
  if (memDir || v1('cpu')) {
    const cpuDir = v1('cpu');
    const quota = cpuDir ? readNumber(join(cpuDir, 'cpu.cfs_quota_us')) : null;
    const period = cpuDir ? readNumber(join(cpuDir, 'cpu.cfs_period_us')) : null;
    const cpusetDir = v1('cpuset');
    const pidsDir = v1('pids');
    const pids = pidsDir ? readTrimmed(join(pidsDir, 'pids.max')) : null;
    return {
      version: 1,
      path: memberships.find((m) => m.controllers.includes('memory'))?.path ?? '/',
      cpu_quota_cores: quota !== null && period && quota > 0 ? quota / period : null,
      cpuset: cpusetDir ? readTrimmed(join(cpusetDir, 'cpuset.cpus')) : null,
      memory_limit_bytes: memDir ? unlimited(readNumber(join(memDir, 'memory.limit_in_bytes'))) : null,
      memory_current_bytes: memDir ? readNumber(join(memDir, 'memory.usage_in_bytes')) : null,
      pids_limit: pids && pids !== 'max' ? Number(pids) : null,
    };
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const member = memberships.find((m) => m.controllers.length === 0);
  if (!unified || !member) return null;
  const dir = resolve(unified, member.path);
  const cpuMax = readTrimmed(join(dir, 'cpu.max'))?.split(' ');
  const memMax = readTrimmed(join(dir, 'memory.max'));
  const pids = readTrimmed(join(dir, 'pids.max'));
  return {
    version: 2,
    path: member.path,
    cpu_quota_cores: cpuMax && cpuMax[0] !== 'max' ? Number(cpuMax[0]) / Number(cpuMax[1]) : null,
    cpuset: readTrimmed(join(dir, 'cpuset.cpus.effective')),
    memory_limit_bytes: memMax && memMax !== 'max' ? Number(memMax) : null,
    memory_current_bytes: readNumber(join(dir, 'memory.current')),
    pids_limit: pids && pids !== 'max' ? Number(pids) : null,
  };
}

export interface SchedExtState {
  supported: boolean;
  state: string | null;
  ops: string | null;
  enable_seq: number | null;
}

export function readSchedExtBrief(config: Config): SchedExtState {
  const dir = join(config.sysfsRoot, 'kernel', 'sched_ext');
  const state = readTrimmed(join(dir, 'state'));
  return { supported: state !== null, state, ops: readTrimmed(join(dir, 'root', 'ops')), enable_seq: readNumber(join(dir, 'enable_seq')) };
}

export interface ProcessCpu {
  pid: number;
  comm: string;
  cmdline: string;
  cpu_pct: number;
  rss_mib: number | null;
  state: string;
}

/** Top processes by CPU over a short window: two readings of /proc/<pid>/stat `sampleMs` apart. */
export async function topProcesses(config: Config, limit: number, sampleMs: number): Promise<ProcessCpu[]> {
  const first = readProcTimes(config.procRoot);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, sampleMs));
  const second = readProcTimes(config.procRoot);
  const seconds = (performance.now() - t0) / 1000;
  const rows: { pid: number; comm: string; state: string; pct: number }[] = [];
  for (const [pid, now] of second) {
    const before = first.get(pid);
    if (!before || before.start !== now.start) continue;
    rows.push({ pid, comm: now.comm, state: now.state, pct: ((now.ticks - before.ticks) / USER_HZ / seconds) * 100 });
  }
  rows.sort((a, b) => b.pct - a.pct || a.pid - b.pid);
  return rows.slice(0, limit).map((r) => {
    const status = readText(join(config.procRoot, String(r.pid), 'status'));
    const rss = status ? /VmRSS:\s+(\d+)/.exec(status)?.[1] : undefined;
    const cmdline = (readText(join(config.procRoot, String(r.pid), 'cmdline')) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
    return {
      pid: r.pid,
      comm: r.comm,
      cmdline: cmdline.length > 200 ? `${cmdline.slice(0, 200)}…` : cmdline,
      cpu_pct: Math.round(r.pct * 10) / 10,
      rss_mib: rss ? Math.round(Number(rss) / 102.4) / 10 : null,
      state: r.state,
    };
  });
}

function readProcTimes(procRoot: string): Map<number, { comm: string; state: string; ticks: number; start: string }> {
  const out = new Map<number, { comm: string; state: string; ticks: number; start: string }>();
  for (const name of listDir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(join(procRoot, name, 'stat'));
    if (!stat) continue;
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    // after comm: state(0) ... utime(11) stime(12) ... starttime(19)
    out.set(Number(name), { comm: stat.slice(open + 1, close), state: f[0], ticks: Number(f[11]) + Number(f[12]), start: f[19] });
  }
  return out;
}

export function readLoad(config: Config): { load1: number; load5: number; load15: number; runnable: number; tasks: number } | null {
  const text = readTrimmed(join(config.procRoot, 'loadavg'));
  if (!text) return null;
  const [l1, l5, l15, rt] = text.split(' ');
  const [runnable, tasks] = rt.split('/').map(Number);
  return { load1: Number(l1), load5: Number(l5), load15: Number(l15), runnable, tasks };
}

export function readKernel(config: Config): { release: string | null; version: string | null; hostname: string; uptime_s: number | null } {
  const uptime = readTrimmed(join(config.procRoot, 'uptime'));
  return {
    release: readTrimmed(join(config.procRoot, 'sys', 'kernel', 'osrelease')),
    version: readTrimmed(join(config.procRoot, 'sys', 'kernel', 'version')),
    hostname: hostname(),
    uptime_s: uptime ? Number(uptime.split(' ')[0]) : null,
  };
}
