/**
 * `tuneloop vm build | run`: the sched_ext guest kernel (src/vm). Progress and diagnostics go to
 * stderr; `--json` prints one JSON object on stdout for scripts. `vm run` passes the command's
 * stdout and stderr through as the guest produces them and exits with its status (124 when the
 * time limit killed it, 125 when the guest failed before the command finished).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { buildGuest } from '../vm/kernel.js';
import { DEFAULT_CPUS, DEFAULT_MEMORY_MB, runInVm } from '../vm/run.js';

export const VM_USAGE = `Usage:
  tuneloop vm build [--json] [--home DIR]
      Build (or reuse) the sched_ext guest kernel from Debian's linux-source-6.12 with
      tools/vm/sched_ext.config, and the static sched tools for it. Cached in
      TUNELOOP_VM_CACHE (default <home>/cache/vm).
  tuneloop vm run [--timeout S] [--memory MIB] [--cpus N] [--share DIR]... [--share-rw DIR]...
                  [--env K=V]... [--cwd DIR] [--json] [--home DIR] [--] COMMAND [ARGS...]
      Boot the guest (KVM where it really works, else TCG), run COMMAND as root against the guest
      kernel with the host's root filesystem read-only and tmpfs on /tmp, /run, /var/tmp; print
      its output; exit with its status (124: time limit, 125: the guest failed). Defaults:
      --timeout 600, --memory ${DEFAULT_MEMORY_MB}, --cpus ${DEFAULT_CPUS}.`;

const OPTIONS = {
  json: { type: 'boolean' },
  home: { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  share: { type: 'string', multiple: true },
  'share-rw': { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  cwd: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function number(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--${name} must be a positive number, got "${value}".`, VM_USAGE);
  return n;
}

/** Options up to the first word that is not one (or `--`); everything after it is the command. */
function splitCommand(args: string[]): { own: string[]; command: string[] } {
  const valued = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));
  let i = 0;
  while (i < args.length) {
    const arg = args[i];
    if (arg === '--') return { own: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith('-')) break;
    i += valued.has(arg) ? 2 : 1;
  }
  return { own: args.slice(0, i), command: args.slice(i) };
}

export async function vm(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { own, command } = sub === 'run' ? splitCommand(rest) : { own: rest, command: [] };
  let values;
  try {
    ({ values } = parseArgs({ args: own, options: OPTIONS, allowPositionals: false }));
  } catch (error) {
    throw new UserError((error as Error).message, VM_USAGE);
  }
  if (values.help || !sub) {
    process.stderr.write(`${VM_USAGE}\n`);
    return sub ? 0 : 2;
  }
  const config = loadConfig({ home: values.home });
  const progress = (message: string) => process.stderr.write(`[tuneloop vm] ${message}\n`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (sub === 'build') {
      const started = Date.now();
      const r = await buildGuest(config, { progress, signal: controller.signal });
      const seconds = Math.round((Date.now() - started) / 1000);
      if (values.json) process.stdout.write(`${JSON.stringify({ ...r, seconds }, null, 2)}\n`);
      else progress(`ready in ${seconds} s: kernel ${r.guest.kernel.release} (${r.kernel_cached ? 'cached' : `built in ${r.guest.kernel.build_seconds} s`}), ${r.guest.kernel.bzImage}`);
      return 0;
    }
    if (sub === 'run') {
      const env = Object.fromEntries(
        (values.env ?? []).map((kv) => {
          const at = kv.indexOf('=');
          if (at <= 0) throw new UserError(`--env ${kv} is not K=V.`, VM_USAGE);
          return [kv.slice(0, at), kv.slice(at + 1)];
        }),
      );
      const r = await runInVm(config, {
        argv: command,
        cwd: values.cwd,
        env,
        timeoutS: number(values.timeout, 'timeout', 600),
        memoryMb: number(values.memory, 'memory', DEFAULT_MEMORY_MB),
        cpus: number(values.cpus, 'cpus', DEFAULT_CPUS),
        shares: [...(values.share ?? []).map((path) => ({ path, writable: false })), ...(values['share-rw'] ?? []).map((path) => ({ path, writable: true }))],
        onStdout: values.json ? undefined : (text) => process.stdout.write(text),
        onStderr: values.json ? undefined : (text) => process.stderr.write(text),
        signal: controller.signal,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else progress(`${r.accel_detail}; kernel ${r.kernel_release ?? '?'}; booted in ${r.boot_s ?? '?'} s; ${(r.duration_ms / 1000).toFixed(1)} s in all${r.failure ? `; ${r.failure}` : `; exit ${r.exit_code}`}`);
      return r.exit_code ?? (r.timed_out ? 124 : 125);
    }
    throw new UserError(`Unknown vm command "${sub}".`, VM_USAGE);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
