/**
 * MCP resources: large artifacts tools point to instead of inlining them.
 * - tuneloop://jobs/{job_id}/log: a job's full log (the last 1 MiB of it).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Runtime } from '../core/runtime.js';
import { UserError } from '../core/errors.js';
import { registerTritonResources } from '../triton/resources.js';

const MAX_RESOURCE_BYTES = 1 << 20;
const JOB_ID = /^job-[a-z0-9]+-[0-9a-f]+$/;

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
      const id = String(job_id);
      if (!JOB_ID.test(id)) throw new UserError(`"${id}" is not a job id.`, 'Use a job_id returned by a job-starting tool.');
      runtime.jobs.get(id); // throws a UserError for unknown ids
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: readTail(join(runtime.config.home, 'jobs', id, 'log'), MAX_RESOURCE_BYTES) }] };
    },
  );
  registerTritonResources(server, runtime);
}

/** The last `max` bytes of a file (all of it when smaller). */
export function readTail(path: string, max: number): string {
  const size = statSync(path).size;
  const length = Math.min(size, max);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString('utf8');
  return length < size ? `[... ${size - length} earlier bytes omitted ...]\n${text}` : text;
}
