/**
 * A long-lived harness process (the trusted one, or the candidate's in its sandbox) spoken to in
 * JSON lines: commands on its stdin, replies and events on its stdout (tlharness/protocol.py).
 * Started through core/exec like every child (contained, capped, logged), with or without a
 * sandbox.
 *
 * Everything read from a candidate's process is a claim: a line that is not a JSON object of the
 * protocol, a reply nobody asked for, or a second reply to one command is recorded as a channel
 * problem (the verdict flags it), never acted on.
 */
import type { Config } from '../core/config.js';
import { spawnChild, type Child, type ExecResult } from '../core/exec.js';
import type { SandboxSpec } from '../core/sandbox.js';
import { HARNESS_PATH } from './harness.js';

export type Reply = Record<string, any>;

export interface SessionOptions {
  /** Upper bound for the whole process (each request has its own, shorter one). */
  timeoutMs: number;
  signal?: AbortSignal;
  logFile?: string;
  /** The candidate's process: run it in this sandbox. */
  sandbox?: SandboxSpec;
  /** Environment for an unsandboxed (trusted) process, added over the server's. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Audit and stage events, as they arrive. */
  onEvent?: (event: Reply) => void;
}

/** Why a request got no reply. */
export class SessionEnded extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'exited',
  ) {
    super(message);
  }
}

const MAX_PROBLEMS = 20;

export class HarnessSession {
  readonly child: Child;
  readonly result: Promise<ExecResult>;
  /** Channel problems: lines that were not the protocol's. */
  readonly problems: string[] = [];
  /** A request ran past its deadline (the process was killed for it). */
  timedOut = false;
  /** The harness's error document, when it failed ({"ok": false, "error": ...}). */
  harnessError: { kind: string; message: string; remedy: string | null } | null = null;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly answered = new Set<number>();
  private readonly events: Reply[] = [];
  private eventWaiter: ((event: Reply) => void) | null = null;
  private nextId = 1;
  private ended: ExecResult | null = null;
  private readonly endWaiters = new Set<() => void>();

  constructor(
    config: Config,
    readonly phase: 'trusted' | 'candidate',
    args: string[],
    private readonly options: SessionOptions,
  ) {
    this.child = spawnChild([config.python, HARNESS_PATH, phase, ...args], {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      logFile: options.logFile,
      keepStdin: true,
      maxOutputBytes: 4 << 20,
      ...(options.sandbox ? { sandbox: options.sandbox } : { env: options.env, cwd: options.cwd }),
      onLine: (line, stream) => {
        if (stream === 'stdout') this.onLine(line);
      },
    });
    this.result = this.child.result.then((r) => {
      this.ended = r;
      for (const wake of this.endWaiters) wake();
      return r;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The next `{"event": name}` line (ready, stage...), within timeoutMs. */
  async event(name: string, timeoutMs: number): Promise<Reply> {
    return this.wait<Reply>(timeoutMs, `the ${name} event`, (resolve) => {
      const take = (): boolean => {
        const index = this.events.findIndex((e) => e.event === name);
        if (index < 0) return false;
        resolve(this.events.splice(index, 1)[0]);
        return true;
      };
      if (take()) return () => {};
      this.eventWaiter = () => void take();
      return () => {
        this.eventWaiter = null;
      };
    });
  }

  /** Send a command; its reply, within timeoutMs (the process is killed on timeout). */
  async request(cmd: string, body: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    const id = this.nextId++;
    return this.wait<Reply>(timeoutMs, `the reply to ${cmd}`, (resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin?.write(`${JSON.stringify({ id, cmd, ...body })}\n`);
      return () => this.waiting.delete(id);
    });
  }

  /** Ask it to exit; killed when it does not within graceMs. */
  async close(graceMs = 5000): Promise<ExecResult> {
    if (!this.ended) {
      this.child.stdin?.write(`${JSON.stringify({ cmd: 'exit' })}\n`);
      this.child.stdin?.end();
      const timer = setTimeout(() => void this.child.terminate('SIGKILL'), graceMs);
      const r = await this.result;
      clearTimeout(timer);
      return r;
    }
    return this.result;
  }

  /** Kill it now (timeouts, cancel, or a verdict already decided). */
  kill(): Promise<ExecResult> {
    return this.child.terminate('SIGKILL');
  }

  private wait<T>(timeoutMs: number, what: string, start: (resolve: (value: T) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let cleanup = (): void => {};
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        this.endWaiters.delete(onEnd);
        cleanup();
        fn();
      };
      const onEnd = (): void => {
        const why = this.harnessError ? `; it said: ${this.harnessError.kind}: ${this.harnessError.message}` : '';
        finish(() => reject(new SessionEnded(`the ${this.phase} process ended (${describeEnd(this.ended!)}) before ${what}${why}`, 'exited')));
      };
      const timer = setTimeout(() => {
        this.timedOut = true;
        finish(() => reject(new SessionEnded(`${what} did not come from the ${this.phase} process within ${(timeoutMs / 1000).toFixed(1)} s`, 'timeout')));
        void this.kill();
      }, timeoutMs);
      cleanup = start((value) => finish(() => resolve(value)));
      if (this.ended) onEnd();
      else this.endWaiters.add(onEnd);
    });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      this.problem(`a line that is not JSON: ${line.slice(0, 120)}`);
      return;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return this.problem(`a line that is not a JSON object: ${line.slice(0, 120)}`);
    const d = doc as Reply;
    if (typeof d.event === 'string') {
      this.options.onEvent?.(d);
      if (d.event !== 'audit') {
        this.events.push(d);
        this.eventWaiter?.(d);
      }
      return;
    }
    if (typeof d.reply === 'number') {
      const resolve = this.waiting.get(d.reply);
      if (!resolve || this.answered.has(d.reply)) return this.problem(`a reply to command ${d.reply}, which ${this.answered.has(d.reply) ? 'was already answered' : 'was never sent'}`);
      this.answered.add(d.reply);
      resolve(d);
      return;
    }
    // The final one-document result ({"ok": ...}) after exit is expected; anything else is not.
    if (typeof d.ok !== 'boolean') this.problem(`an object that is neither a reply nor an event: ${line.slice(0, 120)}`);
    else if (!d.ok && d.error && typeof d.error === 'object') this.harnessError = d.error as HarnessSession['harnessError'];
  }

  private problem(text: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(text);
  }
}

export function describeEnd(r: ExecResult): string {
  if (r.spawnError) return `it could not start: ${r.spawnError}`;
  if (r.timedOut) return `it ran past its ${Math.round(r.durationMs / 1000)} s limit`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
