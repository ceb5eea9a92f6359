/** doctor's row for `tuneloop vm`: can build_scheduler verify in a sched_ext guest here? */
import type { Config } from '../core/config.js';
import type { ProbeResult } from '../core/probe.js';
import { findGuest } from './kernel.js';
import { guestRunBlocker, missingVmPackages } from './prerequisites.js';

export async function probeGuest(config: Config): Promise<ProbeResult> {
  const name = 'sched_ext guest (tuneloop vm)';
  const missing = missingVmPackages(config);
  const blocker = guestRunBlocker(config);
  if (blocker) return { name, ok: false, detail: blocker, remedy: missing.length ? `apt-get install ${missing.join(' ')}` : undefined };
  const guest = await findGuest(config);
  if (!guest) {
    return { name, ok: false, detail: `no guest kernel built in ${config.vmCache}`, remedy: `tuneloop vm build${missing.length ? ` (after apt-get install ${missing.join(' ')})` : ''}` };
  }
  return { name, ok: true, detail: `Linux ${guest.kernel.release} (${guest.kernel.source_version}), libbpf ${guest.tools.libbpf_version} tools, in ${guest.kernel.dir}` };
}
