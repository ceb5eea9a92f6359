/**
 * Resources over history, as JSON:
 * - tuneloop://workloads/{id}: a workload, its best configs and its recent runs;
 * - tuneloop://runs/{id}: one run with its full context;
 * - tuneloop://rules/{id}: one rule with its context, patch and evidence.
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { configAggregates, queryRuns, selectRuns } from '../learn/runs.js';
import { findWorkload, listWorkloads } from '../learn/workloads.js';
import { getRule, listRules } from '../learn/rules/store.js';

const LISTED = 50;

const json = (uri: URL, body: unknown) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] });

function idOf(raw: unknown, what: string): number {
  const text = String(raw);
  if (!/^\d{1,15}$/.test(text)) throw new UserError(`"${text}" is not a ${what} id.`, `Use a URI from resources/list, e.g. tuneloop://${what}s/1.`);
  return Number(text);
}

export function registerHistoryResources(server: McpServer, runtime: Runtime): void {
  const store = runtime.store;
  server.registerResource(
    'workload',
    new ResourceTemplate('tuneloop://workloads/{id}', {
      list: () => ({ resources: listWorkloads(store, { limit: LISTED, offset: 0 }).map((w) => ({ uri: `tuneloop://workloads/${w.id}`, name: w.name, description: w.description || undefined, mimeType: 'application/json' })) }),
    }),
    { title: 'Workload', description: 'A workload with its best configs (per-config aggregates) and its 20 most recent runs.', mimeType: 'application/json' },
    (uri, { id }) => {
      const workload = findWorkload(store, idOf(id, 'workload'));
      const best_configs = configAggregates(store, { workload_id: workload.id }, 20);
      const recent_runs = queryRuns(store, { workload_id: workload.id, sort: 'time', limit: 20, offset: 0 }).runs.map(({ context: _context, ...run }) => run);
      return json(uri, { workload, best_configs, recent_runs });
    },
  );
  server.registerResource(
    'run',
    new ResourceTemplate('tuneloop://runs/{id}', {
      list: () => ({
        resources: queryRuns(store, { sort: 'time', limit: LISTED, offset: 0 }).runs.map((r) => ({ uri: `tuneloop://runs/${r.id}`, name: `run ${r.id} ${r.domain} ${r.primary_metric}=${r.primary_value ?? 'n/a'} [${r.status}]`, mimeType: 'application/json' })),
      }),
    }),
    { title: 'Run', description: 'One measured run: config, metrics, context (host, kernel, GPUs, versions), status, job.', mimeType: 'application/json' },
    (uri, { id }) => {
      const [run] = selectRuns(store, { run_ids: [idOf(id, 'run')] }, 1);
      if (!run) throw new UserError(`No run ${String(id)}.`, 'Find run ids with get_history.');
      return json(uri, run);
    },
  );
  server.registerResource(
    'rule',
    new ResourceTemplate('tuneloop://rules/{id}', {
      list: () => ({ resources: listRules(store, { limit: LISTED, offset: 0 }).rules.map((r) => ({ uri: `tuneloop://rules/${r.id}`, name: `rule ${r.id} (${r.domain}) ${JSON.stringify(r.patch)}`.slice(0, 200), mimeType: 'application/json' })) }),
    }),
    { title: 'Rule', description: 'A tuning rule: where it applies, the patch, its gain, confidence and evidence run ids.', mimeType: 'application/json' },
    (uri, { id }) => json(uri, getRule(store, idOf(id, 'rule'))),
  );
}
