/**
 * Static checks on a compiled scheduler object, before anything touches the kernel:
 * - the ops struct sits in `.struct_ops.link` (a link detaches when its loader dies; the legacy
 *   `.struct_ops` registration would outlive it), as one named variable of type sched_ext_ops;
 * - its `.name` is the scheduler's name (what root/ops will show) and a valid BPF object name;
 * - the license is GPL-compatible (the sched_ext kfuncs are GPL-only);
 * - every callback points at a struct_ops program, sleepable only where the kernel allows it.
 * The object is read by tuneloop's loader (`check`: libbpf opens it, libelf and the object's BTF
 * give the struct_ops layout), not by a reader of our own: the tools that load it define it.
 */
import type { LoaderCheck } from './verify.js';

export interface StaticCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface OpsInfo {
  variable: string;
  name: string | null;
  callbacks: { member: string; program: string; sleepable: boolean }[];
}

/** Kernel licenses that count as GPL-compatible (include/linux/license.h). */
const GPL_COMPATIBLE = ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'];
/** Callbacks the kernel lets be sleepable (bpf_scx_check_member). */
const MAY_SLEEP = new Set(['init_task', 'init', 'exit', 'cgroup_init', 'cgroup_exit', 'cgroup_prep_move', 'cpu_online', 'cpu_offline']);
export const OPS_NAME = /^[A-Za-z0-9_.]{1,127}$/;

export function staticChecks(object: LoaderCheck, expectedName: string): { checks: StaticCheck[]; ops: OpsInfo | null } {
  const checks: StaticCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const license = object.license;
  add(
    'gpl_license',
    license !== null && GPL_COMPATIBLE.includes(license),
    license === null ? 'no "license" section: add char _license[] SEC("license") = "GPL";' : GPL_COMPATIBLE.includes(license) ? `license "${license}"` : `license "${license}" is not GPL-compatible; sched_ext kfuncs are GPL-only`,
  );

  const linked = object.struct_ops.filter((v) => v.section === '.struct_ops.link');
  if (!linked.length) {
    const legacy = object.struct_ops.some((v) => v.section === '.struct_ops');
    add(
      'struct_ops_link',
      false,
      legacy
        ? 'the ops struct is in ".struct_ops": that registration outlives its loader; put it in SEC(".struct_ops.link") (TL_OPS_SECTION)'
        : 'no ".struct_ops.link" section: declare the ops struct with SEC(".struct_ops.link") (TL_OPS_SECTION)',
    );
    return { checks, ops: null };
  }
  add('struct_ops_link', linked.length === 1, linked.length === 1 ? `ops variable "${linked[0].variable}" in .struct_ops.link` : `expected one ops variable in .struct_ops.link, found ${linked.length} (${linked.map((v) => v.variable).join(', ')})`);
  if (linked.length !== 1) return { checks, ops: null };
  const ops = linked[0];
  const isSchedExt = ops.type === 'sched_ext_ops';
  add('ops_type', isSchedExt, isSchedExt ? 'struct sched_ext_ops' : `the ops variable is a ${ops.type ? `"${ops.type}"` : 'type without BTF (compile with -g)'}, not struct sched_ext_ops`);
  if (!isSchedExt) return { checks, ops: null };

  const name = ops.members.find((m) => m.name === 'name')?.string ?? null;
  add(
    'ops_name',
    name === expectedName && OPS_NAME.test(name),
    name === null ? 'sched_ext_ops has no "name" member' : name === expectedName ? `.name = "${name}"` : !name ? `.name is empty; set .name = "${expectedName}"` : `.name = "${name}" but the scheduler is called "${expectedName}": they must match (root/ops shows .name)`,
  );

  const programs = new Map(object.programs.map((p) => [p.name, p]));
  const callbacks = ops.members
    .filter((m) => m.program !== undefined)
    .map((m) => {
      const section = programs.get(m.program!)?.section ?? '';
      // libbpf 1.1 does not know "struct_ops.s/": the section name is what makes it sleepable.
      return { member: m.name, program: m.program!, sleepable: section.startsWith('struct_ops.s/') || programs.get(m.program!)?.sleepable === true, section };
    });
  const notStructOps = callbacks.filter((c) => !/^struct_ops(\.s)?\//.test(c.section));
  const badSleep = callbacks.filter((c) => c.sleepable && !MAY_SLEEP.has(c.member));
  add(
    'callbacks',
    callbacks.length > 0 && notStructOps.length === 0 && badSleep.length === 0,
    callbacks.length === 0
      ? 'the ops struct sets no callbacks'
      : notStructOps.length
        ? `callbacks not in a struct_ops program section: ${notStructOps.map((c) => `${c.member} -> ${c.program} (${c.section || 'unknown'})`).join(', ')}; define them with TL_OPS()`
        : badSleep.length
          ? `only ${[...MAY_SLEEP].join('/')} may be sleepable; ${badSleep.map((c) => c.member).join(', ')} use struct_ops.s`
          : callbacks.map((c) => `${c.member} -> ${c.program}${c.sleepable ? ' (sleepable)' : ''}`).join(', '),
  );
  const exitInfo = object.maps.some((m) => m.name.endsWith('.data.uei'));
  add('exit_info', true, exitInfo ? 'records its exit reason (TL_EXIT_INFO_*): the loader prints "EXIT: ..."' : 'warning: no TL_EXIT_INFO_DEFINE/RECORD, so no exit reason will be reported');
  return { checks, ops: { variable: ops.variable, name, callbacks: callbacks.map(({ member, program, sleepable }) => ({ member, program, sleepable })) } };
}
