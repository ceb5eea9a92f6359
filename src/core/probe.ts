/**
 * Capability probes shared by `tuneloop doctor` and by the tools themselves, so the doctor's
 * verdict and a tool's refusal always agree. Each probe answers ok / not ok with the detail seen
 * and, when not ok, the remedy.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, Toolset } from './config.js';
import { UserError } from './errors.js';
import { runCommand, outputTail } from './exec.js';
import { readTrimmed } from './proc.js';
import { configureIsolation, isolationSummary } from './contain.js';
import { findBinary } from './which.js';

export { findBinary };

export interface ProbeResult {
  name: string;
  ok: boolean;
  detail: string;
  remedy?: string;
}

/** Install hints for the binaries tuneloop looks for (Debian/Ubuntu package names). */
export const INSTALL_HINTS: Record<string, string> = {
  clang: 'apt-get install clang llvm',
  bpftool: 'apt-get install bpftool (or linux-tools-$(uname -r) on Ubuntu)',
  'nvidia-smi': 'install the NVIDIA driver (nvidia-smi ships with it); in a container, run with the NVIDIA container toolkit (--gpus all)',
  mpirun: 'apt-get install openmpi-bin',
  'mpiexec.hydra': "apt-get install mpich (MPICH's Hydra mpiexec; a plain mpiexec may be Open MPI's)",
  srun: 'apt-get install slurm-client (and run on a host that belongs to a Slurm cluster)',
  journalctl: 'journalctl comes with systemd; on hosts without it, pass log files instead',
  dmesg: 'apt-get install util-linux (dmesg); or read the kernel log with journal_kernel or from /var/log/kern.log',
  all_reduce_perf:
    'build nccl-tests (git clone https://github.com/NVIDIA/nccl-tests; make -C nccl-tests MPI=1 for mpirun/srun, plain make for one process) and set TUNELOOP_NCCL_TESTS_DIR=<nccl-tests>/build',
  time: 'apt-get install time (GNU time; benchmark_workload reads user/sys CPU and max RSS through it)',
  make: 'apt-get install make',
  sudo: 'apt-get install sudo, install the scheduler guard and add its NOPASSWD rule (see README, "Schedulers (sched_ext)")',
};

/** Where nccl-tests builds usually land, searched after TUNELOOP_NCCL_TESTS_DIR and before PATH. */
export const NCCL_TESTS_WELL_KNOWN_DIRS = ['/opt/nccl-tests/build', '/usr/local/nccl-tests/build', '/opt/nccl_tests/build', '/usr/local/bin/nccl-tests'];

/** The nccl-tests search order: TUNELOOP_NCCL_TESTS_DIR, the well-known build directories, then PATH. */
export function ncclTestsSearchDirs(config: Config): string[] {
  return [...config.ncclTestsDirs, ...NCCL_TESTS_WELL_KNOWN_DIRS, ...config.binPath];
}

/** nccl-tests as run_nccl_tests finds it (all_reduce_perf, or the _mpi build). */
export function probeNcclTests(config: Config): ProbeResult {
  const dirs = ncclTestsSearchDirs(config);
  const path = findBinary('all_reduce_perf', dirs) ?? findBinary('all_reduce_perf_mpi', dirs);
  return path
    ? { name: 'nccl-tests', ok: true, detail: path }
    : { name: 'nccl-tests', ok: false, detail: `all_reduce_perf not found in ${dirs.slice(0, config.ncclTestsDirs.length + NCCL_TESTS_WELL_KNOWN_DIRS.length).join(':')} or PATH`, remedy: INSTALL_HINTS.all_reduce_perf };
}

/** srun present and a Slurm controller answering (sinfo), as launcher=srun needs. */
export async function probeSlurm(config: Config): Promise<ProbeResult> {
  const srun = probeBinary('srun', config);
  const sinfo = findBinary('sinfo', config.binPath);
  if (!srun.ok || !sinfo) return srun.ok ? { ...srun, ok: false, detail: 'srun found but sinfo is missing', remedy: INSTALL_HINTS.srun } : srun;
  const r = await runCommand([sinfo, '-h', '-o', '%P %a %D %T'], { timeoutMs: 10_000 });
  if (!r.ok) {
    return { name: 'srun', ok: false, detail: `srun at ${srun.detail}, but sinfo failed: ${outputTail(r)}`, remedy: 'run on a node of a Slurm cluster (slurm.conf present, slurmctld reachable)' };
  }
  return { name: 'srun', ok: true, detail: `${srun.detail}; partitions: ${r.stdout.trim().split('\n').join('; ') || 'none'}` };
}

/** Like findBinary, but a missing binary is a UserError naming how to install it. */
export function requireBinary(name: string, dirs: readonly string[], why: string): string {
  const path = findBinary(name, dirs);
  if (!path) {
    throw new UserError(`${name} was not found (${why}).`, `${INSTALL_HINTS[name] ?? `install ${name}`}; searched: ${dirs.join(':') || '(empty PATH)'}.`);
  }
  return path;
}

/** dmesg needs the binary and, when kernel.dmesg_restrict=1, root (or CAP_SYSLOG). */
export function probeDmesg(config: Config): ProbeResult {
  const found = probeBinary('dmesg', config);
  if (!found.ok) return found;
  const restricted = readTrimmed(join(config.procRoot, 'sys', 'kernel', 'dmesg_restrict')) === '1';
  if (restricted && process.getuid?.() !== 0) {
    return { name: 'dmesg', ok: false, detail: 'kernel.dmesg_restrict=1 and not root', remedy: 'run as root, sysctl kernel.dmesg_restrict=0, or use journal_kernel (journalctl -k) instead' };
  }
  return found;
}

export function probeBinary(name: string, config: Config): ProbeResult {
  const path = findBinary(name, config.binPath);
  return path
    ? { name, ok: true, detail: path }
    : { name, ok: false, detail: 'not found on PATH', remedy: INSTALL_HINTS[name] ?? `install ${name}` };
}

/** sched_ext support as the kernel exposes it under <sysfs>/kernel/sched_ext. */
export function probeSchedExt(config: Config): ProbeResult {
  const state = readTrimmed(join(config.sysfsRoot, 'kernel', 'sched_ext', 'state'));
  if (state === null) {
    return {
      name: 'sched_ext',
      ok: false,
      detail: `${join(config.sysfsRoot, 'kernel/sched_ext')} is absent: this kernel has no sched_ext`,
      remedy: 'boot a kernel >= 6.12 built with CONFIG_SCHED_CLASS_EXT=y (plus BPF_SYSCALL, BPF_JIT, DEBUG_INFO_BTF)',
    };
  }
  const ops = readTrimmed(join(config.sysfsRoot, 'kernel', 'sched_ext', 'root', 'ops'));
  return { name: 'sched_ext', ok: true, detail: `state=${state}${ops ? `, attached: ${ops}` : ''}` };
}

export function probeBtf(config: Config): ProbeResult {
  const path = join(config.sysfsRoot, 'kernel', 'btf', 'vmlinux');
  try {
    statSync(path);
    return { name: 'kernel BTF', ok: true, detail: path };
  } catch {
    return { name: 'kernel BTF', ok: false, detail: `${path} is absent`, remedy: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y' };
  }
}

/** Root, or passwordless sudo (`sudo -n true`): the only privilege paths tuneloop uses. */
export async function probePrivilege(config: Config): Promise<ProbeResult & { path: 'root' | 'sudo' | null }> {
  if (process.getuid?.() === 0) return { name: 'privileges', ok: true, detail: 'running as root', path: 'root' };
  const sudo = findBinary('sudo', config.binPath);
  if (sudo) {
    const r = await runCommand([sudo, '-n', 'true'], { timeoutMs: 5000 });
    if (r.ok) return { name: 'privileges', ok: true, detail: 'passwordless sudo (sudo -n) works', path: 'sudo' };
  }
  return {
    name: 'privileges',
    ok: false,
    detail: sudo ? 'not root, and sudo -n needs a password' : 'not root, and sudo is not installed',
    remedy: 'run tuneloop as root, or install its scheduler guard (sudo make -C tools/sched install) and grant the NOPASSWD sudoers rule for it (see README, "Schedulers (sched_ext)")',
    path: null,
  };
}

/**
 * The libbpf that tuneloop's scheduler loader links (pkg-config). sched_ext schedulers attach as
 * struct_ops links, which libbpf supports from 1.2; an older one still lets the loader probe and
 * check objects, not attach them.
 */
export async function probeLibbpf(config: Config): Promise<ProbeResult> {
  const name = 'libbpf (loader)';
  if (!findBinary('pkg-config', config.binPath)) return { name, ok: false, detail: 'pkg-config is not installed', remedy: 'apt-get install pkg-config libbpf-dev' };
  const version = await libbpfVersion(config);
  if (!version) return { name, ok: false, detail: 'libbpf development files not found', remedy: 'apt-get install libbpf-dev libelf-dev zlib1g-dev' };
  const [major, minor] = version.split('.').map(Number);
  const links = major > 1 || (major === 1 && minor >= 2);
  return links
    ? { name, ok: true, detail: `libbpf ${version}: struct_ops links supported` }
    : {
        name,
        ok: false,
        detail: `libbpf ${version} predates struct_ops links (1.2): the loader can check objects but not attach them`,
        remedy: 'build libbpf >= 1.2 (e.g. from the kernel tree tools/lib/bpf) and point PKG_CONFIG_PATH at its libbpf.pc',
      };
}

/** The libbpf version pkg-config reports ("1.1.2"), or null without pkg-config or libbpf-dev. */
export async function libbpfVersion(config: Config): Promise<string | null> {
  const pkgConfig = findBinary('pkg-config', config.binPath);
  if (!pkgConfig) return null;
  const r = await runCommand([pkgConfig, '--modversion', 'libbpf'], { timeoutMs: 5000 });
  return r.ok ? r.stdout.trim() : null;
}

export interface PythonProbe extends ProbeResult {
  python: string | null;
  torch: string | null;
  triton: string | null;
  cuda: boolean;
  /** PyYAML's version: the Triton harness reads case manifests with it. */
  yaml: string | null;
}

const PYTHON_PROBE = `import json, sys
out = {"python": sys.version.split()[0], "torch": None, "triton": None, "cuda": False, "yaml": None}
try:
    import yaml
    out["yaml"] = yaml.__version__
except Exception:
    pass
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda"] = bool(torch.cuda.is_available())
except Exception:
    pass
try:
    import triton
    out["triton"] = triton.__version__
except Exception:
    pass
print(json.dumps(out))`;

export async function probePython(config: Config): Promise<PythonProbe> {
  const r = await runCommand([config.python, '-c', PYTHON_PROBE], { timeoutMs: 60_000 });
  const base = { name: 'python + torch', python: null, torch: null, triton: null, cuda: false, yaml: null };
  if (!r.ok) {
    return {
      ...base,
      ok: false,
      detail: r.spawnError ? `${config.python} not found` : `${config.python} failed: ${outputTail(r)}`,
      remedy: 'install python3, or set TUNELOOP_PYTHON to an interpreter that has torch',
    };
  }
  const info = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { python: string; torch: string | null; triton: string | null; cuda: boolean; yaml: string | null };
  const detail = `python ${info.python}, torch ${info.torch ?? 'missing'}, triton ${info.triton ?? 'missing'}, CUDA ${info.cuda ? 'available' : 'unavailable'}`;
  return {
    ...base,
    ...info,
    ok: info.torch !== null,
    detail,
    remedy: info.torch ? undefined : `install PyTorch for ${config.python} (pip install torch, or apt-get install python3-torch), or set TUNELOOP_PYTHON`,
  };
}

/** How children are contained and how untrusted code is sandboxed (contain.ts, sandbox.ts). */
export function probeIsolation(config: Config): { containment: ProbeResult; sandbox: ProbeResult } {
  configureIsolation(config);
  const { containment, sandbox } = isolationSummary();
  return {
    containment: {
      name: `containment: ${containment.mode}`,
      ok: containment.mode !== 'pgroup',
      detail: containment.detail,
      remedy: 'run as root, or in a delegated cgroup v2 (systemd-run --user -p Delegate=yes ...), or install bubblewrap (apt-get install bubblewrap) with unprivileged user namespaces enabled',
    },
    sandbox: {
      name: `sandbox: ${sandbox.isolation}`,
      ok: sandbox.isolation !== 'none',
      detail: sandbox.detail,
      remedy: 'apt-get install bubblewrap (and enable unprivileged user namespaces when not root: sysctl kernel.unprivileged_userns_clone=1)',
    },
  };
}

export interface DoctorRow extends ProbeResult {
  toolset: Toolset;
  /** What works or not because of this probe. */
  enables: string;
}

/** Everything `tuneloop doctor` checks, grouped by the toolset that needs it. */
export async function runDoctor(config: Config): Promise<DoctorRow[]> {
  const { probeGuest } = await import('../vm/probe.js');
  const [privilege, python, slurm, libbpf, guest] = await Promise.all([probePrivilege(config), probePython(config), probeSlurm(config), probeLibbpf(config), probeGuest(config)]);
  const row = (toolset: Toolset, enables: string, r: ProbeResult): DoctorRow => ({ toolset, enables, ...r });
  const store: ProbeResult = { name: 'data dir', ok: true, detail: config.home };
  const isolation = probeIsolation(config);
  return [
    row('jobs', 'every child process dies with its job, timeout or server', isolation.containment),
    row('jobs', 'untrusted code (Triton candidates) sees only what is bound, no network', isolation.sandbox),
    row('history', 'SQLite history, jobs', store),
    row('observe', 'system_snapshot, system_monitor (/proc)', {
      name: 'procfs',
      ok: readTrimmed(join(config.procRoot, 'stat')) !== null,
      detail: config.procRoot,
      remedy: 'mount procfs',
    }),
    row('observe', 'PSI in system_snapshot/monitor', {
      name: 'pressure stall info',
      ok: readTrimmed(join(config.procRoot, 'pressure', 'cpu')) !== null,
      detail: join(config.procRoot, 'pressure'),
      remedy: 'boot with psi=1 (CONFIG_PSI)',
    }),
    row('observe', 'gpu_status, GPU sections of snapshot/monitor', probeBinary('nvidia-smi', config)),
    row('observe', 'diagnose_logs from the journal', probeBinary('journalctl', config)),
    row('observe', 'diagnose_logs from dmesg', probeDmesg(config)),
    row('sched', 'run_scheduler, stop_scheduler, build_scheduler verification', probeSchedExt(config)),
    row('sched', 'loading schedulers', privilege),
    row('sched', 'building the scheduler guard and loader on demand', probeBinary('make', config)),
    row('sched', 'build_scheduler (compile)', probeBinary('clang', config)),
    row('sched', 'build_scheduler (vmlinux.h)', probeBinary('bpftool', config)),
    row('sched', 'build_scheduler (vmlinux.h)', probeBtf(config)),
    row('sched', 'build_scheduler verification (attach custom schedulers)', libbpf),
    row('sched', 'build_scheduler verification without sched_ext here (verify_in vm)', guest),
    row('sched', 'benchmark_workload user/sys CPU and max RSS', probeBinary('time', config)),
    row('nccl', 'run_nccl_tests / nccl_sweep (the nccl-tests binaries)', probeNcclTests(config)),
    row('nccl', 'run_nccl_tests / nccl_sweep on GPUs', probeBinary('nvidia-smi', config)),
    row('nccl', 'run_nccl_tests launcher=mpirun', probeBinary('mpirun', config)),
    row('nccl', 'run_nccl_tests launcher=mpiexec (MPICH Hydra)', probeBinary('mpiexec.hydra', config)),
    row('nccl', 'run_nccl_tests launcher=srun', slurm),
    row('triton', 'triton_verify, triton_profile (torch)', python),
    row('triton', 'triton_cases, case manifests (PyYAML)', {
      name: 'PyYAML',
      ok: python.yaml !== null,
      detail: python.yaml ? `PyYAML ${python.yaml}` : 'not importable',
      remedy: `pip install pyyaml (apt-get install python3-yaml for /usr/bin/python3), or set TUNELOOP_PYTHON`,
    }),
    row('triton', 'Triton kernels (triton package)', {
      name: 'triton',
      ok: python.triton !== null,
      detail: python.triton ? `triton ${python.triton}` : 'not importable',
      remedy: 'pip install triton (needs an NVIDIA/AMD GPU for real kernels; TRITON_INTERPRET=1 runs them on the CPU, correctness only)',
    }),
    row('triton', 'GPU timings in triton_verify', {
      name: 'CUDA',
      ok: python.cuda,
      detail: python.cuda ? 'torch.cuda.is_available()' : 'torch sees no CUDA device',
      remedy: 'run on a host with an NVIDIA GPU and a CUDA build of torch; without it, candidates are checked and timed on CPU',
    }),
  ];
}
