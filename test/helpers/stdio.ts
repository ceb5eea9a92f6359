/**
 * End-to-end harness: spawns the built `dist/cli.js serve` with real pipes and speaks MCP to it
 * through the SDK Client. Unlike the SDK's StdioClientTransport it records every raw stdout line,
 * so tests can assert that nothing but JSON-RPC ever reaches stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export class RecordingStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly stdoutLines: string[] = [];
  readonly badLines: string[] = [];
  stderr = '';
  child!: ChildProcess;
  private partial = '';

  constructor(private readonly args: string[], private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [CLI, ...this.args], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // Decode as a stream: a chunk boundary may split a multi-byte character.
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      const lines = (this.partial + d).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        this.stdoutLines.push(line);
        let message: JSONRPCMessage;
        try {
          message = JSONRPCMessageSchema.parse(JSON.parse(line));
        } catch {
          this.badLines.push(line);
          continue;
        }
        this.onmessage?.(message);
      }
    });
    this.child.on('close', () => this.onclose?.());
    this.child.on('error', (e) => this.onerror?.(e));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
  }

  /** Resolves with the exit code (or signal) once the server process is gone. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.resolve({ code: this.child.exitCode, signal: this.child.signalCode });
    }
    return new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }
}

export async function startStdioServer(args: string[] = ['serve'], env: Record<string, string | undefined> = {}) {
  const transport = new RecordingStdioTransport(args, { ...process.env, ...env });
  const client = new Client({ name: 'e2e', version: '0' });
  await client.connect(transport);
  return { client, transport };
}
