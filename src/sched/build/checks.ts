/**
 * Static checks on a compiled scheduler object, before anything touches the kernel:
 * - the ops struct sits in `.struct_ops.link` (a link detaches when its loader dies; the legacy
 *   `.struct_ops` registration would outlive it), as one named variable of type sched_ext_ops;
 * - its `.name` is the scheduler's name (what root/ops will show) and a valid BPF object name;
 * - the license is GPL-compatible (the sched_ext kfuncs are GPL-only);
 * - every callback points at a struct_ops program, sleepable only where the kernel allows it.
 */
import { readFileSync } from 'node:fs';
import { BTF_KIND, parseBtf, resolveType, type BtfType } from './btf.js';
import { EM_BPF, ElfFile, STT_FUNC, STT_OBJECT } from './elf.js';

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

export function staticChecks(objectPath: string, expectedName: string): { checks: StaticCheck[]; ops: OpsInfo | null } {
  const checks: StaticCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  let elf: ElfFile;
  try {
    elf = new ElfFile(readFileSync(objectPath));
  } catch (error) {
    add('elf', false, `cannot read ${objectPath}: ${(error as Error).message}`);
    return { checks, ops: null };
  }
  add('bpf_object', elf.machine === EM_BPF, elf.machine === EM_BPF ? 'ELF64 BPF object' : `ELF machine ${elf.machine}, not BPF (${EM_BPF})`);

  const license = elf.section('license');
  const licenseText = license ? elf.bytes(license).toString('latin1').replace(/\0.*$/s, '') : null;
  add(
    'gpl_license',
    licenseText !== null && GPL_COMPATIBLE.includes(licenseText),
    licenseText === null ? 'no "license" section: add char _license[] SEC("license") = "GPL";' : GPL_COMPATIBLE.includes(licenseText) ? `license "${licenseText}"` : `license "${licenseText}" is not GPL-compatible; sched_ext kfuncs are GPL-only`,
  );

  const link = elf.section('.struct_ops.link');
  if (!link) {
    const legacy = elf.section('.struct_ops');
    add(
      'struct_ops_link',
      false,
      legacy
        ? 'the ops struct is in ".struct_ops": that registration outlives its loader; put it in SEC(".struct_ops.link") (TL_OPS_SECTION)'
        : 'no ".struct_ops.link" section: declare the ops struct with SEC(".struct_ops.link") (TL_OPS_SECTION)',
    );
    return { checks, ops: null };
  }
  const vars = elf.symbolsIn(link, STT_OBJECT);
  add('struct_ops_link', vars.length === 1, vars.length === 1 ? `ops variable "${vars[0].name}" in .struct_ops.link` : `expected one ops variable in .struct_ops.link, found ${vars.length} (${vars.map((v) => v.name).join(', ') || 'none'})`);
  if (vars.length !== 1) return { checks, ops: null };
  const variable = vars[0];

  const btfSection = elf.section('.BTF');
  let opsType: BtfType | undefined;
  let types: BtfType[] = [];
  if (btfSection) {
    types = parseBtf(elf.bytes(btfSection));
    const datasec = types.find((t) => t.kind === BTF_KIND.DATASEC && t.name === '.struct_ops.link');
    const v = datasec?.members.map((m) => types[m.type]).find((t) => t?.kind === BTF_KIND.VAR && t.name === variable.name);
    opsType = v ? resolveType(types, v.sizeOrType) : undefined;
  }
  const isSchedExt = opsType?.kind === BTF_KIND.STRUCT && opsType.name === 'sched_ext_ops';
  add('ops_type', isSchedExt, isSchedExt ? 'struct sched_ext_ops' : btfSection ? `the ops variable is a ${opsType ? `"${opsType.name}"` : 'type without BTF'}, not struct sched_ext_ops` : 'no .BTF section: compile with -g');
  if (!isSchedExt) return { checks, ops: null };

  const data = elf.bytes(link).subarray(variable.value, variable.value + variable.size);
  const nameMember = opsType!.members.find((m) => m.name === 'name');
  const name = nameMember ? data.toString('latin1', nameMember.offset / 8, data.indexOf(0, nameMember.offset / 8)) : null;
  add(
    'ops_name',
    name === expectedName && OPS_NAME.test(name),
    name === null ? 'sched_ext_ops has no "name" member' : name === expectedName ? `.name = "${name}"` : !name ? `.name is empty; set .name = "${expectedName}"` : `.name = "${name}" but the scheduler is called "${expectedName}": they must match (root/ops shows .name)`,
  );

  const byOffset = new Map(opsType!.members.map((m) => [m.offset / 8, m.name]));
  const programs = new Map(elf.symbols.filter((s) => s.type === STT_FUNC).map((s) => [s.name, elf.sections[s.shndx]?.name ?? '']));
  const callbacks = elf.relocationsFor(link).map((r) => {
    const program = r.symbol?.name ?? '?';
    const section = programs.get(program) ?? '';
    return { member: byOffset.get(r.offset - variable.value) ?? `+${r.offset - variable.value}`, program, sleepable: section.startsWith('struct_ops.s/'), section };
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
  const exitInfo = elf.section('.data.uei');
  add('exit_info', true, exitInfo ? 'records its exit reason (TL_EXIT_INFO_*): the loader prints "EXIT: ..."' : 'warning: no TL_EXIT_INFO_DEFINE/RECORD, so no exit reason will be reported');
  return { checks, ops: { variable: variable.name, name, callbacks: callbacks.map(({ member, program, sleepable }) => ({ member, program, sleepable })) } };
}
