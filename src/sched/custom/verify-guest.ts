/**
 * The program build_scheduler runs inside a sched_ext guest (verify_in: vm): tuneloop's own
 * verification (verify.ts: attach under the guard, smoke load, stay enabled, detach) against the
 * guest's real kernel, with the static tools built for it, on a fresh data dir in the guest's tmpfs.
 * Prints one JSON line: the guest's kernel release, the loader's probe and the verification.
 *
 *   node verify-guest.js OBJECT NAME VERIFY_S
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../core/config.js';
import { errorMessage } from '../../core/errors.js';
import { MAX_WAIT_S } from '../../core/jobs.js';
import { createRuntime } from '../../core/runtime.js';
import { allMigrations } from '../../migrations.js';
import { nativeTool } from '../native.js';
import { probeLoader, verificationBlockers, verify, type LoaderProbe, type VerificationResult } from './verify.js';

export interface GuestVerification {
  kernel_release: string;
  loader: (LoaderProbe & { path: string }) | null;
  verification: VerificationResult;
}

export async function verifyInGuest(object: string, name: string, verifyS: number): Promise<GuestVerification> {
  const runtime = createRuntime(loadConfig(), allMigrations);
  try {
    const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    const loader = (await nativeTool(runtime.config, 'loader')).path;
    const probe = await probeLoader(loader);
    const blockers = await verificationBlockers(runtime, probe);
    if (blockers.length) {
      const verification: VerificationResult = { ran: false, passed: false, reasons: blockers, execution_id: null, attach_ms: null, smoke: null, state_during: null, state_after: null, exit_reason: null, output_tail: [] };
      return { kernel_release: release, loader: probe && { ...probe, path: loader }, verification };
    }
    const id = runtime.jobs.start('build_scheduler', { object, name }, (job) => verify(runtime, job, { name, object, loader, verifyS }));
    let view = await runtime.jobs.wait(id, MAX_WAIT_S);
    while (view.status === 'running') view = await runtime.jobs.wait(id, MAX_WAIT_S);
    if (view.status !== 'succeeded') throw new Error(view.error ?? `verification ${view.status}`);
    return { kernel_release: release, loader: probe && { ...probe, path: loader }, verification: view.result as unknown as VerificationResult };
  } finally {
    await runtime.shutdown();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [object, name, verifyS] = process.argv.slice(2);
  // Exit as soon as the answer is out: a one-shot program in a VM that powers off after it; timers
  // left by the run (an attach deadline, a watchdog) would otherwise keep the guest up for a minute.
  verifyInGuest(object, name, Number(verifyS)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0)),
    (error: unknown) => process.stderr.write(`tuneloop-guest: ${errorMessage(error)}\n`, () => process.exit(1)),
  );
}
