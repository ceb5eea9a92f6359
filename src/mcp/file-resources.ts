/**
 * Resources backed by files and tables shipped with tuneloop or kept in the data dir:
 * - tuneloop://knowledge/{path}: the guides and tables under knowledge/ (markdown, JSON);
 * - tuneloop://schedulers/{name}: one scheduler of the catalog, as JSON;
 * - tuneloop://archives/{archive}/{file}: a file of a Triton experiment bundle.
 * Large files are paged (see paging.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { KNOWLEDGE_DIR } from '../learn/knowledge/sources.js';
import { findCatalogScheduler, loadCatalog } from '../sched/catalog.js';
import { fileInside, mimeType, readFilePage, relativeUriPath, splitOffset } from './paging.js';

const MAX_LISTED = 200;

function walkFiles(root: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (out.length >= limit) return;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(path);
      else if (st?.isFile()) out.push(path);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

export function registerKnowledgeResources(server: McpServer): void {
  server.registerResource(
    'knowledge',
    new ResourceTemplate('tuneloop://knowledge/{+path}', {
      list: () => ({
        resources: walkFiles(KNOWLEDGE_DIR, MAX_LISTED).map((path) => {
          const rel = relativeUriPath(KNOWLEDGE_DIR, path);
          return { uri: `tuneloop://knowledge/${rel}`, name: rel, mimeType: mimeType(path), size: statSync(path).size };
        }),
      }),
    }),
    { title: 'Knowledge', description: 'Guides (markdown) and tables (JSON) under knowledge/: what search_knowledge finds. Large files are paged: ?offset=N.' },
    (uri, { path }) => {
      const { path: rel, offset } = splitOffset(String(path));
      return { contents: [readFilePage(fileInside(KNOWLEDGE_DIR, rel), `tuneloop://knowledge/${rel}`, offset)] };
    },
  );
}

export function registerSchedulerResources(server: McpServer): void {
  server.registerResource(
    'scheduler',
    new ResourceTemplate('tuneloop://schedulers/{name}', {
      list: () => ({ resources: loadCatalog().schedulers.map((s) => ({ uri: `tuneloop://schedulers/${s.name}`, name: s.name, description: s.purpose, mimeType: 'application/json' })) }),
    }),
    { title: 'Scheduler', description: 'One scheduler of the catalog: purpose, algorithm, use cases, limitations, status and every flag.', mimeType: 'application/json' },
    (uri, { name }) => {
      const catalog = loadCatalog();
      const entry = findCatalogScheduler(catalog, String(name));
      if (!entry) throw new UserError(`No scheduler "${String(name)}" in the catalog.`, 'List them with resources/list or list_schedulers.');
      const body = { ...entry, scx_version: catalog.scx_version, scx_commit: catalog.scx_commit };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );
}

export function registerArchiveResources(server: McpServer, runtime: Runtime): void {
  const root = join(runtime.config.home, 'archives');
  server.registerResource(
    'archive-file',
    new ResourceTemplate('tuneloop://archives/{archive}/{+file}', {
      list: () => {
        const archives = existsSync(root) ? readdirSync(root).sort().reverse().slice(0, 20) : [];
        return {
          resources: archives.flatMap((a) =>
            walkFiles(join(root, a), 50).map((path) => ({ uri: `tuneloop://archives/${a}/${relativeUriPath(join(root, a), path)}`, name: `${a}/${relativeUriPath(join(root, a), path)}`, mimeType: mimeType(path) })),
          ),
        };
      },
    }),
    { title: 'Experiment archive file', description: 'A file of a Triton experiment bundle (candidate code, metrics.json, profiler output, versions). Large files are paged: ?offset=N.' },
    (uri, { archive, file }) => {
      const { path: rel, offset } = splitOffset(String(file));
      const name = String(archive);
      if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new UserError(`Invalid archive name "${name}".`, 'Use a URI from resources/list.');
      if (!existsSync(join(root, name))) throw new UserError(`No archive "${name}".`, 'Use a URI from resources/list.');
      return { contents: [readFilePage(fileInside(join(root, name), rel), `tuneloop://archives/${name}/${rel}`, offset)] };
    },
  );
}
