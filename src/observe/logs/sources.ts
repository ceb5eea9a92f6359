/**
 * Where log lines come from: text, files (read from the tail, size-capped), journalctl, dmesg.
 * Every source streams line by line into a callback, so memory does not grow with the input; the
 * commands run through core/exec (timeouts, process groups) with only a small output buffer kept,
 * since the lines are consumed as they arrive.
 */
import { open, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runCommand, outputTail } from '../../core/exec.js';
import { requireBinary } from '../../core/probe.js';

export type LineSink = (line: string, lineNo: number) => void;

export interface ReadOutcome {
  /** Bytes of input consumed. */
  bytes: number;
  notes: string[];
}

const CHUNK = 1 << 20;
const COMMAND_TIMEOUT_MS = 60_000;

/** Lines of a text passed in. */
export function readText(text: string, sink: LineSink): ReadOutcome {
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    if (end < text.length || line !== '') sink(line.endsWith('\r') ? line.slice(0, -1) : line, ++lineNo);
    start = end + 1;
  }
  return { bytes: Buffer.byteLength(text), notes: [] };
}

/**
 * Lines of a file, at most the last `maxBytes` of it: the tail is where an incident ends. Line
 * numbers count from the first line read; when the head was skipped, a note says how much.
 */
export async function readFileTail(
  path: string,
  field: string,
  maxBytes: number,
  sink: LineSink,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Promise<ReadOutcome> {
  if (!isAbsolute(path)) throw new UserError(`${field}: "${path}" is not an absolute path.`, 'Pass absolute paths, e.g. /var/log/kern.log.');
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UserError(`${field}: "${path}" is not a regular file.`, 'Name a log file; for the journal use journal_units/journal_kernel.');
    size = st.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw fileError(path, field, error);
  }
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(path, field, error);
  }
  const notes: string[] = [];
  const start = Math.max(0, size - maxBytes);
  if (start > 0) notes.push(`read the last ${maxBytes} of ${size} bytes (max_bytes); line numbers count from there`);
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = start;
  let partial = '';
  let lineNo = 0;
  let skipFirst = start > 0;
  try {
    while (position < size) {
      if (signal?.aborted) throw new UserError('diagnose_logs was cancelled.');
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, size - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      onProgress?.(position - start, size - start);
      const text = partial + decoder.write(buffer.subarray(0, bytesRead));
      let from = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
        const line = text.slice(from, nl);
        from = nl + 1;
        if (skipFirst) {
          skipFirst = false; // the first line of a tail read is probably cut
          continue;
        }
        sink(line.endsWith('\r') ? line.slice(0, -1) : line, ++lineNo);
      }
      partial = text.slice(from);
      // A pathological line without newlines must not grow without bound.
      if (partial.length > 4 * CHUNK) {
        sink(partial, ++lineNo);
        partial = '';
      }
    }
    const rest = partial + decoder.end();
    if (rest !== '' && !skipFirst) sink(rest, ++lineNo);
  } finally {
    await handle.close();
  }
  return { bytes: position - start, notes };
}

/** The first and last `bytes` of a file (all of it when small): enough to find its dated lines. */
export async function readEnds(path: string, bytes: number): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(bytes, size));
      await handle.read(head, 0, head.length, 0);
      if (size <= bytes) return head.toString('utf8');
      const tail = Buffer.alloc(Math.min(bytes, size - bytes));
      await handle.read(tail, 0, tail.length, size - tail.length);
      return `${head.toString('utf8')}\n${tail.toString('utf8')}`;
    } finally {
      await handle.close();
    }
  } catch {
    return ''; // the real read reports the error with its field name
  }
}

function fileError(path: string, field: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${field}: "${path}" does not exist.`, 'Check the path (rotated logs: kern.log.1, syslog.1).');
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(`${field}: "${path}" is not readable by the tuneloop server (uid ${process.getuid?.()}).`, 'Run the server as a user in the adm group (or root), or copy the log somewhere readable.');
  }
  return new UserError(`${field}: cannot read "${path}": ${(error as Error).message}`);
}

export interface JournalQuery {
  kernel: boolean;
  units: string[];
  since?: string;
  until?: string;
  boot?: string;
  maxLines: number;
}

/** `journalctl -o short-iso`: the kernel ring (-k) and service units are separate calls (their matches would AND). */
export async function readJournal(config: Config, query: JournalQuery, sink: LineSink, signal?: AbortSignal): Promise<ReadOutcome> {
  const bin = requireBinary('journalctl', config.binPath, 'needed to read the systemd journal');
  const argv = [bin, '--no-pager', '-o', 'short-iso', '-n', String(query.maxLines)];
  if (query.since) argv.push('--since', query.since);
  if (query.until) argv.push('--until', query.until);
  if (query.boot !== undefined) argv.push('-b', query.boot);
  if (query.kernel) argv.push('-k');
  for (const unit of query.units) argv.push('-u', unit);
  return readCommand(argv, 'journalctl', sink, signal, (r) => {
    const err = r.stderr.trim();
    if (/Failed to parse timestamp/i.test(err)) return new UserError(`journalctl rejected the time: ${err}`, 'Use journalctl syntax for since/until: "2024-03-05 10:00:00", "-1h", "yesterday", "today".');
    if (/boot/i.test(err) && query.boot !== undefined) return new UserError(`journalctl rejected journal_boot "${query.boot}": ${err}`, 'List boots with journalctl --list-boots; use 0 (current), -1 (previous) or a boot id.');
    return null;
  });
}

/** The kernel ring buffer with wall-clock times (`dmesg --time-format iso`; plain dmesg on busybox). */
export async function readDmesg(config: Config, sink: LineSink, signal?: AbortSignal): Promise<ReadOutcome> {
  const bin = requireBinary('dmesg', config.binPath, 'needed to read the kernel ring buffer');
  const permission = (r: { stderr: string }): UserError | null =>
    /not permitted|permission denied/i.test(r.stderr)
      ? new UserError(`dmesg is not allowed for the tuneloop server: ${r.stderr.trim()}`, 'Run the server as root, set sysctl kernel.dmesg_restrict=0, or use journal_kernel (journalctl -k) instead.')
      : null;
  // An unknown option makes dmesg print nothing to stdout, so falling back cannot duplicate lines.
  const outcome = await readCommand([bin, '--time-format', 'iso'], 'dmesg', sink, signal, (r) =>
    /unrecognized|invalid option|unknown option/i.test(r.stderr) ? new FallBack() : permission(r),
  ).catch((error: unknown) => {
    if (error instanceof FallBack) return null;
    throw error;
  });
  if (outcome) return outcome;
  const plain = await readCommand([bin], 'dmesg', sink, signal, permission);
  plain.notes.push('this dmesg has no --time-format iso: kernel times are seconds since boot (pass kernel_boot_time to place them on the clock)');
  return plain;
}

class FallBack extends Error {}

async function readCommand(
  argv: string[],
  name: string,
  sink: LineSink,
  signal: AbortSignal | undefined,
  explain: (r: { stderr: string; exitCode: number | null }) => Error | null,
): Promise<ReadOutcome> {
  let lineNo = 0;
  let bytes = 0;
  const r = await runCommand(argv, {
    timeoutMs: COMMAND_TIMEOUT_MS,
    signal,
    maxOutputBytes: 64 * 1024,
    env: { LC_ALL: 'C', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      bytes += Buffer.byteLength(line) + 1;
      // journalctl's own markers ("-- No entries --", "-- Boot <id> --") are not log lines.
      if (name === 'journalctl' && /^-- .* --$/.test(line)) return;
      sink(line, ++lineNo);
    },
  });
  const notes: string[] = [];
  if (r.canceled) throw new UserError(`${name} was cancelled.`);
  if (r.timedOut) notes.push(`${name} timed out after ${COMMAND_TIMEOUT_MS / 1000}s; the lines read until then were analysed`);
  else if (!r.ok) {
    const explained = explain(r);
    if (explained) throw explained;
    throw new UserError(`${name} failed (exit ${r.exitCode ?? r.signal}): ${outputTail(r, 3) || r.spawnError || 'no message'}`, `Run \`${argv.join(' ')}\` by hand to see why.`);
  }
  const stderr = r.stderr.trim();
  if (stderr) notes.push(`${name}: ${stderr.split('\n').slice(-2).join(' | ')}`);
  return { bytes, notes };
}
