/**
 * The only place tuneloop starts child processes.
 *
 * Why not execa: execa 9 (the last line for Node 20) kills only the direct child on timeout, and its
 * maxBuffer keeps the head of the output and drops the tail, which is where failures are printed.
 * Here every child:
 * - gets an argv array (no shell unless the caller passes one explicitly as argv[0]);
 * - runs in its own process group (detached => setsid), so timeout, cancel and shutdown signal the
 *   whole tree with kill(-pgid);
 * - has a timeout and an optional AbortSignal;
 * - has its output capped per stream, keeping the head and the tail;
 * - never inherits the server's stdout (the JSON-RPC channel);
 * - is registered with a reaper process that kills its group if the server dies without cleaning up
 *   (SIGKILL, OOM kill): see reaper.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Container, type ContainmentMode } from './contain.js';
import type { Isolation, MemoryLimit, SandboxSpec } from './sandbox.js';

export interface ExecOptions {
  cwd?: string;
  /** Added to (or, with undefined values, removed from) the server's environment. */
  env?: Record<string, string | undefined>;
  /** Use `env` as the whole environment instead of merging it over process.env. */
  replaceEnv?: boolean;
  /** Hard limit for the whole run. Required: nothing runs unbounded. */
  timeoutMs: number;
  /** Abort = cancel: the process group is terminated and the result says `canceled`. */
  signal?: AbortSignal;
  /** Bytes kept per stream (half head, half tail). Default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Keep stdin open as a pipe (`child.stdin`), e.g. for a guard whose EOF means "stop". */
  keepStdin?: boolean;
  /** Called for every complete output line as it arrives (progress parsing). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Every byte of output is also appended to this file (job logs). */
  logFile?: string;
  /** First signal on timeout/cancel/terminate; SIGKILL follows after killGraceMs. */
  killSignal?: NodeJS.Signals;
  killGraceMs?: number;
  /**
   * Opt-in: measure the child's CPU time and peak memory. Node cannot read a child's rusage, so the
   * command runs under GNU time (this path, e.g. /usr/bin/time), which wait4()s it and writes the
   * rusage to a file; the result carries it as `rusage`. GNU time reports CPU in 10 ms steps.
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
  /** Signal the whole process group. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Send killSignal, wait killGraceMs, then SIGKILL; resolves with the final result. */
  terminate(signal?: NodeJS.Signals): Promise<ExecResult>;
}

const DEFAULT_MAX_OUTPUT = 1 << 20;
const DEFAULT_GRACE_MS = 3000;
const MAX_LINE = 64 * 1024;

const live = new Set<Child>();

/** Run to completion. Never throws for a failing child: inspect `ok`, `exitCode`, `timedOut`. */
export function runCommand(argv: string[], options: ExecOptions): Promise<ExecResult> {
  return spawnChild(argv, options).result;
}

export function spawnChild(argv: string[], options: ExecOptions): Child {
  if (argv.length === 0 || !argv[0]) throw new Error('spawnChild: empty argv');
  const rusageFile = options.rusageWith ? join(tmpdir(), `tuneloop-rusage-${process.pid}-${randomBytes(6).toString('hex')}`) : null;
  const command = rusageFile ? [options.rusageWith!, '-q', '-f', `${RUSAGE_MARK} %U %S %M`, '-o', rusageFile, '--', ...argv] : argv;
  if (!(options.timeoutMs > 0)) throw new Error(`spawnChild: timeoutMs must be > 0, got ${options.timeoutMs}`);
  const started = performance.now();
  const grace = options.killGraceMs ?? DEFAULT_GRACE_MS;
  const firstSignal = options.killSignal ?? 'SIGTERM';
  const stdout = new CappedBuffer(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const stderr = new CappedBuffer(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const log: WriteStream | null = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  let timedOut = false;
  let canceled = false;
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;

  if (options.sandbox && (options.env || options.cwd || options.replaceEnv)) throw new Error('spawnChild: with a sandbox, give env and cwd in the sandbox spec');
  const container = new Container(command, { sandbox: options.sandbox, uncontained: options.uncontained, env: buildEnv(options), cwd: options.cwd });

  let proc: ChildProcess;
  let spawnError: string | undefined;
  try {
    proc = container.spawn(() =>
      spawn(container.argv[0], container.argv.slice(1), {
        cwd: container.cwd,
        env: container.env,
        detached: true,
        stdio: [options.keepStdin || options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      }),
    );
  } catch (error) {
    // spawn throws synchronously for some invalid arguments (e.g. a NUL byte in argv).
    proc = undefined as unknown as ChildProcess;
    spawnError = error instanceof Error ? error.message : String(error);
  }
  const pid = proc?.pid;
  if (pid !== undefined) container.attach(pid);

  const signalGroup = (signal: NodeJS.Signals): void => container.signal(signal);
  const escalate = (signal: NodeJS.Signals): void => {
    signalGroup(signal);
    if (signal !== 'SIGKILL' && !killTimer) {
      killTimer = setTimeout(() => signalGroup('SIGKILL'), grace);
      killTimer.unref();
    }
  };

  const result = new Promise<ExecResult>((resolveResult) => {
    const finish = async (rawCode: number | null, rawSignal: NodeJS.Signals | null): Promise<void> => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Whatever the leader left behind does not outlive it.
      await container.release();
      live.delete(child);
      const { exitCode, signal } = container.exitStatus(rawCode, rawSignal);
      const done = (): void =>
        resolveResult({
          argv,
          pid,
          exitCode,
          signal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
          timedOut,
          canceled,
          durationMs: Math.round(performance.now() - started),
          ok: !spawnError && exitCode === 0 && !timedOut && !canceled,
          spawnError,
          ...(rusageFile ? { rusage: readRusage(rusageFile) } : {}),
          containment: container.mode,
          ...(options.sandbox ? { isolation: container.isolation, ...(options.sandbox.memoryBytes !== undefined ? { memoryLimit: container.memoryLimit } : {}) } : {}),
        });
      if (log) log.end(done);
      else done();
    };

    const onAbort = (): void => {
      if (exited) return;
      canceled = true;
      escalate(firstSignal);
    };
    const timer = spawnError
      ? undefined
      : setTimeout(() => {
          if (exited) return;
          timedOut = true;
          escalate(firstSignal);
        }, options.timeoutMs);

    if (spawnError) {
      queueMicrotask(() => void finish(null, null));
      return;
    }
    if (options.signal?.aborted) queueMicrotask(onAbort);
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const wire = (name: 'stdout' | 'stderr', sink: CappedBuffer): void => {
      proc[name]!.on('data', (chunk: Buffer) => {
        sink.push(chunk);
        log?.write(chunk);
        if (options.onLine) for (const line of lines[name].push(chunk)) options.onLine(line, name);
      });
    };
    wire('stdout', stdout);
    wire('stderr', stderr);

    if (options.input !== undefined) proc.stdin!.end(options.input);
    proc.stdin?.on('error', () => {}); // EPIPE when the child exits before reading: not our failure.

    proc.on('error', (error) => {
      spawnError = error.message;
      exited = true;
      void finish(null, null);
    });
    let linger: NodeJS.Timeout | undefined;
    proc.on('exit', () => {
      exited = true;
      // A grandchild may hold the pipes open: give it a moment, then close them; finish() kills the group.
      linger = setTimeout(() => {
        proc.stdout?.destroy();
        proc.stderr?.destroy();
      }, 1000);
      linger.unref();
    });
    proc.on('close', (code, signal) => {
      if (linger) clearTimeout(linger);
      if (options.onLine) {
        for (const name of ['stdout', 'stderr'] as const) {
          const rest = lines[name].flush();
          if (rest !== null) options.onLine(rest, name);
        }
      }
      void finish(code, signal);
    });
  });

  const child: Child = {
    pid,
    argv,
    stdin: options.keepStdin && proc ? proc.stdin : null,
    result,
    signalGroup,
    terminate(signal = firstSignal) {
      if (!exited) {
        canceled = true;
        escalate(signal);
      }
      return result;
    },
  };
  if (pid !== undefined) live.add(child);
  return child;
}

/** The last `lines` lines a child printed (stderr, or stdout when stderr is empty), joined by `separator`: the "why" of a failure. */
export function outputTail(r: Pick<ExecResult, 'stdout' | 'stderr'>, lines = 1, separator = ' | '): string {
  const text = r.stderr.trim() || r.stdout.trim();
  return text ? text.split('\n').slice(-lines).join(separator) : '';
}

/** Shutdown: SIGTERM every child still running, SIGKILL what is left after `graceMs`. */
export async function terminateAllChildren(graceMs = 500): Promise<void> {
  const children = [...live];
  for (const c of children) c.signalGroup('SIGTERM');
  const all = Promise.all(children.map((c) => c.result));
  const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
  if ((await Promise.race([all.then(() => 'done'), timer])) !== 'done') {
    for (const c of children) c.signalGroup('SIGKILL');
    await all;
  }
}

/** Synchronous last resort for process 'exit': SIGKILL every group still registered. */
export function killAllChildrenNow(): void {
  for (const c of live) c.signalGroup('SIGKILL');
}

export function liveChildCount(): number {
  return live.size;
}

const RUSAGE_MARK = 'tuneloop-rusage';

function readRusage(file: string): ResourceUsage | null {
  try {
    const m = new RegExp(`^${RUSAGE_MARK} ([\\d.]+) ([\\d.]+) (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? { user_s: Number(m[1]), sys_s: Number(m[2]), max_rss_kib: Number(m[3]) } : null;
  } catch {
    return null;
  } finally {
    rmSync(file, { force: true });
  }
}

function buildEnv(options: ExecOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = options.replaceEnv ? {} : { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Keeps the first and last `limit/2` bytes of a stream and counts what fell in between. */
class CappedBuffer {
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
    if (!this.dropped) return head + tail;
    return `${head}\n[... ${this.dropped} bytes omitted by tuneloop ...]\n${tail}`;
  }
}

/** Splits a byte stream into lines; a line longer than MAX_LINE is cut (the rest is still captured). */
class LineSplitter {
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
