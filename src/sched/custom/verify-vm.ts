/**
 * Verification in a sched_ext guest (build_scheduler verify_in: vm, or auto on a host that cannot
 * verify): boot the guest built by `tuneloop vm build` and run verify-guest.ts there, with the
 * object, tuneloop itself and the static guest tools shared in read-only. The verdict is the
 * guest kernel's (verifier, attach, smoke run, detach); the guest's timings say nothing about
 * this host's performance.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';
import type { JobContext } from '../../core/jobs.js';
import type { Runtime } from '../../core/runtime.js';
import type { Guest } from '../../vm/kernel.js';
import { runInVm, type VmRunResult } from '../../vm/run.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { GuestVerification } from './verify-guest.js';

export interface VmVerification extends GuestVerification {
  accel: VmRunResult['accel'];
  boot_s: number | null;
  duration_ms: number;
}

/** node's argv for verify-guest: the built .js, or the .ts through tsx when running from source (tests). */
function guestEntry(): string[] {
  const self = fileURLToPath(import.meta.url);
  const entry = join(dirname(self), `verify-guest${self.endsWith('.ts') ? '.ts' : '.js'}`);
  return self.endsWith('.ts') ? [process.execPath, '--import', 'tsx', entry] : [process.execPath, entry];
}

/** Boot, attach, smoke, detach: a few seconds of boot plus verify_s plus the attach under TCG. */
const overheadS = 180;

export async function verifyInVm(runtime: Runtime, job: JobContext, guest: Guest, options: { object: string; name: string; verifyS: number }): Promise<VmVerification> {
  job.log(`[tuneloop] verifying in a VM: kernel ${guest.kernel.release} (${guest.kernel.bzImage})`);
  const r = await runInVm(runtime.config, {
    argv: [...guestEntry(), options.object, options.name, String(options.verifyS)],
    cwd: PACKAGE_ROOT,
    env: { TUNELOOP_HOME: '/tmp/tuneloop' },
    timeoutS: options.verifyS + overheadS,
    shares: [dirname(options.object), PACKAGE_ROOT].map((path) => ({ path, writable: false })),
    workDir: join(job.dir, 'vm'),
    signal: job.signal,
    onStderr: (text) => job.log(text),
  });
  job.log(`[tuneloop] guest: ${r.accel_detail}, booted in ${r.boot_s ?? '?'} s, exit ${r.exit_code ?? r.failure}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let parsed: GuestVerification | null = null;
  try {
    parsed = JSON.parse(line) as GuestVerification;
  } catch {
    parsed = null;
  }
  if (r.canceled) throw new UserError('Verification in the VM was canceled.');
  if (!parsed?.verification) {
    const why = r.failure ?? `the verifier program exited ${r.exit_code}: ${r.stderr.trim().split('\n').slice(-5).join(' | ') || 'no output'}`;
    throw new UserError(`Verification in the VM could not run: ${why}.`, `The guest's console and output are in ${join(job.dir, 'vm')}; \`tuneloop vm run -- true\` checks that the guest boots.`);
  }
  return { ...parsed, accel: r.accel, boot_s: r.boot_s, duration_ms: r.duration_ms };
}
