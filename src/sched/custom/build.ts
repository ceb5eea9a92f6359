/**
 * build_scheduler's job: source -> vmlinux.h -> clang -> static checks -> libbpf's reading ->
 * verification when this host allows it. Work happens in the job's directory; only a build whose
 * verdict is verified or compiled_only replaces `<home>/schedulers/<name>/` (atomically), so a
 * failed rebuild never destroys a working scheduler.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { JobContext } from '../../core/jobs.js';
import type { Runtime } from '../../core/runtime.js';
import { loadCatalog } from '../catalog.js';
import { nativeTool } from '../native.js';
import { saveCustom } from '../store.js';
import { staticChecks, type OpsInfo, type StaticCheck } from './checks.js';
import { compileBpf, type CompileResult } from './compile.js';
import { renderTemplate } from './templates.js';
import { checkWithLibbpf, probeLoader, verify, type LoaderCheck, type LoaderProbe, type VerificationResult } from './verify.js';
import { chooseTarget, compiledAgainst, type CompiledAgainst, type VerifiedIn, type VerifyIn } from './target.js';
import { verifyInVm } from './verify-vm.js';
import { ensureVmlinuxHeader, type VmlinuxHeader } from './vmlinux.js';

export interface BuildInput {
  name: string;
  source?: string;
  template?: string;
  template_params?: Record<string, number>;
  description: string;
  use_cases: string[];
  verify_s: number;
  verify_in: VerifyIn;
}

export interface BuildResult {
  name: string;
  verdict: 'verified' | 'compiled_only' | 'failed';
  reason: string | null;
  source_path: string;
  object_path: string | null;
  template: string | null;
  params: Record<string, number>;
  vmlinux: Omit<VmlinuxHeader, 'dir'> | null;
  compile: CompileResult | null;
  static_checks: StaticCheck[];
  ops: OpsInfo | null;
  loader: (LoaderProbe & { path: string }) | null;
  libbpf_check: LoaderCheck | null;
  verification: VerificationResult | null;
  /** Where the verification ran (null when it did not). */
  verified_in: VerifiedIn | null;
  compiled_against: CompiledAgainst | null;
  custom_name: string | null;
}

export const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_SOURCE = 256 * 1024;

/** Checked before the job starts, so bad input is an immediate error, not a failed job. */
export function validateBuildInput(input: BuildInput): void {
  if (!NAME.test(input.name)) {
    const suggestion = input.name.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '').slice(0, 32) || 'my_sched';
    throw new UserError(`Invalid scheduler name "${input.name}".`, `Use 1-32 characters: lowercase letters, digits and "_", starting with a letter (e.g. "${suggestion}"). It becomes the ops name root/ops shows.`);
  }
  const clash = loadCatalog().schedulers.find((s) => input.name === s.ops_name || input.name.startsWith(`${s.ops_name}_`));
  if (clash) throw new UserError(`The name "${input.name}" would be mistaken for ${clash.name} in root/ops.`, `Choose a name that does not start with "${clash.ops_name}".`);
  if ((input.source === undefined) === (input.template === undefined)) {
    throw new UserError('Pass exactly one of source (BPF C) or template.', 'template: "vtime" or "percpu" with template_params; or source: the full BPF C text including <tuneloop/scx.bpf.h>.');
  }
  if (input.source !== undefined && Buffer.byteLength(input.source) > MAX_SOURCE) throw new UserError(`source is ${Buffer.byteLength(input.source)} bytes; the limit is ${MAX_SOURCE}.`, 'A scheduler is a few hundred lines; split out what does not belong in it.');
  if (input.template_params && !input.template) throw new UserError('template_params needs template.', 'Pass template: "vtime" or "percpu", or put the values in your source.');
}

export async function buildScheduler(runtime: Runtime, job: JobContext, input: BuildInput): Promise<BuildResult> {
  const config = runtime.config;
  const total = 5;
  const dir = join(job.dir, 'build');
  mkdirSync(dir, { recursive: true });
  const sourcePath = join(dir, 'scheduler.bpf.c');
  const objectPath = join(dir, 'scheduler.bpf.o');

  job.progress({ done: 0, total, message: 'writing the source' });
  const rendered = input.template ? renderTemplate(input.template, input.template_params ?? {}, input.name) : { source: input.source!, params: {} };
  writeFileSync(sourcePath, rendered.source);
  const result: BuildResult = {
    name: input.name,
    verdict: 'failed',
    reason: null,
    source_path: sourcePath,
    object_path: null,
    template: input.template ?? null,
    params: rendered.params,
    vmlinux: null,
    compile: null,
    static_checks: [],
    ops: null,
    loader: null,
    libbpf_check: null,
    verification: null,
    verified_in: null,
    compiled_against: null,
    custom_name: null,
  };

  job.progress({ done: 1, total, message: 'vmlinux.h' });
  const vmlinux = await ensureVmlinuxHeader(config, { signal: job.signal, logFile: job.logFile });
  result.vmlinux = { path: vmlinux.path, kernel_release: vmlinux.kernel_release, cached: vmlinux.cached, has_sched_ext: vmlinux.has_sched_ext };

  job.progress({ done: 2, total, message: 'compiling' });
  result.compile = await compileBpf(config, {
    source: sourcePath,
    object: objectPath,
    vmlinux,
    defines: input.template ? {} : { TL_NAME: JSON.stringify(input.name) },
    signal: job.signal,
    logFile: job.logFile,
  });
  if (!result.compile.ok) {
    const first = result.compile.diagnostics.find((d) => d.severity === 'error' || d.severity === 'fatal error');
    result.reason = `clang: ${result.compile.errors} error(s)${first ? `; first: ${first.file}:${first.line}:${first.column}: ${first.message}` : ''}`;
    return result;
  }

  job.progress({ done: 3, total, message: 'reading the object with libbpf; static checks' });
  // The loader reads the object (libbpf + libelf + its BTF); without it nothing can be checked.
  const loaderPath = (await nativeTool(config, 'loader', { logFile: job.logFile, signal: job.signal })).path;
  const probe = await probeLoader(loaderPath);
  result.loader = probe ? { ...probe, path: loaderPath } : null;
  result.libbpf_check = await checkWithLibbpf(loaderPath, objectPath);
  if (result.libbpf_check.error && !result.libbpf_check.open_error) {
    result.reason = result.libbpf_check.error;
    return result;
  }
  const { checks, ops } = staticChecks(result.libbpf_check, input.name);
  result.static_checks = checks;
  result.ops = ops;
  const failed = checks.filter((c) => !c.ok);
  if (failed.length || result.libbpf_check.error) {
    const problems = [...(failed.length ? [`static checks failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`] : []), ...(result.libbpf_check.error ? [result.libbpf_check.error] : [])];
    result.reason = problems.join('; ');
    return result;
  }

  job.progress({ done: 4, total, message: 'verification' });
  const target = await chooseTarget(runtime, input.verify_in, probe);
  result.compiled_against = compiledAgainst(vmlinux);
  if (target.where === 'none') {
    result.verdict = 'compiled_only';
    result.reason = `never loaded: no kernel's verifier has seen this object and it has not run anywhere. Here: ${target.reasons.join('; ')}. ${target.remedy}`;
    result.verification = { ran: false, passed: false, reasons: target.reasons, execution_id: null, attach_ms: null, smoke: null, state_during: null, state_after: null, exit_reason: null, output_tail: [] };
  } else if (target.where === 'host') {
    result.verification = await verify(runtime, job, { name: input.name, object: objectPath, loader: loaderPath, verifyS: input.verify_s });
    result.verified_in = { where: 'host', kernel_release: vmlinux.kernel_release, accel: null, boot_s: null, note: `on this host's kernel ${vmlinux.kernel_release}` };
  } else {
    job.progress({ done: 4, total, message: `verification in a VM (kernel ${target.guest.kernel.release})` });
    const vm = await verifyInVm(runtime, job, target.guest, { object: objectPath, name: input.name, verifyS: input.verify_s });
    result.verification = vm.verification;
    result.verified_in = {
      where: 'vm',
      kernel_release: vm.kernel_release,
      accel: vm.accel,
      boot_s: vm.boot_s,
      note: `in a throwaway VM: Linux ${vm.kernel_release} guest under qemu (${vm.accel.toUpperCase()}) via tuneloop vm; the guest's timings say nothing about this host's performance`,
    };
  }
  if (result.verification.ran) {
    result.verdict = result.verification.passed ? 'verified' : 'failed';
    result.reason = result.verification.passed ? null : `verification failed ${result.verified_in!.note}: ${result.verification.reasons.join('; ')}`;
  }
  if (result.verdict === 'failed') return result;

  const installed = install(config.home, input.name, dir);
  result.source_path = join(installed, 'scheduler.bpf.c');
  result.object_path = join(installed, 'scheduler.bpf.o');
  const now = new Date().toISOString();
  saveCustom(runtime.store, {
    name: input.name,
    description: input.description,
    use_cases: input.use_cases,
    template: input.template ?? null,
    params: rendered.params,
    source_path: result.source_path,
    object_path: result.object_path,
    verdict: result.verdict,
    reason: result.reason,
    kernel: result.verified_in?.kernel_release ?? vmlinux.kernel_release,
    built_at: now,
    verified_at: result.verdict === 'verified' ? now : null,
  });
  if (result.verdict === 'verified') result.custom_name = `custom:${input.name}`;
  job.progress({ done: total, total, message: result.verdict });
  return result;
}

/** Swap the build into `<home>/schedulers/<name>/` with renames, never leaving a half-written dir. */
function install(home: string, name: string, buildDir: string): string {
  const root = join(home, 'schedulers');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const target = join(root, name);
  const incoming = join(root, `.incoming-${name}-${process.pid}`);
  const outgoing = join(root, `.outgoing-${name}-${process.pid}`);
  rmSync(incoming, { recursive: true, force: true });
  cpSync(buildDir, incoming, { recursive: true });
  if (existsSync(target)) renameSync(target, outgoing);
  renameSync(incoming, target);
  rmSync(outgoing, { recursive: true, force: true });
  return target;
}
