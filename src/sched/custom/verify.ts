/**
 * Verification of a compiled scheduler: attach it with tuneloop's libbpf loader (under the guard,
 * like any scheduler), keep it attached for verify_s while a smoke load runs (CPU-bound threads and
 * wake-up-heavy ping-pong pairs), confirm it stayed enabled, named and not ejected (enable_seq
 * unchanged), detach, confirm disabled. Before that, every reason it cannot run here is collected,
 * so `compiled_only` always says exactly why.
 */
import type { JobContext } from '../../core/jobs.js';
import { errorMessage } from '../../core/errors.js';
import { runCommand, outputTail } from '../../core/exec.js';
import type { Runtime } from '../../core/runtime.js';
import { installedNativeTool, nativeTool } from '../native.js';
import { resolvePrivilege } from '../privilege.js';
import { schedulerRegistry } from '../registry.js';
import { opsMatches, readKernelInfo, readSchedExt, schedExtDir, type SchedExtState } from '../sysfs.js';

export interface LoaderProbe {
  libbpf_build: string;
  libbpf_runtime: string;
  struct_ops_link: boolean;
  kernel_btf: boolean;
  kernel_sched_ext_ops: boolean;
  limitation: string | null;
}

/** The object as tuneloop's loader reads it (`check`: libbpf, libelf and the object's BTF; no kernel). */
export interface LoaderCheck {
  /** libbpf refused to open the object (its words); the ELF and BTF parts are still read. */
  open_error: string | null;
  license: string | null;
  programs: { name: string; section: string; type: string; sleepable: boolean; insns: number }[];
  maps: { name: string; type: string; value_size: number }[];
  /** Every variable of a .struct_ops / .struct_ops.link section, with the members it sets. */
  struct_ops: {
    section: string;
    variable: string;
    type: string;
    size: number;
    members: { name: string; offset: number; program?: string; value?: number; string?: string }[];
  }[];
  /** The struct_ops map libbpf made (null where this libbpf predates .struct_ops.link). */
  struct_ops_map: string | null;
  attachable: boolean;
  limitation: string | null;
  libbpf_notes: string;
  /** Why the object cannot be used: libbpf refused it, or the loader could not read it at all. */
  error: string | null;
}

export interface VerificationResult {
  ran: boolean;
  passed: boolean;
  /** Why it did not run (compiled_only), or why it failed. */
  reasons: string[];
  execution_id: string | null;
  attach_ms: number | null;
  smoke: Record<string, number> | null;
  state_during: SchedExtState | null;
  state_after: SchedExtState | null;
  exit_reason: string | null;
  output_tail: string[];
}

export async function probeLoader(loader: string): Promise<LoaderProbe | null> {
  const r = await runCommand([loader, 'probe'], { timeoutMs: 15_000 });
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as LoaderProbe;
  } catch {
    return null;
  }
}

/** libbpf's reading of the object, without the kernel (runs everywhere, libbpf 1.1 included). */
export async function checkWithLibbpf(loader: string, object: string): Promise<LoaderCheck> {
  const r = await runCommand([loader, 'check', object], { timeoutMs: 30_000 });
  try {
    // libbpf_build is the probe's business (BuildResult.loader).
    const { libbpf_build: _build, ...check } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Omit<LoaderCheck, 'error'> & { libbpf_build: string };
    return { ...check, error: check.open_error ? `libbpf cannot open the object: ${check.open_error}` : null };
  } catch {
    const why = outputTail(r, 5, '\n') || `exit ${r.exitCode}`;
    return { open_error: null, license: null, programs: [], maps: [], struct_ops: [], struct_ops_map: null, attachable: false, limitation: null, libbpf_notes: '', error: `the loader could not read the object: ${why}` };
  }
}

/** Everything that prevents verification on this host right now; empty when it can run. */
export async function verificationBlockers(runtime: Runtime, probe: LoaderProbe | null): Promise<string[]> {
  const config = runtime.config;
  const reasons: string[] = [];
  const state = readSchedExt(config);
  const kernel = readKernelInfo(config);
  if (!state.supported) reasons.push(`this kernel (${kernel.release}) has no sched_ext: ${schedExtDir(config)} is absent; verification needs Linux >= 6.12 with CONFIG_SCHED_CLASS_EXT=y`);
  else if (kernel.preempt_rt) reasons.push(`PREEMPT_RT kernel ${kernel.release}: sched_ext refuses to load schedulers`);
  const privilege = await resolvePrivilege(config);
  if (!privilege.path) reasons.push(`no privileges to load BPF: ${privilege.detail}`);
  else if (privilege.path === 'sudo' && !installedNativeTool(config, 'loader')) reasons.push(`under sudo the loader must be installed root-owned in ${config.schedLibexec} (sudo make -C tools/sched install)`);
  if (probe?.limitation) reasons.push(`the loader cannot attach sched_ext schedulers: ${probe.limitation}`);
  else if (!probe) reasons.push('the loader did not answer its capability probe');
  if (state.supported && (state.state !== 'disabled' || state.ops)) {
    reasons.push(`another scheduler is attached (${state.ops ?? state.state}); verification needs it detached first (stop_scheduler)`);
  }
  return reasons;
}

export async function verify(runtime: Runtime, job: JobContext, options: { name: string; object: string; loader: string; verifyS: number }): Promise<VerificationResult> {
  const config = runtime.config;
  const registry = schedulerRegistry(runtime);
  const result: VerificationResult = { ran: true, passed: false, reasons: [], execution_id: null, attach_ms: null, smoke: null, state_during: null, state_after: null, exit_reason: null, output_tail: [] };
  const smoke = await nativeTool(config, 'smoke', { logFile: job.logFile, signal: job.signal });
  const started = Date.now();
  const { execution } = await registry.attach(
    { name: `custom:${options.name}`, kind: 'custom', binary: options.loader, args: ['run', options.object, options.name], expectedOps: options.name },
    { replace: false, maxDurationS: options.verifyS + 120, attachTimeoutS: 60 },
  );
  result.execution_id = execution.spec.id;
  if (execution.status !== 'running') {
    // The loader's last word on a failed load: the errno and the verifier's (or libbpf's) own error.
    const loaderError = execution
      .outputTail(400)
      .findLast((l) => /tuneloop-loader: (load|attach) failed:/.test(l))
      ?.replace(/^.*tuneloop-loader: /, '');
    result.reasons.push(`it did not attach: ${loaderError ?? execution.exitReason ?? 'see the loader output (verifier log)'}`);
    return finish(result, execution.outputTail(120), execution.exitReason, readSchedExt(config));
  }
  result.attach_ms = (execution.attachedAt ?? Date.now()) - started;
  const seq = readSchedExt(config).enable_seq;
  job.log(`[tuneloop] attached ${options.name}; smoke load for ${options.verifyS}s`);
  const load = await runCommand([smoke.path, String(options.verifyS)], { timeoutMs: (options.verifyS + 60) * 1000, signal: job.signal, logFile: job.logFile });
  try {
    result.smoke = JSON.parse(load.stdout.trim().split('\n').at(-1) ?? '') as Record<string, number>;
  } catch {
    result.reasons.push(`the smoke load failed: ${errorMessage(load.stderr || `exit ${load.exitCode}`)}`);
  }
  const during = readSchedExt(config);
  result.state_during = during;
  const stayed = during.state === 'enabled' && opsMatches(during.ops, options.name) && execution.status === 'running';
  if (stayed && seq !== null && during.enable_seq !== seq) result.reasons.push(`enable_seq moved ${seq} -> ${during.enable_seq}: it was ejected and reloaded during the load`);
  if (result.smoke && result.smoke.pairs > 0 && !(result.smoke.min_pair_bounces > 0)) result.reasons.push('a wake-up pair made no progress: tasks were lost or starved');
  const { stateAfter } = await registry.stop(execution.spec.id, 3000, 'verification');
  if (!stayed) {
    // Stopping waited for the process, so its "EXIT: ..." line (the kernel's reason) is in by now.
    result.reasons.unshift(`it did not stay attached (status ${execution.status}, state ${during.state}, root/ops ${during.ops ?? 'absent'}): ${execution.exitReason ?? 'no exit reason reported'}`);
  }
  if (stateAfter.state !== 'disabled' || stateAfter.ops) result.reasons.push(`after detaching, the state is ${stateAfter.state} with root/ops ${stateAfter.ops ?? 'absent'}`);
  result.passed = result.reasons.length === 0;
  return finish(result, execution.outputTail(60), execution.exitReason, stateAfter);
}

function finish(result: VerificationResult, tail: string[], exitReason: string | null, after: SchedExtState): VerificationResult {
  return { ...result, output_tail: tail, exit_reason: exitReason, state_after: after };
}
