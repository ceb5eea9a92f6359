/**
 * MCP resources: large artifacts and full texts tools point to instead of inlining them. Each
 * domain's resources are registered only when its toolset is enabled (knowledge, the scheduler
 * catalog and job logs always):
 * - tuneloop://jobs/{job_id}/log: a job's full log (the last 1 MiB of it);
 * - tuneloop://knowledge/{path}, tuneloop://schedulers/{name}, tuneloop://archives/{archive}/{file}
 *   (file-resources.ts);
 * - tuneloop://workloads/{id}, tuneloop://runs/{id}, tuneloop://rules/{id} (history-resources.ts);
 * - Triton profiler traces and tables (triton/resources.ts).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Runtime } from '../core/runtime.js';
import { readTailText } from '../core/proc.js';
import { registerTritonResources } from '../triton/resources.js';
import { registerArchiveResources, registerKnowledgeResources, registerSchedulerResources } from './file-resources.js';
import { registerHistoryResources } from './history-resources.js';

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
  // Knowledge and the scheduler catalog are reference text (search_knowledge points into both).
  registerKnowledgeResources(server);
  registerSchedulerResources(server);
  const enabled = runtime.config.toolsets;
  if (enabled.includes('history')) registerHistoryResources(server, runtime);
  if (enabled.includes('triton')) {
    registerArchiveResources(server, runtime);
    registerTritonResources(server, runtime);
  }
}
