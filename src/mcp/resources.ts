/**
 * MCP resources: large artifacts tools point to instead of inlining them.
 * - tuneloop://jobs/{job_id}/log: a job's full log (the last 1 MiB of it).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Runtime } from '../core/runtime.js';
import { readTailText } from '../core/proc.js';
import { registerTritonResources } from '../triton/resources.js';

const MAX_RESOURCE_BYTES = 1 << 20;

export function registerResources(server: McpServer, runtime: Runtime): void {
  server.registerResource(
    'job-log',
    new ResourceTemplate('tuneloop://jobs/{job_id}/log', {
      list: () => {
        const rows = runtime.store.db.prepare('SELECT id, kind, status FROM jobs ORDER BY created_at DESC LIMIT 50').all() as { id: string; kind: string; status: string }[];
        return {
          resources: rows.map((r) => ({ uri: `tuneloop://jobs/${r.id}/log`, name: `${r.id} ${r.kind} (${r.status})`, mimeType: 'text/plain' })),
        };
      },
    }),
    { title: 'Job log', description: 'The full output log of a tuneloop job (its last 1 MiB).', mimeType: 'text/plain' },
    (uri, { job_id }) => {
      const { text, omitted } = readTailText(runtime.jobs.get(String(job_id)).log_path, MAX_RESOURCE_BYTES);
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: omitted ? `[... ${omitted} earlier bytes omitted ...]\n${text}` : text }] };
    },
  );
  registerTritonResources(server, runtime);
}
