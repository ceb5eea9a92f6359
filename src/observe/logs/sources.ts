/**
 * Log lines from commands: journalctl and dmesg, run through core/exec (timeouts, process groups)
 * with only a small output buffer kept, since the lines are consumed as they arrive. They run on
 * the main thread (children belong to it) and stream into the analysis worker; files are read by
 * the worker itself (files.ts).
 */
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runCommand, outputTail } from '../../core/exec.js';
import { requireBinary } from '../../core/probe.js';

export type LineSink = (line: string) => void;

export interface CommandOutcome {
  /** Bytes of output consumed. */
  bytes: number;
  notes: string[];
  timedOut: boolean;
}

const COMMAND_TIMEOUT_MS = 60_000;

export interface JournalQuery {
  kernel: boolean;
  units: string[];
  since?: string;
  until?: string;
  boot?: string;
  maxLines: number;
}

/** `journalctl -o short-iso`: the kernel ring (-k) and service units are separate calls (their matches would AND). */
export async function readJournal(config: Config, query: JournalQuery, sink: LineSink, signal?: AbortSignal, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandOutcome> {
  const bin = requireBinary('journalctl', config.binPath, 'needed to read the systemd journal');
  const argv = [bin, '--no-pager', '-o', 'short-iso', '-n', String(query.maxLines)];
  if (query.since) argv.push('--since', query.since);
  if (query.until) argv.push('--until', query.until);
  if (query.boot !== undefined) argv.push('-b', query.boot);
  if (query.kernel) argv.push('-k');
  for (const unit of query.units) argv.push('-u', unit);
  return readCommand(argv, 'journalctl', sink, signal, timeoutMs, (r) => {
    const err = r.stderr.trim();
    if (/Failed to parse timestamp/i.test(err)) return new UserError(`journalctl rejected the time: ${err}`, 'Use journalctl syntax for since/until: "2024-03-05 10:00:00", "-1h", "yesterday", "today".');
    if (/boot/i.test(err) && query.boot !== undefined) return new UserError(`journalctl rejected journal_boot "${query.boot}": ${err}`, 'List boots with journalctl --list-boots; use 0 (current), -1 (previous) or a boot id.');
    return null;
  });
}

/** The kernel ring buffer with wall-clock times (`dmesg --time-format iso`; plain dmesg on busybox). */
export async function readDmesg(config: Config, sink: LineSink, signal?: AbortSignal, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandOutcome> {
  const bin = requireBinary('dmesg', config.binPath, 'needed to read the kernel ring buffer');
  const permission = (r: { stderr: string }): UserError | null =>
    /not permitted|permission denied/i.test(r.stderr)
      ? new UserError(`dmesg is not allowed for the tuneloop server: ${r.stderr.trim()}`, 'Run the server as root, set sysctl kernel.dmesg_restrict=0, or use journal_kernel (journalctl -k) instead.')
      : null;
  // An unknown option makes dmesg print nothing to stdout, so falling back cannot duplicate lines.
  const outcome = await readCommand([bin, '--time-format', 'iso'], 'dmesg', sink, signal, timeoutMs, (r) =>
    /unrecognized|invalid option|unknown option/i.test(r.stderr) ? new FallBack() : permission(r),
  ).catch((error: unknown) => {
    if (error instanceof FallBack) return null;
    throw error;
  });
  if (outcome) return outcome;
  const plain = await readCommand([bin], 'dmesg', sink, signal, timeoutMs, permission);
  plain.notes.push('this dmesg has no --time-format iso: kernel times are seconds since boot (pass kernel_boot_time to place them on the clock)');
  return plain;
}

class FallBack extends Error {}

async function readCommand(
  argv: string[],
  name: string,
  sink: LineSink,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  explain: (r: { stderr: string; exitCode: number | null }) => Error | null,
): Promise<CommandOutcome> {
  let bytes = 0;
  const r = await runCommand(argv, {
    timeoutMs,
    signal,
    maxOutputBytes: 64 * 1024,
    env: { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      bytes += Buffer.byteLength(line) + 1;
      // journalctl's own markers ("-- No entries --", "-- Boot <id> --") are not log lines.
      if (name === 'journalctl' && /^-- .* --$/.test(line)) return;
      sink(line);
    },
  });
  const notes: string[] = [];
  if (r.canceled) throw new UserError(`${name} was cancelled.`);
  if (r.timedOut) notes.push(`${name} was stopped after ${Math.round(timeoutMs / 1000)}s (deadline_s); the lines read until then were analysed`);
  else if (!r.ok) {
    const explained = explain(r);
    if (explained) throw explained;
    throw new UserError(`${name} failed (exit ${r.exitCode ?? r.signal}): ${outputTail(r, 3) || r.spawnError || 'no message'}`, `Run \`${argv.join(' ')}\` by hand to see why.`);
  }
  const stderr = r.stderr.trim();
  if (stderr) notes.push(`${name}: ${stderr.split('\n').slice(-2).join(' | ')}`);
  return { bytes, notes, timedOut: r.timedOut };
}
