/**
 * What the configured interpreter can do, from the same probe `tuneloop doctor` prints (so the
 * doctor and these tools always agree), and the errors that name what to install.
 */
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { probePython, type PythonProbe } from '../core/probe.js';
import type { Runtime } from '../core/runtime.js';

export type Device = 'cpu' | 'cuda';
export type DeviceRequest = 'auto' | Device;

/** Probed once per server while it succeeds; a failed probe is retried (the user may fix it). */
export async function pythonEnvironment(runtime: Runtime): Promise<PythonProbe> {
  const cache = runtime.service('triton.python', () => ({ probe: null as Promise<PythonProbe> | null }));
  cache.probe ??= probePython(runtime.config);
  const probe = await cache.probe;
  if (!probe.ok || probe.yaml === null) cache.probe = null;
  return probe;
}

/** The interpreter runs and has PyYAML (enough for case listing). */
export function requirePython(probe: PythonProbe, config: Config): void {
  if (probe.python === null) {
    throw new UserError(`The Python interpreter for the Triton harness did not run: ${probe.detail}.`, 'Install python3, or set TUNELOOP_PYTHON to an interpreter that has torch (e.g. /usr/bin/python3 with Debian\'s python3-torch).');
  }
  if (probe.yaml === null) {
    throw new UserError(`PyYAML is not installed for ${config.python} (the harness reads case manifests with it).`, 'pip install pyyaml (apt-get install python3-yaml for /usr/bin/python3), or set TUNELOOP_PYTHON.');
  }
}

/** Everything verify and profile need: the interpreter, torch, PyYAML. */
export function requireTorch(probe: PythonProbe, config: Config): void {
  if (probe.python !== null && probe.torch === null) {
    throw new UserError(
      `PyTorch is not installed for ${config.python} (python ${probe.python}), and the Triton tools run everything through it.`,
      `pip install torch for that interpreter (apt-get install python3-torch provides it for Debian's /usr/bin/python3), or set TUNELOOP_PYTHON to an interpreter that has it.`,
    );
  }
  requirePython(probe, config);
}

export function requireTriton(probe: PythonProbe, config: Config, why: string): void {
  if (probe.triton === null) {
    throw new UserError(
      `triton is not installed for ${config.python}, and ${why}.`,
      'pip install triton (Linux x86-64/aarch64; kernels need an NVIDIA or AMD GPU, TRITON_INTERPRET=1 runs them on the CPU, correctness only), or verify a pure-PyTorch candidate.',
    );
  }
}

const NO_CUDA_REMEDY =
  'run tuneloop on a host with an NVIDIA GPU, its driver, and a CUDA build of torch (pip install torch from the CUDA wheel index)';

/** The device a run uses, and the notes that explain a fallback. */
export function resolveDevice(requested: DeviceRequest, preference: string, probe: PythonProbe, interpret: boolean): { device: Device; notes: string[] } {
  if (interpret) {
    if (requested === 'cuda') throw new UserError('interpret mode runs Triton kernels on the CPU; device "cuda" contradicts it.', 'Drop device, or drop interpret.');
    return { device: 'cpu', notes: ['TRITON_INTERPRET=1: kernels run on the CPU through the interpreter; correctness only, no timings.'] };
  }
  if (requested === 'cuda') {
    if (!probe.cuda) throw new UserError(`device "cuda" was requested, but torch ${probe.torch} (${probe.python}) sees no CUDA device.`, `${NO_CUDA_REMEDY}; or pass device "cpu".`);
    return { device: 'cuda', notes: [] };
  }
  if (requested === 'cpu') return { device: 'cpu', notes: ['Running on the CPU as requested: timings are CPU timings.'] };
  if (probe.cuda && preference !== 'cpu') return { device: 'cuda', notes: [] };
  const notes = preference === 'cuda' ? ['This case prefers CUDA, but torch sees no CUDA device: it runs on the CPU, and timings are CPU timings.'] : ['Running on the CPU: timings are CPU timings.'];
  return { device: 'cpu', notes };
}

/** A module-level `import triton` / `from triton... import` (indented imports may be optional). */
export function importsTriton(source: string): boolean {
  return /^(?:import\s+triton\b|from\s+triton(?:\.[\w.]+)?\s+import\b)/m.test(source);
}

/** Refuse what cannot work here before spending a process on it, naming what to install. */
export function requireCandidateRuntime(source: string, device: Device, interpret: boolean, probe: PythonProbe, config: Config): void {
  if (interpret) requireTriton(probe, config, 'interpret mode runs Triton kernels through triton\'s interpreter');
  if (!importsTriton(source)) return;
  requireTriton(probe, config, 'this candidate imports it');
  if (device !== 'cuda' && !interpret && probe.cuda) {
    throw new UserError('This candidate imports triton, whose kernels need CUDA tensors, but the run is on the CPU.', 'Drop device "cpu" (or pass "cuda"), or pass interpret: true for TRITON_INTERPRET=1.');
  }
  if (device !== 'cuda' && !interpret) {
    throw new UserError(
      `This candidate imports triton, whose kernels need a GPU, and torch sees no CUDA device here (${config.python}).`,
      `${NO_CUDA_REMEDY}; or pass interpret: true to check it on the CPU with TRITON_INTERPRET=1 (correctness only, no timings; every shape of the manifest, so give large cases a small_shape).`,
    );
  }
}
