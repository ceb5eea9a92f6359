/**
 * Slow: clang compiles BPF, bpftool dumps vmlinux.h and make builds the libbpf loader, for real.
 *
 * build_scheduler for real: vmlinux.h from this machine's BTF with bpftool, clang for the BPF
 * target, both templates and a deliberately broken source; the libbpf loader built with make,
 * reading the objects (static checks) and asked what it can do with the system libbpf. This host
 * has no sched_ext and these tests give it no guest kernel, so the verdict must be compiled_only,
 * saying the object was never loaded. The verification path itself runs against the fake sched_ext
 * host with a fake loader (the guard, the smoke load and the loader's object reading are the real
 * ones). Verification in a real guest kernel: test/vm (npm run test:vm).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/sched/custom/build.js';
import { nativeTool } from '../../src/sched/native.js';
import { schedulerRegistry } from '../../src/sched/registry.js';
import { connectInMemory, testConfig, textOf } from '../helpers/runtime.js';
import { FIXTURES, attachedPerSchedStatus, fakeHost } from './helpers.js';

type JobView = { status: string; error: string | null; result?: BuildResult };
const view = (r: CallToolResult) => r.structuredContent as JobView;
const BROKEN = readFileSync(join(FIXTURES, 'broken.bpf.c'), 'utf8');

/** A failed build is an error result (issue 9 section 4) that still carries the build; others succeed. */
async function build(call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>, args: Record<string, unknown>): Promise<BuildResult> {
  const r = await call('build_scheduler', { verify_s: 1, wait_s: 50, ...args });
  const v = view(r);
  expect(v.result, textOf(r)).toBeDefined();
  const failed = v.result!.verdict === 'failed';
  expect(Boolean(r.isError), textOf(r)).toBe(failed);
  expect(v.status, v.error ?? '').toBe(failed ? 'failed' : 'succeeded');
  return v.result!;
}

describe('on this host (real clang, bpftool, libbpf; no sched_ext)', async () => {
  const { call, server } = await connectInMemory();
  const home = server.runtime.config.home;

  it('compiles the vtime template, passes the static checks, and says exactly why it is compiled_only', async () => {
    const r = await build(call, { name: 'tl_vtime_test', template: 'vtime', description: 'test build' });
    expect(r.compile!.ok).toBe(true);
    expect(r.compile!.errors).toBe(0);
    expect(r.static_checks.every((c) => c.ok), JSON.stringify(r.static_checks)).toBe(true);
    expect(r.ops!.name).toBe('tl_vtime_test');
    expect(r.ops!.callbacks.map((c) => c.member)).toEqual(['select_cpu', 'enqueue', 'dispatch', 'running', 'stopping', 'enable', 'init', 'exit']);
    expect(r.ops!.callbacks.find((c) => c.member === 'init')!.sleepable).toBe(true);
    expect(r.vmlinux!.path.startsWith(join(home, 'cache', 'vmlinux'))).toBe(true);

    expect(r.verdict).toBe('compiled_only');
    expect(r.reason).toMatch(/^never loaded: no kernel's verifier has seen this object/);
    expect(r.reason).toContain('has no sched_ext');
    expect(r.reason).toContain('no sched_ext guest kernel is built');
    expect(r.reason).toContain('tuneloop vm build');
    expect(r.verification!.ran).toBe(false);
    expect(r.verified_in).toBeNull();
    expect(r.compiled_against).toMatchObject({ compat_types: true, note: expect.stringContaining('compat types') });
    // The loader was built for real with the system libbpf, and reports what that libbpf can do.
    expect(existsSync(r.loader!.path)).toBe(true);
    const oldLibbpf = /^(0\.|1\.[01]$)/.test(r.loader!.libbpf_build);
    expect(r.loader!.struct_ops_link).toBe(!oldLibbpf);
    if (oldLibbpf) {
      expect(r.reason).toContain(`built against libbpf ${r.loader!.libbpf_build}, which predates SEC(".struct_ops.link")`);
      expect(r.libbpf_check!.struct_ops_map).toBeNull();
      expect(r.libbpf_check!.libbpf_notes).toContain('skipping unrecognized data section');
    }
    expect(r.libbpf_check!.programs.map((p) => p.name)).toContain('tl_enqueue');
    expect(r.libbpf_check!.license).toBe('GPL');
    expect(r.libbpf_check!.struct_ops).toEqual([
      expect.objectContaining({ section: '.struct_ops.link', variable: 'tl_ops', type: 'sched_ext_ops', members: expect.arrayContaining([{ name: 'name', offset: expect.any(Number), string: 'tl_vtime_test' }]) }),
    ]);

    // Kept in the data dir, but not runnable: only verified schedulers join the list.
    expect(r.object_path).toBe(join(home, 'schedulers', 'tl_vtime_test', 'scheduler.bpf.o'));
    expect(readFileSync(r.source_path, 'utf8')).toContain('#define TL_NAME "tl_vtime_test"');
    const list = (await call('list_schedulers', { name: 'tl_vtime_test' })).structuredContent as { schedulers: unknown[] };
    expect(list.schedulers).toEqual([]);
    const registry = schedulerRegistry(server.runtime);
    await expect(registry.resolve({ scheduler: 'custom:tl_vtime_test', flags: [], allowUnlistedFlags: false })).rejects.toThrow('was built but not verified (compiled_only');
  });

  it('compiles the percpu template with parameters, reusing the cached vmlinux.h', async () => {
    const r = await build(call, { name: 'tl_percpu_test', template: 'percpu', template_params: { SLICE_US: 2000, STEAL: 0 } });
    expect(r.compile!.ok).toBe(true);
    expect(r.vmlinux!.cached).toBe(true);
    expect(r.params).toEqual({ SLICE_US: 2000, STEAL: 0, MAX_CPUS: 512 });
    expect(readFileSync(r.source_path, 'utf8')).toMatch(/#define SLICE_US 2000\n#define STEAL 0\n/);
    expect(r.static_checks.every((c) => c.ok)).toBe(true);
    expect(r.verdict).toBe('compiled_only');
  });

  it('returns the compiler diagnostics of a broken source with line numbers, and keeps nothing', async () => {
    const answer = await call('build_scheduler', { name: 'tl_broken', source: BROKEN, wait_s: 50 });
    expect(answer.isError).toBe(true);
    expect(textOf(answer).split('\n')[0]).toMatch(/^scheduler\.bpf\.c:10:\d+: error: use of undeclared identifier 'SHARED_DQ'/);
    const r = view(answer).result!;
    expect(r.verdict).toBe('failed');
    expect(r.compile!.ok).toBe(false);
    const errors = r.compile!.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ file: 'scheduler.bpf.c', line: 10, message: expect.stringContaining("use of undeclared identifier 'SHARED_DQ'") }),
      expect.objectContaining({ file: 'scheduler.bpf.c', line: 15, message: expect.stringContaining('too many arguments to function call') }),
    ]);
    expect(errors[0].context[0]).toContain('tl_dsq_insert(p, SHARED_DQ');
    expect(r.reason).toContain('scheduler.bpf.c:10:');
    expect(r.object_path).toBeNull();
    expect(existsSync(join(home, 'schedulers', 'tl_broken'))).toBe(false);
  });

  it('fails the static checks of an object whose .name or section is wrong', async () => {
    const wrongName = BROKEN.replace('SHARED_DQ', 'SHARED_DSQ').replace('tl_dsq_move_to_local(SHARED_DSQ, cpu)', 'tl_dsq_move_to_local(SHARED_DSQ)').replace('.name = TL_NAME', '.name = "other"');
    const r = await build(call, { name: 'tl_named', source: wrongName });
    expect(r.compile!.ok).toBe(true);
    expect(r.verdict).toBe('failed');
    expect(r.static_checks.find((c) => c.name === 'ops_name')).toMatchObject({ ok: false, detail: '.name = "other" but the scheduler is called "tl_named": they must match (root/ops shows .name)' });

    const legacy = wrongName.replace('.name = "other"', '.name = TL_NAME').replace('TL_OPS_SECTION', 'SEC(".struct_ops")').replace('"GPL"', '"Proprietary"');
    const l = await build(call, { name: 'tl_legacy', source: legacy });
    expect(l.verdict).toBe('failed');
    expect(l.static_checks.find((c) => c.name === 'gpl_license')).toMatchObject({ ok: false });
    expect(l.static_checks.find((c) => c.name === 'struct_ops_link')!.detail).toContain('outlives its loader');
  });

  it('says why it cannot verify where verify_in names a place that cannot', async () => {
    for (const [verifyIn, message, remedy] of [
      ['host', 'This host cannot verify the scheduler: this kernel', 'verify_in "vm"'],
      ['vm', 'No sched_ext guest kernel is built', 'tuneloop vm build'],
    ]) {
      const r = await call('build_scheduler', { name: 'tl_where', template: 'vtime', verify_in: verifyIn, verify_s: 1, wait_s: 50 });
      const text = r.isError ? textOf(r) : (view(r).error ?? '');
      expect(text).toContain(message);
      expect(text).toContain(remedy);
      expect(existsSync(join(home, 'schedulers', 'tl_where'))).toBe(false);
    }
  });

  it.each([
    [{ name: 'Bad-Name', template: 'vtime' }, 'Invalid scheduler name "Bad-Name"', 'bad_name'],
    [{ name: 'lavd_fast', template: 'vtime' }, 'would be mistaken for scx_lavd', 'lavd'],
    [{ name: 'both', template: 'vtime', source: 'x' }, 'Pass exactly one of source (BPF C) or template', 'template'],
    [{ name: 'neither' }, 'Pass exactly one of source (BPF C) or template', 'template'],
    [{ name: 'params', template: 'vtime', template_params: { SLICE_US: 5 } }, 'SLICE_US=5 must be an integer from 100 to 100000', 'SLICE_US'],
    [{ name: 'cpus', template: 'percpu', template_params: { MAX_CPUS: 4096 } }, 'MAX_CPUS=4096 must be an integer from 1 to 2048', 'verifier'],
  ])('refuses %j', async (args, message, remedy) => {
    const r = await call('build_scheduler', { wait_s: 50, ...args });
    const text = r.isError ? textOf(r) : (view(r).error ?? '');
    expect(text).toContain(message);
    expect(text).toContain(remedy);
  });
});

describe('verification on a (fake) sched_ext host', async () => {
  const host = fakeHost();
  // The fake loader attaches through the fake scheduler, but reads objects with the real loader.
  process.env.TUNELOOP_FAKE_CHECK_WITH = (await nativeTool(testConfig(), 'loader')).path;
  const { call } = await connectInMemory({ ...host.env, TUNELOOP_SCHED_LIBEXEC: join(FIXTURES, 'libexec') });

  it('attaches it under load, confirms it stayed enabled, detaches, and makes it runnable as custom:<name>', async () => {
    const r = await build(call, { name: 'tl_fast', template: 'vtime', template_params: { SLICE_US: 2000 }, description: 'short slices', use_cases: ['interactive'] });
    expect(r.verdict, r.reason ?? '').toBe('verified');
    expect(r.custom_name).toBe('custom:tl_fast');
    expect(r.verification!.state_during).toMatchObject({ state: 'enabled', ops: 'tl_fast' });
    expect(r.verification!.state_after).toMatchObject({ state: 'disabled', ops: null });
    expect(r.verification!.smoke!.wakeups).toBeGreaterThan(0);
    expect(r.verification!.smoke!.min_pair_bounces).toBeGreaterThan(0);
    expect(host.read('state')).toBe('disabled');

    const list = (await call('list_schedulers', { use_case: 'interactive' })).structuredContent as { schedulers: { name: string; kind: string }[] };
    expect(list.schedulers.find((s) => s.name === 'custom:tl_fast')).toMatchObject({ kind: 'custom' });

    const run = await call('run_scheduler', { scheduler: 'custom:tl_fast' });
    const e = (run.structuredContent as { execution: { id: string; status: string; kind: string } }).execution;
    expect(e).toMatchObject({ status: 'running', kind: 'custom' });
    expect(host.read('root/ops')).toBe('tl_fast');
    const stopped = (await call('stop_scheduler', { execution_id: e.id })).structuredContent as { disabled: boolean };
    expect(stopped.disabled).toBe(true);
  });

  it('fails verification when the scheduler is ejected under load, with the kernel\'s reason', async () => {
    const reason = 'runnable task stall (kworker/1:2[4242] failed to run for 30.512s)';
    const [r, ejected] = await Promise.all([build(call, { name: 'tl_ejected', template: 'percpu', verify_s: 3 }), host.ejectWhen(attachedPerSchedStatus(call), reason)]);
    expect(ejected).toBe(true);
    expect(r.verdict).toBe('failed');
    expect(r.reason).toContain('did not stay attached');
    expect(r.reason, JSON.stringify(r.verification, null, 1)).toContain('runnable task stall');
    expect(r.object_path).toBeNull();
    expect(host.read('state')).toBe('disabled');
  });
});
