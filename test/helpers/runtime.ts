import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createServer, type TuneloopServer } from '../../src/server.js';
import { tempDir } from './tmp.js';

/** A test config: a fresh data dir, the real /proc and /sys unless overridden. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({}, { PATH: process.env.PATH, TUNELOOP_HOME: tempDir(), ...env });
}

/** A server linked to a client in memory: fast, same code path as stdio minus the transport. */
export async function connectInMemory(env: Record<string, string> = {}): Promise<{ client: Client; server: TuneloopServer; call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult> }> {
  const server = createServer(testConfig(env));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.server.connect(serverSide);
  const client = new Client({ name: 'test', version: '0' });
  await client.connect(clientSide);
  await client.listTools(); // caches output schemas: the client then validates every structuredContent
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  return { client, server, call };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
