/**
 * Bounded capture of child output, in memory and on disk. Both keep the head (what a program prints
 * first: its banner, its configuration) and the tail (where failures are printed), and mark the cut
 * with the same line, so a reader can tell that something is missing and how much.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/** Bytes of a job log kept on disk: its first LOG_HEAD_BYTES and its last LOG_TAIL_BYTES. */
export const LOG_HEAD_BYTES = 1 << 20;
export const LOG_TAIL_BYTES = 4 << 20;

const MAX_LINE = 64 * 1024;

export function omittedMarker(bytes: number): string {
  return `\n[... ${bytes} bytes omitted by tuneloop ...]\n`;
}
const MARKER = /^\n\[\.\.\. (\d+) bytes omitted by tuneloop \.\.\.\]\n/;

/** Keeps the first and last `limit/2` bytes of a stream and counts what fell in between. */
export class CappedBuffer {
  private readonly half: number;
  private head: Buffer[] = [];
  private headSize = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private dropped = 0;

  constructor(limit: number) {
    this.half = Math.max(1, Math.floor(limit / 2));
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  push(chunk: Buffer): void {
    if (this.headSize < this.half) {
      const take = Math.min(this.half - this.headSize, chunk.length);
      this.head.push(chunk.subarray(0, take));
      this.headSize += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailSize > this.half) {
      const excess = this.tailSize - this.half;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailSize -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailSize -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.dropped ? `${head}${omittedMarker(this.dropped)}${tail}` : head + tail;
  }
}

/** Splits a byte stream into lines; a line longer than MAX_LINE is cut (the rest is still captured). */
export class LineSplitter {
  private partial = '';

  push(chunk: Buffer): string[] {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE) {
      parts.push(this.partial.slice(0, MAX_LINE));
      this.partial = '';
    }
    return parts.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  flush(): string | null {
    const rest = this.partial;
    this.partial = '';
    return rest ? rest : null;
  }
}

/**
 * An append-only log file that never grows past head + 2 x tail bytes. It is written plainly until
 * then; past that, the middle is cut in place: the file keeps its first `headBytes`, the marker line
 * (with the running count of bytes dropped) and its last `tailBytes` (from a line start). Readers
 * see one ordinary file: its tail is the output's tail, its head the output's head.
 *
 * Writes are synchronous, so several writers in one process (a job's children, its own log lines)
 * interleave in order; each writer reads the size and the marker from the file, not from memory.
 */
export class CappedLogFile {
  private readonly fd: number;
  private size: number;

  constructor(
    readonly path: string,
    private readonly headBytes = LOG_HEAD_BYTES,
    private readonly tailBytes = LOG_TAIL_BYTES,
  ) {
    this.fd = openSync(path, 'a+', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(chunk: Buffer | string): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    writeSync(this.fd, data);
    this.size += data.length;
    if (this.size <= this.headBytes + 2 * this.tailBytes) return;
    this.size = fstatSync(this.fd).size; // other writers of the same file count too
    if (this.size > this.headBytes + 2 * this.tailBytes) this.cut();
  }

  close(): void {
    closeSync(this.fd);
  }

  private cut(): void {
    const previous = this.read(this.headBytes, 64).toString('latin1');
    const marker = MARKER.exec(previous);
    const bodyStart = this.headBytes + (marker ? marker[0].length : 0);
    let tail = this.read(this.size - this.tailBytes, this.tailBytes);
    const lineStart = tail.indexOf(10);
    if (lineStart >= 0 && lineStart < 4096) tail = tail.subarray(lineStart + 1);
    const omitted = (marker ? Number(marker[1]) : 0) + (this.size - tail.length - bodyStart);
    ftruncateSync(this.fd, this.headBytes);
    const rest = Buffer.concat([Buffer.from(omittedMarker(omitted)), tail]);
    writeSync(this.fd, rest);
    this.size = this.headBytes + rest.length;
  }

  private read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    const n = readSync(this.fd, buffer, 0, length, position);
    return buffer.subarray(0, n);
  }
}

/** One line (or chunk) appended to a capped log, for writers that do not keep it open. */
export function appendCappedLog(path: string, text: string): void {
  const log = new CappedLogFile(path);
  try {
    log.write(text);
  } finally {
    log.close();
  }
}
