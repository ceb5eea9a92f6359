/**
 * The qemu command line for the guest, and the choice between KVM and TCG.
 *
 * Machine: qemu's `microvm` with ACPI off (both vCPUs come up without ACPI tables; no PCI, no
 * firmware tables to build), virtio-mmio 9p devices that qemu announces on the kernel command line,
 * the serial console on qemu's stdout. `reboot=t` makes the guest's reboot a triple fault, which
 * `-no-reboot` turns into qemu exiting: that is how the guest powers off.
 *
 * KVM: some hosts have a /dev/kvm that cannot run a normal guest (a paravirtual KVM that runs only
 * patched guests: the guest hangs in firmware). So KVM is used only after a short probe boot under
 * it has actually run a command; the verdict is remembered per host boot and kernel.
 */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { runCommand } from '../core/exec.js';
import { TSC_KHZ_TOOL } from './guest-tools.js';
import type { Guest } from './kernel.js';
import { vmPaths } from './paths.js';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  accel: Accel;
  detail: string;
}

export interface QemuShare {
  tag: string;
  path: string;
  readonly: boolean;
}

export interface MachineSpec {
  accel: Accel;
  memoryMb: number;
  cpus: number;
  kernel: string;
  initramfs: string;
  shares: QemuShare[];
  /** The host's TSC rate (TCG): the guest cannot calibrate its TSC and would keep time by jiffies. */
  tscKhz: number | null;
}

/** qemu's option syntax doubles a comma inside a value. */
const escape = (value: string) => value.replace(/,/g, ',,');

export function qemuArgv(qemu: string, spec: MachineSpec): string[] {
  const argv = [
    qemu,
    '-M',
    'microvm,acpi=off',
    '-accel',
    spec.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    '-cpu',
    spec.accel === 'kvm' ? 'host' : 'qemu64',
    '-m',
    `${spec.memoryMb}M`,
    '-smp',
    String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initramfs,
    '-append',
    // quiet: the serial console is slow under TCG; mitigations are useless in a throwaway guest.
    ['console=ttyS0 acpi=off reboot=t panic=-1 quiet loglevel=4 mitigations=off', ...(spec.accel === 'tcg' && spec.tscKhz ? [`tsc_early_khz=${spec.tscKhz} tsc=reliable`] : [])].join(' '),
  ];
  for (const share of spec.shares) {
    // multidevs=remap: the host's root spans several filesystems whose inode numbers collide
    // (the roots of /proc and /sys are both inode 1); unmapped, the guest takes them for one file.
    argv.push('-fsdev', `local,id=${share.tag},path=${escape(share.path)},security_model=none,multidevs=remap${share.readonly ? ',readonly=on' : ''}`);
    argv.push('-device', `virtio-9p-device,fsdev=${share.tag},mount_tag=${share.tag}`);
  }
  return argv;
}

/**
 * The host's TSC rate in kHz, measured once per host boot (tools/vm/tsc-khz.c). Under TCG the
 * guest's TSC ticks at this rate; told so (tsc_early_khz) the guest clocks time by the TSC instead
 * of by jiffies, which lag behind real time whenever the host is busy.
 */
export async function hostTscKhz(config: Config, guest: Guest): Promise<number | null> {
  const file = vmPaths(config).tscProbe;
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { boot: string; khz: number };
    if (cached.boot === bootId()) return cached.khz;
  } catch {
    // not measured on this boot
  }
  const r = await runCommand([join(guest.tools.dir, TSC_KHZ_TOOL)], { timeoutMs: 10_000 });
  const khz = Number(r.stdout.trim());
  if (!r.ok || !Number.isInteger(khz) || khz < 100_000) return null;
  writeFileSync(file, `${JSON.stringify({ boot: bootId(), khz })}\n`);
  return khz;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * KVM or TCG. TUNELOOP_VM_ACCEL=kvm|tcg forces one; otherwise KVM only where /dev/kvm opens and a
 * probe boot under KVM (`probe`, run once per host boot and kernel) finished its command.
 */
export async function chooseAccel(config: Config, guest: Guest, probe: () => Promise<boolean>): Promise<AccelChoice> {
  const forced = process.env.TUNELOOP_VM_ACCEL;
  if (forced) {
    if (forced !== 'kvm' && forced !== 'tcg') throw new UserError(`TUNELOOP_VM_ACCEL=${forced} is neither kvm nor tcg.`, 'Unset it to let tuneloop probe, or set kvm or tcg.');
    return { accel: forced, detail: `TUNELOOP_VM_ACCEL=${forced}` };
  }
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', detail: 'TCG: /dev/kvm is absent or not accessible' };
  }
  const file = vmPaths(config).accelProbe;
  const key = `${bootId()} ${guest.kernel.key}`;
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; kvm: boolean };
    if (cached.key === key) return cached.kvm ? { accel: 'kvm', detail: 'KVM (probed on this boot)' } : { accel: 'tcg', detail: 'TCG: /dev/kvm exists but a probe guest did not run under it' };
  } catch {
    // not probed yet
  }
  const kvm = await probe();
  writeFileSync(file, `${JSON.stringify({ key, kvm })}\n`);
  return kvm ? { accel: 'kvm', detail: 'KVM (probe guest ran)' } : { accel: 'tcg', detail: 'TCG: /dev/kvm exists but a probe guest did not run under it' };
}
