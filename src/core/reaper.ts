/**
 * The reaper makes sure nothing the server started outlives it, even when the server is killed
 * with SIGKILL and no cleanup code runs.
 *
 * It is one small Node process per server, started with the first child (or the cgroup home), in its
 * own session (so a signal to the server's process group does not reach it). The server tells it
 * what is contained, one line each on its stdin: "+PGID [CGROUP_DIR]" / "-PGID", and "home DIR"
 * (the server's cgroup directory). When its stdin reaches EOF, the server is gone: it sends SIGTERM
 * to every process group still registered, then after a grace period SIGKILL to them and
 * `cgroup.kill` to their cgroups (which reaches setsid escapees, and members that changed uid), removes
 * the cgroup directories and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const REAPER_SOURCE = `
const fs = require('node:fs');
const groups = new Map();
let home = null;
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\\n');
  buffer = lines.pop();
  for (const line of lines) {
    if (line.startsWith('home ')) { home = line.slice(5); continue; }
    const space = line.indexOf(' ');
    const head = space < 0 ? line : line.slice(0, space);
    const dir = space < 0 ? null : line.slice(space + 1);
    const pgid = Number(head.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (head[0] === '+') groups.set(pgid, dir); else if (head[0] === '-') groups.delete(pgid);
  }
});
const signalAll = (signal) => { for (const g of groups.keys()) { try { process.kill(-g, signal); } catch {} } };
const killCgroups = () => { for (const dir of groups.values()) if (dir) { try { fs.writeFileSync(dir + '/cgroup.kill', '1'); } catch {} } };
const removeDirs = (attempt) => {
  const dirs = [...groups.values()].filter(Boolean);
  if (home) { try { for (const d of fs.readdirSync(home, { withFileTypes: true })) if (d.isDirectory()) dirs.push(home + '/' + d.name); } catch {} }
  let left = 0;
  for (const dir of dirs) { try { fs.writeFileSync(dir + '/cgroup.kill', '1'); } catch {} try { fs.rmdirSync(dir); } catch (e) { if (e.code !== 'ENOENT') left++; } }
  if (home) { try { fs.rmdirSync(home); } catch (e) { if (e.code !== 'ENOENT') left++; } }
  if (left === 0 || attempt >= 100) process.exit(0);
  setTimeout(() => removeDirs(attempt + 1), 20);
};
process.stdin.on('end', () => {
  if (groups.size === 0) return removeDirs(0);
  signalAll('SIGTERM');
  setTimeout(() => { signalAll('SIGKILL'); killCgroups(); removeDirs(0); }, ${2000});
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

/** A contained child: its process group and, in cgroup mode, its cgroup. */
export function registerContained(pgid: number, cgroupDir: string | null): void {
  ensureReaper()?.stdin?.write(`+${pgid}${cgroupDir ? ` ${cgroupDir}` : ''}\n`);
}

export function unregisterContained(pgid: number): void {
  reaper?.stdin?.write(`-${pgid}\n`);
}

/** The server's cgroup directory: removed with whatever is left in it when the server is gone. */
export function registerHome(dir: string): void {
  ensureReaper()?.stdin?.write(`home ${dir}\n`);
}

