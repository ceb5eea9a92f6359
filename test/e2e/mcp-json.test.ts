/**
 * The repository's .mcp.json, started the way a client starts it: its command and args verbatim, from
 * a subdirectory (a client whose working directory is not the repo root), with the environment a
 * client that does not expand ${VAR:-default} would pass.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('.mcp.json', () => {
  it('starts the server from a subdirectory, with an unexpanded placeholder in the environment', async () => {
    const entry = JSON.parse(readFileSync(resolve(ROOT, '.mcp.json'), 'utf8')).mcpServers.tuneloop as { command: string; args: string[]; env?: Record<string, string> };
    expect(entry.env ?? {}).toEqual({}); // nothing that needs expanding
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      cwd: resolve(ROOT, 'test/e2e'),
      env: { ...(process.env as Record<string, string>), TUNELOOP_HOME: tempDir(), TUNELOOP_TOOLSETS: '${TUNELOOP_TOOLSETS:-all}' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'mcp-json', version: '0' });
    try {
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['system_snapshot', 'run_scheduler', 'nccl_params', 'triton_verify', 'get_history']));
      expect(stderr).toContain('a placeholder the MCP client did not expand');
    } finally {
      await client.close();
    }
  });
});
