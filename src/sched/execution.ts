/**
 * One scheduler execution: the guard process (which runs the scheduler), its output, and what the
 * kernel says about it. The execution watches three signals, because each can be the first to
 * show that a scheduler is gone: the process exiting, `state` leaving `enabled` (or `root/ops` no
 * longer naming it), and `enable_seq` moving (an ejection followed by a reload between two polls).
 */
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { Config } from '../core/config.js';
import type { Child, ExecResult } from '../core/exec.js';
import { spawnChild } from '../core/exec.js';
import type { Store } from '../core/store.js';
import { isProcessAlive, readText } from '../core/proc.js';
import { opsMatches, pollSchedExt, readSchedExt } from './sysfs.js';
import { saveExecution, type ExecutionRow } from './store.js';

export const EXECUTION_STATUSES = ['starting', 'running', 'failed', 'exited', 'ejected', 'stopped', 'orphaned'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export type StoppedBy = 'client' | 'watchdog' | 'shutdown' | 'replace' | 'guard' | 'verification' | 'benchmark';

export interface ExecutionSpec {
  id: string;
  scheduler: string;
  kind: 'catalog' | 'custom';
  binary: string;
  args: string[];
  /** The ops name root/ops must show (a version suffix is allowed). */
  expectedOps: string;
  privilege: 'root' | 'sudo';
  /** argv prefix for the privilege path ([] as root). */
  prefix: string[];
  guard: string;
  maxDurationS: number;
  logPath: string;
}

const TAIL_LINES = 200;
const MONITOR_MS = 200;
const TERM_GRACE_MS = 3000;
/** A process still alive this long after its scheduler was detached counts as ejected. */
const LINGER_MS = 2000;
const GUARD_PREFIX = 'tuneloop-guard: ';
/** Kernel exit kinds (scx_exit_kind) that mean the kernel, not the scheduler's user, ended it. */
const KERNEL_EXIT = /runnable task stall|failed to run for|scx_bpf_error|sysrq|watchdog|invalid|error|BPF scheduler/i;

export class Execution {
  status: ExecutionStatus = 'starting';
  stoppedBy: StoppedBy | null = null;
  pid: number | null = null;
  attachedAt: number | null = null;
  endedAt: number | null = null;
  exitReason: string | null = null;
  exitCode: number | null = null;
  readonly startedAt = Date.now();
  readonly events: string[] = [];
  private readonly tail: string[] = [];
  private child: Child | null = null;
  private exited = false;
  private stopping = false;
  /** When the kernel first showed it detached while it ran (null: attached). */
  private detachedAt: number | null = null;
  private exitKind: number | null = null;
  private lastSeq: number | null = null;
  private monitor: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Resolves when the process is gone and the final status is set. */
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ExecutionSpec,
    private readonly config: Config,
    private readonly store: Store,
  ) {}

  /** Start the guard and wait for the kernel to show the scheduler attached (or give up). */
  async start(attachTimeoutMs: number, onStop: (by: StoppedBy) => void): Promise<void> {
    const before = readSchedExt(this.config);
    this.event(`starting ${[this.spec.binary, ...this.spec.args].join(' ')} via ${this.spec.privilege}`);
    this.persist();
    const argv = [...this.spec.prefix, this.spec.guard, '--term-grace-ms', String(TERM_GRACE_MS), '--', this.spec.binary, ...this.spec.args];
    this.child = spawnChild(argv, {
      keepStdin: true,
      // The watchdog stops it at max_duration_s; this is only the backstop if everything else failed.
      timeoutMs: (this.spec.maxDurationS + 120) * 1000,
      logFile: this.spec.logPath,
      maxOutputBytes: 256 * 1024,
      onLine: (line) => this.onLine(line),
    });
    this.done = this.child.result.then((r) => this.onExit(r));

    const { state, reached } = await pollSchedExt(
      this.config,
      (s) => s.state === 'enabled' && opsMatches(s.ops, this.spec.expectedOps) && (before.enable_seq === null || s.enable_seq === null || s.enable_seq > before.enable_seq),
      attachTimeoutMs,
      { stopEarly: () => this.exited },
    );
    if (!reached) {
      if (!this.exited) {
        this.event(`not attached after ${attachTimeoutMs / 1000}s (state ${state.state}, root/ops ${state.ops ?? 'absent'}); stopping it`);
        await this.stop(2000, null);
      }
      await this.done;
      this.status = 'failed';
      this.exitReason ??= this.exited ? 'the scheduler exited before it attached' : 'it did not attach in time';
      this.persist();
      return;
    }
    if (this.exited) return; // attached and gone again before this poll: onExit reported it failed
    this.status = 'running';
    this.attachedAt = Date.now();
    this.lastSeq = state.enable_seq;
    this.event(`attached: state ${state.state}, root/ops ${state.ops}, enable_seq ${state.enable_seq}`);
    this.persist();
    this.monitor = setInterval(() => this.check(), MONITOR_MS);
    this.monitor.unref();
    this.watchdog = setTimeout(() => {
      this.event(`watchdog: max_duration_s=${this.spec.maxDurationS} reached, stopping`);
      onStop('watchdog');
    }, this.spec.maxDurationS * 1000);
    this.watchdog.unref();
  }

  get live(): boolean {
    return !this.exited;
  }

  /** Ask the guard to stop the scheduler (SIGINT, then escalate) and wait for the process to end. */
  async stop(graceMs: number, by: StoppedBy | null): Promise<void> {
    if (this.exited) return this.done;
    if (by && !this.stoppedBy) this.stoppedBy = by;
    this.stopping = true;
    this.event(`stop requested${by ? ` (${by})` : ''}, grace ${graceMs} ms`);
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed) {
      stdin.write(`stop ${Math.round(graceMs)}\n`);
      stdin.end();
    }
    // The guard escalates to SIGKILL on its own; this bound only protects against a dead guard.
    const bound = new Promise<void>((resolve) => setTimeout(resolve, graceMs + TERM_GRACE_MS + 10_000).unref());
    await Promise.race([this.done, bound]);
    if (!this.exited) {
      this.event('the guard did not finish in time; terminating it');
      await this.child?.terminate('SIGTERM');
      await this.done;
    }
  }

  outputTail(lines: number): string[] {
    return this.tail.slice(-lines);
  }

  row(): ExecutionRow {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      id: this.spec.id,
      scheduler: this.spec.scheduler,
      kind: this.spec.kind,
      args: this.spec.args,
      binary: this.spec.binary,
      privilege: this.spec.privilege,
      expected_ops: this.spec.expectedOps,
      pid: this.pid,
      status: this.status,
      stopped_by: this.stoppedBy,
      started_at: new Date(this.startedAt).toISOString(),
      attached_at: iso(this.attachedAt),
      ended_at: iso(this.endedAt),
      max_duration_s: this.spec.maxDurationS,
      exit_reason: this.exitReason,
      exit_code: this.exitCode,
      output_tail: this.outputTail(40),
      events: this.events.slice(-40),
      log_path: this.spec.logPath,
      owner_host: hostname(),
      owner_pid: process.pid,
    };
  }

  private persist(): void {
    // A guard can outlive a shutting-down server's store by a moment; the row is then final already.
    if (this.store.db.open) saveExecution(this.store, this.row());
  }

  private event(message: string): void {
    this.events.push(`${new Date().toISOString()} ${message}`);
    if (this.events.length > TAIL_LINES) this.events.shift();
  }

  private onLine(line: string): void {
    if (line.startsWith(GUARD_PREFIX)) {
      const text = line.slice(GUARD_PREFIX.length);
      const started = /^started pid=(\d+)/.exec(text);
      if (started) this.pid = Number(started[1]);
      else if (/^refusing under sudo|^cannot execute/.test(text)) this.exitReason = `guard: ${text}`;
      if (!/^scheduler exited/.test(text)) this.event(`guard: ${text}`);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    const exit = /EXIT: (.+)$/.exec(line);
    if (exit) {
      this.exitReason = exit[1].trim();
      const kind = /\[kind=(\d+)/.exec(exit[1]);
      if (kind) this.exitKind = Number(kind[1]);
    }
  }

  /**
   * Monitor tick: is the scheduler still the one attached? The kernel shows it detached a moment
   * before its process exits even when the scheduler leaves on its own (it closes its link first),
   * so a detach is only an ejection if the exit reason says the kernel did it, or if the process
   * lingers on without its scheduler.
   */
  private check(): void {
    if (this.exited || this.stopping) return;
    const s = readSchedExt(this.config);
    const ours = s.state === 'enabled' && opsMatches(s.ops, this.spec.expectedOps);
    if (!ours && this.detachedAt === null) {
      this.detachedAt = Date.now();
      this.event(`the kernel shows it detached: state ${s.state}, root/ops ${s.ops ?? 'absent'}, enable_seq ${s.enable_seq} (was ${this.lastSeq})`);
      this.persist();
    } else if (!ours && this.status === 'running' && Date.now() - this.detachedAt! > LINGER_MS) {
      this.status = 'ejected';
      this.event(`ejected: detached for ${LINGER_MS / 1000}s while its process still runs`);
      this.persist();
    } else if (ours && this.detachedAt !== null) {
      this.detachedAt = null;
      this.status = 'running';
      this.event(`re-attached: root/ops ${s.ops}, enable_seq ${s.enable_seq}`);
      this.persist();
    } else if (ours && this.lastSeq !== null && s.enable_seq !== null && s.enable_seq !== this.lastSeq) {
      this.event(`enable_seq moved ${this.lastSeq} -> ${s.enable_seq}: the scheduler was ejected and re-attached between polls`);
      this.persist();
    }
    if (s.enable_seq !== null) this.lastSeq = s.enable_seq;
  }

  private onExit(r: ExecResult): void {
    this.exited = true;
    this.endedAt = Date.now();
    clearInterval(this.monitor);
    clearTimeout(this.watchdog);
    this.exitCode = r.exitCode ?? (r.signal ? 128 : null);
    if (r.spawnError) this.exitReason = `could not start: ${r.spawnError}`;
    const kernelSide = this.endedOnKernelSide();
    if (this.status === 'starting') {
      this.status = 'failed';
    } else if (this.status === 'ejected' || (kernelSide && (!this.stoppedBy || this.detachedAt !== null))) {
      // Ejected stays ejected when it is stopped afterwards: that is what happened to it.
      this.status = 'ejected';
    } else if (this.stoppedBy) {
      this.status = 'stopped';
    } else {
      // Detached by the kernel without a word, or left on its own.
      this.status = this.detachedAt !== null && this.exitReason === null ? 'ejected' : 'exited';
    }
    this.event(`process ended: ${r.exitCode !== null ? `exit ${r.exitCode}` : `signal ${r.signal}`}; status ${this.status}`);
    this.persist();
  }

  private endedOnKernelSide(): boolean {
    if (this.exitKind !== null) return this.exitKind >= 1024 || this.exitKind === 66 || this.exitKind === 67; // ERROR*, UNREG_KERN, SYSRQ
    return this.exitReason !== null && KERNEL_EXIT.test(this.exitReason) && !/unregistered from (user space|BPF)/i.test(this.exitReason);
  }
}

/**
 * What can be known about an execution whose server died without recording its end: whether its
 * scheduler's pid still runs that binary, and what sched_ext's sysfs shows. Only that is said:
 * nothing here saw the scheduler stop, so nothing claims who stopped it.
 */
export function orphanFinding(row: ExecutionRow, config: Config, now = new Date()): { reason: string; endedAt: string | null } {
  const state = readSchedExt(config);
  const attached = state.state === 'enabled' && opsMatches(state.ops, row.expected_ops);
  let pidText: string;
  let pidRuns = false;
  if (row.pid === null) pidText = 'its scheduler pid was never reported';
  else if (!isProcessAlive(row.pid)) pidText = `scheduler pid ${row.pid} is not running`;
  else {
    const cmdline = (readText(join(config.procRoot, String(row.pid), 'cmdline')) ?? '').split('\0').filter(Boolean);
    pidRuns = cmdline.some((arg) => basename(arg) === basename(row.binary));
    pidText = pidRuns ? `scheduler pid ${row.pid} is still running ${basename(row.binary)}` : `pid ${row.pid} is alive but runs ${cmdline[0] ?? 'an unreadable command'}, not ${basename(row.binary)}`;
  }
  const sysfs = !state.supported
    ? 'the kernel shows no sched_ext'
    : `sched_ext state ${state.state ?? 'unreadable'}, root/ops ${state.ops ?? 'absent'}${attached ? ` (this execution's ${row.expected_ops})` : ''}`;
  const running = pidRuns || attached;
  const reason =
    `The server that started it (pid ${row.owner_pid}) ended without recording how this execution ended. ` +
    `Checked at ${now.toISOString()} by pid ${process.pid}: ${pidText}; ${sysfs}.` +
    (running ? ' It may still be attached and nothing supervises it: stop it with kill -INT on its pid (or SysRq-S).' : '');
  return { reason, endedAt: running ? null : now.toISOString() };
}
