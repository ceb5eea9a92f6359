/**
 * Servers as users meet them: a process spoken to over stdio by the SDK client, with its pid for
 * /proc readings; and the two sides of a ratio measured alternately, so drift of a shared machine
 * lands on both.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const CLI = resolve(import.meta.dirname, '../dist/cli.js');
export const ECHO = resolve(import.meta.dirname, 'echo-server.mjs');

export interface StdioServer {
  client: Client;
  pid: number;
  close(): Promise<void>;
}

export async function startStdio(args: string[], env: Record<string, string> = {}): Promise<StdioServer> {
  const transport = new StdioClientTransport({ command: process.execPath, args, env: { ...process.env, ...env } as Record<string, string> });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  await client.listTools();
  return { client, pid: transport.pid!, close: () => client.close() };
}

/** Milliseconds per call, one after another. */
export async function latencies(client: Client, name: string, args: Record<string, unknown>, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    const r = await client.callTool({ name, arguments: args });
    out.push(performance.now() - t);
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  }
  return out;
}

/** Run `a` and `b` alternately `rounds` times (a b a b ...), collecting what each returns. */
export async function alternate<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < rounds; i++) {
    out.a.push(await a());
    out.b.push(await b());
  }
  return out;
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, USER_HZ 100). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A process's peak resident set (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return Math.round(kb / 102.4) / 10;
}

export function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
