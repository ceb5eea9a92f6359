/**
 * The reaper makes sure nothing the server started outlives it, even when the server is killed
 * with SIGKILL and no cleanup code runs.
 *
 * It is one small Node process per server, started on the first child, in its own session (so a
 * signal to the server's process group does not reach it). The server tells it which process groups
 * exist ("+pgid" / "-pgid" lines on its stdin). When its stdin reaches EOF, the server is gone:
 * it sends SIGTERM to every group still registered, then SIGKILL after a grace period, and exits.
 *
 * Processes that changed uid (sudo) are beyond its reach; the sched toolset runs its own guard for
 * those, as root.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const REAPER_SOURCE = `
const groups = new Set();
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\\n');
  buffer = lines.pop();
  for (const line of lines) {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line[0] === '+') groups.add(pgid); else if (line[0] === '-') groups.delete(pgid);
  }
});
const signalAll = (signal) => { for (const g of groups) { try { process.kill(-g, signal); } catch {} } };
process.stdin.on('end', () => {
  if (groups.size === 0) process.exit(0);
  signalAll('SIGTERM');
  setTimeout(() => { signalAll('SIGKILL'); process.exit(0); }, ${2000});
});
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
`;

let reaper: ChildProcess | null = null;
let reaperFailed = false;

function ensureReaper(): ChildProcess | null {
  if (reaper || reaperFailed) return reaper;
  try {
    reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  } catch {
    reaperFailed = true;
    return null;
  }
  reaper.on('error', () => {
    reaperFailed = true;
    reaper = null;
  });
  reaper.stdin!.on('error', () => {});
  // The reaper must never keep the server alive on its own.
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void }).unref?.();
  return reaper;
}

export function registerGroup(pgid: number): void {
  ensureReaper()?.stdin?.write(`+${pgid}\n`);
}

export function unregisterGroup(pgid: number): void {
  reaper?.stdin?.write(`-${pgid}\n`);
}

/** The reaper's pid, for tests that verify it is alive and separate. */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}
