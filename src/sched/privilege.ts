/**
 * How tuneloop gets the privileges a scheduler needs: root, else `sudo -n` (a NOPASSWD rule; never a
 * password). scx_loader (the D-Bus service) is detected and reported, and used only to stop a
 * scheduler it runs when the client asks to replace it; it is not used to start schedulers, because
 * it keeps its scheduler running independently of its clients: a tuneloop killed outright could not
 * take that scheduler down, and its API returns no output or exit reason.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { runCommand, outputTail } from '../core/exec.js';
import { findBinary, probePrivilege } from '../core/probe.js';

export interface PrivilegePath {
  path: 'root' | 'sudo' | null;
  detail: string;
  remedy: string | null;
  /** argv prefix that runs a command with the privileges: [] for root, [sudo, -n, --] for sudo. */
  prefix: string[];
}

export async function resolvePrivilege(config: Config): Promise<PrivilegePath> {
  const probe = await probePrivilege(config);
  const sudo = probe.path === 'sudo' ? findBinary('sudo', config.binPath) : null;
  return {
    path: probe.path,
    detail: probe.detail,
    remedy: probe.remedy ?? null,
    prefix: probe.path === 'sudo' && sudo ? [sudo, '-n', '--'] : [],
  };
}

export function requirePrivilege(p: PrivilegePath): void {
  if (!p.path) {
    throw new UserError(
      `Loading a sched_ext scheduler needs root, and this server has neither root nor passwordless sudo (${p.detail}).`,
      'Run tuneloop as root, or install the guard (sudo make -C tools/sched install) and grant the NOPASSWD sudoers rule from the README ("Schedulers (sched_ext)").',
    );
  }
}

/**
 * Under sudo the guard runs as root, so it must be a root-owned file nobody else can replace; the
 * scheduler it starts is held to the same rule by the guard itself. Checked here too for a clear
 * error before sudo is even called.
 */
export function requireRootOwned(path: string, what: string): void {
  for (const p of [path, dirname(path)]) {
    let ok = false;
    try {
      const st = statSync(p);
      ok = st.uid === 0 && (st.mode & 0o022) === 0;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new UserError(
        `${what} ${p} must exist, be owned by root and be writable only by root: under sudo it runs as root.`,
        'Install the helpers root-owned with `sudo make -C tools/sched install` (into /usr/local/libexec/tuneloop), and install scx schedulers from your distribution or `cargo install` into a root-owned directory such as /usr/local/bin.',
      );
    }
  }
}

export interface ScxLoaderInfo {
  /** The org.scx.Loader service is on the system bus (running or activatable). */
  detected: boolean;
  running: boolean;
  current_scheduler: string | null;
  detail: string;
  used_for: string;
}

const USED_FOR = 'detected only: tuneloop starts schedulers itself (root or sudo -n, under its guard) so a SIGKILLed tuneloop can never leave one attached; with replace: true it asks scx_loader to stop the scheduler it runs';
const LOADER = ['org.scx.Loader', '/org/scx/Loader', 'org.scx.Loader'];

export async function detectScxLoader(config: Config): Promise<ScxLoaderInfo> {
  const base = { detected: false, running: false, current_scheduler: null, used_for: USED_FOR };
  const socket = process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket';
  const socketPath = /unix:path=([^,;]+)/.exec(socket)?.[1];
  if (socketPath && !existsSync(socketPath)) return { ...base, detail: `no system D-Bus (${socketPath} is absent)` };
  const busctl = findBinary('busctl', config.binPath);
  if (!busctl) return { ...base, detail: 'busctl (systemd) is not installed, so the system bus was not queried' };
  const call = (...args: string[]) => runCommand([busctl, '--system', '--no-pager', '--json=short', ...args], { timeoutMs: 5000 });
  const owner = await call('call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', 's', 'org.scx.Loader');
  if (!owner.ok) return { ...base, detail: `the system bus did not answer: ${outputTail(owner)}` };
  const running = parseBusctl(owner.stdout)?.[0] === true;
  if (!running) {
    const names = await call('call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'ListActivatableNames');
    const activatable = (parseBusctl(names.stdout)?.[0] as string[] | undefined)?.includes('org.scx.Loader') ?? false;
    return { ...base, detected: activatable, detail: activatable ? 'scx_loader is installed (D-Bus activatable) but not running' : 'scx_loader is not on the system bus' };
  }
  const current = await call('get-property', ...LOADER, 'CurrentScheduler');
  const name = current.ok ? String(parseBusctl(current.stdout)?.[0] ?? '') || null : null;
  return { ...base, detected: true, running: true, current_scheduler: name, detail: name ? `scx_loader is running ${name}` : 'scx_loader is running, no scheduler' };
}

/** Ask scx_loader to stop its scheduler (polkit decides; root is allowed). */
export async function stopScxLoaderScheduler(config: Config): Promise<{ ok: boolean; detail: string }> {
  const busctl = findBinary('busctl', config.binPath);
  if (!busctl) return { ok: false, detail: 'busctl is not installed' };
  const r = await runCommand([busctl, '--system', '--no-pager', 'call', ...LOADER, 'StopScheduler'], { timeoutMs: 15_000 });
  return { ok: r.ok, detail: r.ok ? 'scx_loader StopScheduler succeeded' : `scx_loader StopScheduler failed: ${outputTail(r)}` };
}

function parseBusctl(stdout: string): unknown[] | null {
  try {
    const value = JSON.parse(stdout) as { data?: unknown };
    return Array.isArray(value.data) ? value.data : value.data !== undefined ? [value.data] : null;
  } catch {
    return null;
  }
}

