/**
 * Log files, read synchronously inside the analysis worker. Nothing here may block without end:
 * a FIFO or a terminal opened for reading would wait for a writer forever and hold the thread (and,
 * on the event loop's thread pool, every later file read of the server). So a path is opened with
 * O_NONBLOCK and checked with fstat on the open descriptor (no race with a swapped path): regular
 * files are read, /dev/kmsg is read as the kernel's record stream until no record is ready, and
 * anything else is refused with what it is. Reads stop at max_bytes (the tail of a regular file is
 * kept: that is where an incident ends) and at the call's deadline, and say what they skipped.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute } from 'node:path';
import { UserError } from '../../core/errors.js';

export const CHUNK_BYTES = 1 << 20;

/** Bytes not analysed, and why: max_bytes, the deadline, a record stream overrun. */
export interface Skipped {
  bytes: number;
  reason: string;
}

export interface ReadOutcome {
  bytes: number;
  notes: string[];
  skipped: Skipped[];
}

export interface OpenLog {
  path: string;
  field: string;
  fd: number;
  kind: 'file' | 'kmsg';
  /** Size from fstat; 0 for /proc and /sys files whose size is only known by reading them. */
  size: number;
}

/** Character devices that are log streams, by device number (major:minor). */
const KNOWN_DEVICES: Record<string, 'kmsg'> = { '1:11': 'kmsg' };

export function openLog(path: string, field: string): OpenLog {
  if (!isAbsolute(path)) throw new UserError(`${field}: "${path}" is not an absolute path.`, 'Pass absolute paths, e.g. /var/log/kern.log.');
  if (safeRealpath(path) === '/proc/kmsg') {
    throw new UserError(`${field}: "${path}" is /proc/kmsg: reading it takes the messages away from the system logger.`, 'Use dmesg: true, journal_kernel: true, or files: ["/dev/kmsg"] (which leaves them for others).');
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw fileError(path, field, error);
  }
  const st = fstatSync(fd);
  if (st.isFile()) return { path, field, fd, kind: 'file', size: st.size };
  const device = st.isCharacterDevice() ? KNOWN_DEVICES[`${major(st.rdev)}:${minor(st.rdev)}`] : undefined;
  if (device) return { path, field, fd, kind: device, size: 0 };
  closeSync(fd);
  throw new UserError(`${field}: "${path}" is ${describeKind(st)}, not a regular file: it is not read.`, 'Name a regular log file (e.g. /var/log/kern.log) or /dev/kmsg; for a live stream use journal_kernel, journal_units or dmesg.');
}

export function closeLog(log: OpenLog): void {
  closeSync(log.fd);
}

/**
 * Stream a log's bytes into `sink` in chunks (the buffer is reused: the sink must copy what it
 * keeps). Returns what was read and what was skipped.
 */
export function readLog(log: OpenLog, maxBytes: number, deadline: number, sink: (bytes: Buffer) => void, progress?: (done: number, total: number) => void): ReadOutcome {
  if (log.kind === 'kmsg') return readKmsg(log, maxBytes, deadline, sink);
  if (log.size === 0) return readUnsized(log, maxBytes, deadline, sink);
  const outcome: ReadOutcome = { bytes: 0, notes: [], skipped: [] };
  const start = Math.max(0, log.size - maxBytes);
  if (start > 0) {
    outcome.notes.push(`read the last ${maxBytes} of ${log.size} bytes (max_bytes); line numbers count from there`);
    outcome.skipped.push({ bytes: start, reason: `max_bytes: only the last ${maxBytes} bytes are read` });
  }
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = start;
  while (position < log.size) {
    if (Date.now() > deadline) {
      outcome.notes.push(`stopped at the deadline after ${position - start} of ${log.size - start} bytes: the rest of the file was not analysed`);
      outcome.skipped.push({ bytes: log.size - position, reason: `deadline_s: the bytes from offset ${position} to the end were not read in time` });
      break;
    }
    const n = readSync(log.fd, buffer, 0, Math.min(CHUNK_BYTES, log.size - position), position);
    if (n === 0) break; // truncated while we read
    position += n;
    outcome.bytes += n;
    sink(buffer.subarray(0, n));
    progress?.(position - start, log.size - start);
  }
  return outcome;
}

/** Files whose stat size is 0 (/proc, /sys, debugfs): read from the start until end of file. */
function readUnsized(log: OpenLog, maxBytes: number, deadline: number, sink: (bytes: Buffer) => void): ReadOutcome {
  const outcome: ReadOutcome = { bytes: 0, notes: [], skipped: [] };
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  for (;;) {
    if (Date.now() > deadline) {
      outcome.notes.push(`stopped at the deadline after ${outcome.bytes} bytes; the file may hold more`);
      outcome.skipped.push({ bytes: 0, reason: 'deadline_s: reading stopped; how much more the file holds is unknown (its size reads as 0)' });
      break;
    }
    let n: number;
    try {
      n = readSync(log.fd, buffer, 0, Math.min(CHUNK_BYTES, maxBytes - outcome.bytes), null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        outcome.notes.push('no more data without waiting (the file streams like a pipe); what was there has been analysed');
        break;
      }
      throw fileError(log.path, log.field, error);
    }
    if (n === 0) break;
    outcome.bytes += n;
    sink(buffer.subarray(0, n));
    if (outcome.bytes >= maxBytes) {
      outcome.notes.push(`read the first ${maxBytes} bytes (max_bytes) of a file whose size reads as 0; the rest was not read`);
      outcome.skipped.push({ bytes: 0, reason: 'max_bytes: the file was read from its start up to max_bytes; its remaining size is unknown' });
      break;
    }
  }
  if (outcome.bytes === 0) outcome.notes.push('the file is empty: its size reads as 0 and reading it returned nothing');
  return outcome;
}

/**
 * /dev/kmsg: one kernel record per read ("prio,seq,usec,flags;message" plus " KEY=value" lines),
 * turned into `[seconds.micro] message` lines as dmesg prints them, until no record is ready.
 */
function readKmsg(log: OpenLog, maxBytes: number, deadline: number, sink: (bytes: Buffer) => void): ReadOutcome {
  const outcome: ReadOutcome = { bytes: 0, notes: [], skipped: [] };
  const record = Buffer.allocUnsafe(16 * 1024);
  let lost = 0;
  let lines: string[] = [];
  const flush = () => {
    if (lines.length) sink(Buffer.from(`${lines.join('\n')}\n`));
    lines = [];
  };
  for (;;) {
    if (Date.now() > deadline) {
      outcome.notes.push('stopped at the deadline while reading /dev/kmsg; later records were not read');
      outcome.skipped.push({ bytes: 0, reason: 'deadline_s: later kernel records were not read' });
      break;
    }
    let n: number;
    try {
      n = readSync(log.fd, record, 0, record.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') break; // no record ready: the ring buffer has been read
      if (code === 'EPIPE') {
        lost++; // records were overwritten before we read them; the next read continues after them
        continue;
      }
      throw fileError(log.path, log.field, error);
    }
    if (n === 0) break;
    const text = record.toString('utf8', 0, n);
    const semi = text.indexOf(';');
    const head = text.slice(0, semi).split(',');
    const usec = Number(head[2]);
    const message = text.slice(semi + 1).split('\n')[0];
    const line = `[${(usec / 1e6).toFixed(6).padStart(12)}] ${message}`;
    outcome.bytes += line.length + 1;
    lines.push(line);
    if (lines.length >= 1000) flush();
    if (outcome.bytes >= maxBytes) {
      outcome.notes.push(`stopped after max_bytes (${maxBytes}) of kernel records`);
      outcome.skipped.push({ bytes: 0, reason: 'max_bytes: later kernel records were not read' });
      break;
    }
  }
  flush();
  if (lost) outcome.notes.push(`${lost} time(s) records were overwritten in the kernel ring buffer while reading`);
  return outcome;
}

/** The first and last `bytes` of a regular file (all of it when small): enough to find its dated lines. */
export function readEnds(log: OpenLog, bytes: number): string {
  if (log.kind !== 'file' || log.size === 0) return '';
  const head = Buffer.alloc(Math.min(bytes, log.size));
  readSync(log.fd, head, 0, head.length, 0);
  if (log.size <= bytes) return head.toString('utf8');
  const tail = Buffer.alloc(Math.min(bytes, log.size - bytes));
  readSync(log.fd, tail, 0, tail.length, log.size - tail.length);
  return `${head.toString('utf8')}\n${tail.toString('utf8')}`;
}

function describeKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return `a character device (${major(st.rdev)}:${minor(st.rdev)})`;
  return 'not a regular file';
}

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn);
}

function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & 0xfff00n));
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export function fileError(path: string, field: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${field}: "${path}" does not exist.`, 'Check the path (rotated logs: kern.log.1, syslog.1).');
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(`${field}: "${path}" is not readable by the tuneloop server (uid ${process.getuid?.()}).`, 'Run the server as a user in the adm group (or root), or copy the log somewhere readable.');
  }
  if (code === 'ENXIO') return new UserError(`${field}: "${path}" is a socket or a device without a reader: it is not a log file.`, 'Name a regular log file.');
  return new UserError(`${field}: cannot read "${path}": ${(error as Error).message}`, 'Check that the path names a readable regular log file (ls -l it as the server user).');
}
