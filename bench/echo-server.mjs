// Baseline for the server benchmarks: a bare SDK stdio server with one echo tool.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'echo', version: '0' });
server.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() }, outputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
  structuredContent: { text },
}));
process.stdin.on('end', () => process.exit(0));
await server.connect(new StdioServerTransport());
