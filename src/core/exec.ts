/**
 * The only place tuneloop starts child processes: execa 9 starts them, and tuneloop adds a thin layer.
 *
 * execa: argv arrays (a shell only when the caller puts one in argv[0]), the environment merged over
 * the server's (or alone), stdin input, the timeout and the cancelSignal (they decide *when* a child
 * is stopped and set timedOut / isCanceled), spawn failures as results, exit code and signal, and
 * its verbose log of every command on stderr under TUNELOOP_DEBUG.
 * tuneloop, on top:
 * - containment (contain.ts): the child is born in its own cgroup, PID namespace or process group,
 *   and execa's stop (`subprocess.kill()`) is routed to the contained tree: the graceful signal to its
 *   process group, SIGKILL to everything contained after killGraceMs. When the child exits, whatever
 *   it left behind is killed. A sandbox (sandbox.ts) for untrusted code rides on the same path;
 * - head-and-tail capture per stream (execa's maxBuffer keeps the head, then destroys the stream and
 *   the child dies of SIGPIPE; failures are printed last), lines for progress parsing (split from the
 *   same chunks: execa's line iterators would read each stream a second time), and a copy in the job
 *   log, capped on disk (capture.ts);
 * - the reaper (reaper.ts), for a server killed outright;
 * - nothing on the server's stdout (the JSON-RPC channel): every stream is piped or ignored.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CappedBuffer, CappedLogFile, LineSplitter } from './capture.js';
import { Container, type ContainmentMode } from './contain.js';
import type { Isolation, MemoryLimit, SandboxSpec } from './sandbox.js';

import { trackChild, untrackChild } from './children.js';
export { containmentInfo, type ContainmentMode } from './contain.js';
export { killAllChildrenNow, liveChildCount, terminateAllChildren } from './children.js';
export { sandboxIsolation, type Isolation, type SandboxSpec } from './sandbox.js';

export interface ExecOptions {
  cwd?: string;
  /** Added to (or, with undefined values, removed from) the server's environment. */
  env?: Record<string, string | undefined>;
  /** Use `env` as the whole environment instead of merging it over process.env. */
  replaceEnv?: boolean;
  /** Hard limit for the whole run. Required: nothing runs unbounded. */
  timeoutMs: number;
  /** Abort = cancel: the contained tree is terminated and the result says `canceled`. */
  signal?: AbortSignal;
  /** Bytes kept per stream (half head, half tail). Default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Keep stdin open as a pipe (`child.stdin`), e.g. for a guard whose EOF means "stop". */
  keepStdin?: boolean;
  /** Called for every complete output line as it arrives (progress parsing). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Output is also appended to this file (job logs), capped on disk: head and tail kept, the cut marked. */
  logFile?: string;
  /** First signal on timeout/cancel/terminate; SIGKILL follows after killGraceMs. */
  killSignal?: NodeJS.Signals;
  killGraceMs?: number;
  /**
   * Opt-in: measure the child's CPU time and peak memory. Node cannot read a child's rusage, so the
   * command runs under GNU time (this path, e.g. /usr/bin/time), which wait4()s it and writes the
   * rusage to its fd 3; the result carries it as `rusage`. GNU time reports CPU in 10 ms steps.
   */
  rusageWith?: string;
  /**
   * Run untrusted code: only what the spec binds is visible, no network, own PID namespace, bounded
   * memory (sandbox.ts). The spec's env and cwd replace `env`/`replaceEnv`/`cwd`.
   */
  sandbox?: SandboxSpec;
  /** A plain process group even where a cgroup or PID namespace is available (benchmarks of containment). */
  uncontained?: boolean;
}

/** Resource usage of a child and the descendants it waited for (getrusage RUSAGE_CHILDREN). */
export interface ResourceUsage {
  user_s: number;
  sys_s: number;
  max_rss_kib: number;
}

/** A finished child, success or not. Failures are data: a timed-out run is still a result. */
export interface ExecResult {
  argv: string[];
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when some output was dropped from the middle of a stream. */
  truncated: boolean;
  timedOut: boolean;
  canceled: boolean;
  durationMs: number;
  /** Exit code 0, not timed out, not canceled, started at all. */
  ok: boolean;
  /** Set when the process could not be started (ENOENT, EACCES). */
  spawnError?: string;
  /** With `rusageWith`: what GNU time measured; null when it could not (killed before it wrote). */
  rusage?: ResourceUsage | null;
  /** How the child's process tree was contained (contain.ts). */
  containment: ContainmentMode;
  /** With `sandbox`: the isolation it actually got ('none' when the host offers neither bwrap nor unshare). */
  isolation?: Isolation;
  /** With `sandbox.memoryBytes`: how memory was bounded. */
  memoryLimit?: MemoryLimit;
}

export interface Child {
  readonly pid: number | undefined;
  readonly argv: string[];
  /** Present only with keepStdin. */
  readonly stdin: Writable | null;
  readonly result: Promise<ExecResult>;
  /** Signal the child's process group (SIGKILL: everything contained). */
  signalGroup(signal: NodeJS.Signals): void;
  /** Send killSignal, wait killGraceMs, then SIGKILL; resolves with the final result. */
  terminate(signal?: NodeJS.Signals): Promise<ExecResult>;
}

const DEFAULT_MAX_OUTPUT = 1 << 20;
const DEFAULT_GRACE_MS = 3000;
/** After the child exits, how long something it left may hold its pipes open (a process group cannot kill a setsid escapee). */
const PIPE_LINGER_MS = 1000;
const RUSAGE_MARK = 'tuneloop-rusage';

/** Run to completion. Never throws for a failing child: inspect `ok`, `exitCode`, `timedOut`. */
export function runCommand(argv: string[], options: ExecOptions): Promise<ExecResult> {
  return spawnChild(argv, options).result;
}

export function spawnChild(argv: string[], options: ExecOptions): Child {
  if (argv.length === 0 || !argv[0]) throw new Error('spawnChild: empty argv');
  if (!(options.timeoutMs > 0)) throw new Error(`spawnChild: timeoutMs must be > 0, got ${options.timeoutMs}`);
  if (options.sandbox && (options.env || options.cwd || options.replaceEnv)) throw new Error('spawnChild: with a sandbox, give env and cwd in the sandbox spec');
  const grace = options.killGraceMs ?? DEFAULT_GRACE_MS;
  const firstSignal = options.killSignal ?? 'SIGTERM';
  const rusageFd = options.rusageWith ? openRusageFile(options.logFile ? dirname(options.logFile) : tmpdir()) : null;
  const command = options.rusageWith ? [options.rusageWith, '-q', '-f', `${RUSAGE_MARK} %U %S %M`, '-o', '/dev/fd/3', '--', ...argv] : argv;
  const path = options.env && 'PATH' in options.env ? options.env.PATH : options.replaceEnv ? undefined : process.env.PATH;
  const container = new Container(command, { sandbox: options.sandbox, uncontained: options.uncontained, path, cwd: options.cwd });
  const sandboxed = container.launch;

  const subprocess = container.spawn(() =>
    execa(container.argv[0], container.argv.slice(1), {
      cwd: sandboxed ? sandboxed.cwd : options.cwd,
      env: sandboxed ? sandboxed.env : options.env,
      extendEnv: !sandboxed && !options.replaceEnv,
      // fd 3: GNU time's report file (execa passes a file descriptor through; its types list only 3-9).
      stdio: [options.keepStdin || options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(rusageFd !== null ? [rusageFd as 3] : [])],
      input: options.input,
      detached: true,
      timeout: options.timeoutMs,
      cancelSignal: options.signal,
      killSignal: firstSignal,
      forceKillAfterDelay: false, // escalation is ours: it must reach the whole tree
      buffer: false,
      reject: false,
      cleanup: false,
      verbose: process.env.TUNELOOP_DEBUG ? 'short' : 'none',
    }),
  );
  const pid = subprocess.pid;
  if (pid !== undefined) container.attach(pid);

  let exited = false;
  let terminated = false;
  let escalation: NodeJS.Timeout | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (exited) return;
    container.signal(signal);
    if (signal !== 'SIGKILL' && !escalation) {
      escalation = setTimeout(() => container.kill(), grace);
      escalation.unref();
    }
  };
  // execa stops a child (timeout, cancelSignal) through subprocess.kill(): route that to the contained tree.
  subprocess.kill = ((signal?: unknown) => (stop(typeof signal === 'string' ? (signal as NodeJS.Signals) : firstSignal), true)) as typeof subprocess.kill;
  subprocess.stdin?.on('error', () => {}); // EPIPE when the child exits before reading: not our failure.

  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const captured = { stdout: new CappedBuffer(maxOutput), stderr: new CappedBuffer(maxOutput) };
  const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const log = options.logFile ? new CappedLogFile(options.logFile) : null;
  for (const name of ['stdout', 'stderr'] as const) {
    subprocess[name]?.on('data', (chunk: Buffer) => {
      captured[name].push(chunk);
      log?.write(chunk);
      if (options.onLine) for (const line of lines[name].push(chunk)) options.onLine(line, name);
    });
  }

  let released: Promise<void> | undefined;
  let linger: NodeJS.Timeout | undefined;
  subprocess.on('exit', () => {
    exited = true;
    if (escalation) clearTimeout(escalation);
    released = container.release();
    // Only a process-group escapee can still hold the pipes: stop reading after a moment.
    linger = setTimeout(() => subprocess.stdio.forEach((s) => s?.destroy()), PIPE_LINGER_MS);
    linger.unref();
  });

  async function collect(): Promise<ExecResult> {
    const r = await subprocess;
    if (linger) clearTimeout(linger);
    await (released ?? container.release());
    log?.close();
    untrackChild(child);
    if (options.onLine) {
      for (const name of ['stdout', 'stderr'] as const) {
        const rest = lines[name].flush();
        if (rest !== null) options.onLine(rest, name);
      }
    }
    const spawnError = pid === undefined ? (r.originalMessage ?? r.shortMessage) : undefined;
    const { exitCode, signal } = container.exitStatus(r.exitCode ?? null, (r.signal as NodeJS.Signals | undefined) ?? null);
    const canceled = r.isCanceled || terminated;
    return {
      argv,
      pid,
      exitCode,
      signal,
      stdout: captured.stdout.text(),
      stderr: captured.stderr.text(),
      truncated: captured.stdout.truncated || captured.stderr.truncated,
      timedOut: r.timedOut,
      canceled,
      durationMs: Math.round(r.durationMs),
      ok: !spawnError && exitCode === 0 && !r.timedOut && !canceled,
      spawnError,
      ...(rusageFd !== null ? { rusage: readRusage(rusageFd) } : {}),
      containment: container.mode,
      ...(sandboxed ? { isolation: sandboxed.isolation, ...(options.sandbox?.memoryBytes !== undefined ? { memoryLimit: sandboxed.memoryLimit } : {}) } : {}),
    };
  }
  const result = collect();

  const child: Child = {
    pid,
    argv,
    stdin: options.keepStdin ? subprocess.stdin : null,
    result,
    signalGroup: (signal) => container.signal(signal),
    terminate(signal = firstSignal) {
      if (!exited) {
        terminated = true;
        stop(signal);
      }
      return result;
    },
  };
  if (pid !== undefined) trackChild(child);
  return child;
}

/** The last `lines` lines a child printed (stderr, or stdout when stderr is empty), joined by `separator`: the "why" of a failure. */
export function outputTail(r: Pick<ExecResult, 'stdout' | 'stderr'>, lines = 1, separator = ' | '): string {
  const text = r.stderr.trim() || r.stdout.trim();
  return text ? text.split('\n').slice(-lines).join(separator) : '';
}

/**
 * GNU time's report goes to a file that is unlinked as soon as it is open (Node's stdio pipes are
 * sockets, which /dev/fd/3 cannot reopen): nothing is left on disk, even if the server is SIGKILLed.
 */
function openRusageFile(dir: string): number {
  const path = join(dir, `.tuneloop-rusage-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'w+', 0o600);
  rmSync(path, { force: true });
  return fd;
}

/** GNU time's line; the last one wins (the command inherits fd 3 and could write a forged line). */
function readRusage(fd: number): ResourceUsage | null {
  try {
    const buffer = Buffer.alloc(16 * 1024);
    const report = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    const m = [...report.matchAll(new RegExp(`^${RUSAGE_MARK} ([\\d.]+) ([\\d.]+) (\\d+)$`, 'gm'))].at(-1);
    return m ? { user_s: Number(m[1]), sys_s: Number(m[2]), max_rss_kib: Number(m[3]) } : null;
  } finally {
    closeSync(fd);
  }
}
