/** Small readers for procfs/sysfs files: missing or unreadable files are `null`, never zero. */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function readTrimmed(path: string): string | null {
  const text = readText(path);
  return text === null ? null : text.trim();
}

export function readNumber(path: string): number | null {
  const text = readTrimmed(path);
  if (text === null || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * The fields of /proc/<pid>/stat after comm, from field 3 (state: [0], ppid: [1], pgrp: [2],
 * starttime: [19]), or undefined when the process is gone.
 */
export function statFields(pid: number | string): string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : undefined;
}

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), as a string.
 * Together with the pid it identifies a process: pids are recycled, start times are not.
 */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * Whether the process `pid` still runs (EPERM: it does, under another uid). A zombie does not: it
 * has exited and only waits for its parent (or a slow init) to reap it. With `start` (its
 * processStartTime), a recycled pid that now belongs to another process counts as gone.
 */
export function isProcessAlive(pid: number, start?: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  if (fields && (fields[0] === 'Z' || fields[0] === 'X')) return false;
  return start == null || fields?.[19] === start;
}

/** The last `maxBytes` of a file as text, and how many bytes before them were left out. */
export function readTailText(path: string, maxBytes: number): { text: string; omitted: number } {
  const size = statSync(path).size;
  const length = Math.min(size, maxBytes);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return { text: buffer.toString('utf8'), omitted: size - length };
}
