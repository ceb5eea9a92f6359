/**
 * Where build_scheduler verifies an object (verify_in):
 * - host: this host's kernel; a host that cannot (no sched_ext, no privileges, an old loader, a
 *   scheduler attached) is an error that says why and points at vm;
 * - vm: a throwaway sched_ext guest built by `tuneloop vm build` (an error until it is built);
 * - auto: the host when it can, else the guest when one is built, else nowhere: `compiled_only`,
 *   which then says plainly that no kernel has loaded the object.
 */
import { UserError } from '../../core/errors.js';
import type { Runtime } from '../../core/runtime.js';
import { findGuest, requireGuest, type Guest } from '../../vm/kernel.js';
import { guestRunBlocker, requireGuestRunTools } from '../../vm/prerequisites.js';
import { verificationBlockers, type LoaderProbe } from './verify.js';
import type { VmlinuxHeader } from './vmlinux.js';

export const VERIFY_IN = ['auto', 'host', 'vm'] as const;
export type VerifyIn = (typeof VERIFY_IN)[number];

export interface VerifiedIn {
  where: 'host' | 'vm';
  kernel_release: string;
  accel: 'kvm' | 'tcg' | null;
  boot_s: number | null;
  note: string;
}

export interface CompiledAgainst {
  kernel_release: string;
  /** tuneloop's compat types stood in for the sched_ext types this kernel's BTF lacks. */
  compat_types: boolean;
  note: string;
}

export type Target = { where: 'host' } | { where: 'vm'; guest: Guest } | { where: 'none'; reasons: string[]; remedy: string };

const BUILD_A_VM = 'Run `tuneloop vm build` once (about 6-15 minutes on 2 cores; it names any Debian packages it needs): build_scheduler then verifies in a sched_ext guest kernel.';

export function compiledAgainst(vmlinux: Pick<VmlinuxHeader, 'kernel_release' | 'has_sched_ext'>): CompiledAgainst {
  return vmlinux.has_sched_ext
    ? { kernel_release: vmlinux.kernel_release, compat_types: false, note: `compiled against the BTF of kernel ${vmlinux.kernel_release}, which has sched_ext` }
    : {
        kernel_release: vmlinux.kernel_release,
        compat_types: true,
        note: `compiled against this host's BTF (kernel ${vmlinux.kernel_release}, no sched_ext) plus tuneloop's sched_ext compat types (Linux 6.12 ABI, schedulers/include/tuneloop/scx_compat_types.h); libbpf relocates their fields onto the loading kernel's types (CO-RE)`,
      };
}

export async function chooseTarget(runtime: Runtime, verifyIn: VerifyIn, probe: LoaderProbe | null): Promise<Target> {
  const config = runtime.config;
  if (verifyIn === 'vm') {
    requireGuestRunTools(config);
    return { where: 'vm', guest: await requireGuest(config) };
  }
  const blockers = await verificationBlockers(runtime, probe);
  if (!blockers.length) return { where: 'host' };
  if (verifyIn === 'host') {
    throw new UserError(`This host cannot verify the scheduler: ${blockers.join('; ')}.`, 'Use verify_in "vm" (or "auto") to verify it in a sched_ext guest kernel; build that once with `tuneloop vm build`.');
  }
  const runBlocker = guestRunBlocker(config);
  const guest = runBlocker ? null : await findGuest(config);
  if (guest) return { where: 'vm', guest };
  return { where: 'none', reasons: [...blockers, runBlocker ?? `no sched_ext guest kernel is built (cache: ${config.vmCache})`], remedy: runBlocker ? `To verify in a guest instead: ${runBlocker}` : BUILD_A_VM };
}
