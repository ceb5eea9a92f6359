/**
 * The MCP client transport of `tuneloop call`: `tuneloop serve --keep-jobs` as a child in its own
 * session, spoken to over stdio. Unlike the SDK's StdioClientTransport it can leave the server
 * behind: when `call` stops following a job that is still running (--no-follow, --timeout), the
 * server keeps running that job and exits when it ends (serve --keep-jobs), so the job is not killed
 * with the command that started it. Its own session keeps a terminal's Ctrl-C (sent to the
 * foreground process group) from reaching it; `call` forwards interrupts as SIGTERM instead.
 *
 * Not core/exec.ts: that runner is for the bounded children of tools (timeouts, output caps, the
 * reaper); this is a peer process that may outlive its parent on purpose.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class ServerProcess implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcess | null = null;
  private readonly buffer = new ReadBuffer();
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly argv: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(this.argv[0], this.argv.slice(1), { env: this.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('close', () => this.onclose?.());
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stdin!.on('error', (error) => this.onerror?.(error));
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk);
        for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('The tuneloop server is not running.');
    if (!stdin.write(serializeMessage(message))) await new Promise((resolve) => stdin.once('drain', resolve));
  }

  /** End the session: the server stops once its jobs are done (at once when there are none); SIGTERM after 5 s, SIGKILL 2 s later. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.stdin?.end();
    if (!(await this.exitsWithin(5000))) this.terminate('SIGTERM');
    if (!(await this.exitsWithin(2000))) this.terminate('SIGKILL');
    this.child = null;
  }

  /** Stop the server now: it interrupts its jobs and detaches what it attached (SIGTERM), waiting up to 5 s. */
  async stop(): Promise<void> {
    if (!this.child) return;
    this.terminate('SIGTERM');
    if (!(await this.exitsWithin(5000))) this.terminate('SIGKILL');
    this.child = null;
  }

  /** Leave the server running its jobs: end its stdin, stop reading it, and let this process exit. */
  detach(): void {
    const child = this.child;
    if (!child) return;
    child.stdin?.end();
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
    this.child = null;
  }

  private terminate(signal: NodeJS.Signals): void {
    try {
      this.child?.kill(signal);
    } catch {
      // already gone
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }
}
