/**
 * MCP resources for Triton jobs: the profiler's Chrome trace and operator table of any
 * triton_profile / triton_verify {profile: true} job.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { TABLE_URI_TEMPLATE, TRACE_URI_TEMPLATE, profileDir } from './profile-paths.js';

const MAX_TRACE_BYTES = 16 << 20;

export function registerTritonResources(server: McpServer, runtime: Runtime): void {
  const file = (jobId: string, name: string): string => {
    const path = join(profileDir(runtime.jobs.dirOf(jobId)), name);
    if (!existsSync(path)) throw new UserError(`Job ${jobId} has no profile.`, 'Run triton_profile, or triton_verify with profile: true.');
    return path;
  };
  const list = (suffix: string) => () => {
    const rows = runtime.store.db
      .prepare("SELECT id, kind FROM jobs WHERE kind IN ('triton_profile', 'triton_verify') AND status = 'succeeded' ORDER BY created_at DESC LIMIT 50")
      .all() as { id: string; kind: string }[];
    return {
      resources: rows
        .filter((r) => existsSync(join(profileDir(runtime.jobs.dirOf(r.id)), suffix === 'trace' ? 'trace.json' : 'table.txt')))
        .map((r) => ({ uri: (suffix === 'trace' ? TRACE_URI_TEMPLATE : TABLE_URI_TEMPLATE).replace('{job_id}', r.id), name: `${r.id} ${r.kind} ${suffix}` })),
    };
  };
  server.registerResource(
    'triton-trace',
    new ResourceTemplate(TRACE_URI_TEMPLATE, { list: list('trace') }),
    { title: 'Triton profiler trace', description: 'Chrome trace (torch.profiler) of a triton_profile or triton_verify job: open in Perfetto or chrome://tracing.', mimeType: 'application/json' },
    (uri, { job_id }) => {
      const path = file(String(job_id), 'trace.json');
      const size = statSync(path).size;
      if (size > MAX_TRACE_BYTES) throw new UserError(`The trace is ${(size / 2 ** 20).toFixed(1)} MiB, above the ${MAX_TRACE_BYTES >> 20} MiB a resource returns.`, `Read it from ${path}, or profile fewer steps.`);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: readFileSync(path, 'utf8') }] };
    },
  );
  server.registerResource(
    'triton-profile-table',
    new ResourceTemplate(TABLE_URI_TEMPLATE, { list: list('table') }),
    { title: 'Triton profiler table', description: 'The operator table (key_averages) of a triton_profile or triton_verify job.', mimeType: 'text/plain' },
    (uri, { job_id }) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: readFileSync(file(String(job_id), 'table.txt'), 'utf8') }] }),
  );
}
