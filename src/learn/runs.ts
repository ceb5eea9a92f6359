/**
 * Runs: one measured trial each. Every execution tool records its runs here (recordRun), and
 * `record_run` lets the client record anything else. A run's config is stored canonically with a
 * stable key so "the same config" is the same key across tools, sessions and hosts.
 */
import { UserError } from '../core/errors.js';
import { hostContext } from '../core/host.js';
import type { Db, Store } from '../core/store.js';
import { canonicalJson, configKey } from './canonical.js';
import type { Direction } from './stats.js';

export const DOMAINS = ['sched', 'nccl', 'triton', 'workload', 'other'] as const;
export type Domain = (typeof DOMAINS)[number];
export const RUN_STATUSES = ['ok', 'failed', 'timeout', 'canceled', 'invalid'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunInput {
  domain: Domain;
  workload_id?: number | null;
  config: unknown;
  metrics: Record<string, number>;
  primary_metric: string;
  direction: Direction;
  context?: Record<string, unknown>;
  status?: RunStatus;
  job_id?: string | null;
  notes?: string | null;
}

export interface Run {
  id: number;
  domain: Domain;
  workload_id: number | null;
  config_key: string;
  config: unknown;
  metrics: Record<string, number>;
  primary_metric: string;
  direction: Direction;
  /** The primary metric's value; null when the run produced none (failed, timed out). */
  primary_value: number | null;
  context: Record<string, unknown>;
  status: RunStatus;
  job_id: string | null;
  notes: string | null;
  created_at: string;
}

export interface ConfigAggregate {
  workload_id: number | null;
  domain: Domain;
  primary_metric: string;
  direction: Direction;
  config_key: string;
  config: unknown;
  n: number;
  median: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
  last_run_at: string;
}

interface RunRow {
  id: number;
  domain: Domain;
  workload_id: number | null;
  config: string;
  config_key: string;
  metrics: string;
  primary_metric: string;
  direction: Direction;
  primary_value: number | null;
  context: string;
  status: RunStatus;
  job_id: string | null;
  notes: string | null;
  created_ms: number;
}

const MAX_CONFIG_BYTES = 64 * 1024;

/** Validate and insert one run, and refresh its config's aggregate, in one transaction. */
export function recordRun(store: Store, input: RunInput): Run {
  return store.write((db) => insertRun(db, input, Date.now()));
}

/** Insert inside a caller's transaction (bulk recording, tests, benchmarks). */
export function insertRun(db: Db, input: RunInput, createdMs: number): Run {
  const status = input.status ?? 'ok';
  const config = input.config ?? {};
  const configText = canonicalJson(config);
  if (configText.length > MAX_CONFIG_BYTES) {
    throw new UserError(`config is ${configText.length} bytes of JSON; the limit is ${MAX_CONFIG_BYTES}.`, 'Record the parameters that were tuned, not whole files; put large artifacts in notes or a path.');
  }
  for (const [name, value] of Object.entries(input.metrics)) {
    if (!Number.isFinite(value)) throw new UserError(`metrics.${name} is ${value}, not a finite number.`, 'Leave a metric out when it was not measured.');
  }
  const primary = input.metrics[input.primary_metric];
  if (status === 'ok' && primary === undefined) {
    throw new UserError(
      `primary_metric "${input.primary_metric}" is not among the metrics (${Object.keys(input.metrics).join(', ') || 'none'}).`,
      'Include the primary metric in metrics, or record the run with a status other than "ok".',
    );
  }
  if (input.workload_id != null) {
    const exists = db.prepare('SELECT 1 FROM workloads WHERE id = ?').get(input.workload_id);
    if (!exists) throw new UserError(`No workload with id ${input.workload_id}.`, 'Create it with workload {action: "create"} or omit workload_id.');
  }
  const previous = db
    .prepare('SELECT direction FROM config_stats WHERE workload_id = ? AND domain = ? AND primary_metric = ? LIMIT 1')
    .get(input.workload_id ?? 0, input.domain, input.primary_metric) as { direction: Direction } | undefined;
  if (previous && previous.direction !== input.direction) {
    throw new UserError(
      `${input.primary_metric} was recorded before as ${previous.direction}-is-better for this workload and domain; got ${input.direction}.`,
      `Use direction "${previous.direction}", or give the metric a different name.`,
    );
  }
  const key = configKey(config);
  const context = { ...hostContext(), ...(input.context ?? {}) };
  const info = db
    .prepare(
      `INSERT INTO runs (domain, workload_id, config, config_key, metrics, primary_metric, direction, primary_value,
                         context, status, job_id, notes, created_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      input.domain,
      input.workload_id ?? null,
      configText,
      key,
      JSON.stringify(input.metrics),
      input.primary_metric,
      input.direction,
      primary ?? null,
      JSON.stringify(context),
      status,
      input.job_id ?? null,
      input.notes ?? null,
      createdMs,
    );
  if (status === 'ok') {
    refreshConfigStats(db, input.workload_id ?? null, input.domain, input.primary_metric, input.direction, key, configText, createdMs);
  }
  return toRun(db.prepare('SELECT * FROM runs WHERE id = ?').get(info.lastInsertRowid) as RunRow);
}

/** Recompute one config's aggregate from its ok runs (an index range scan of that config alone). */
function refreshConfigStats(
  db: Db,
  workloadId: number | null,
  domain: string,
  metric: string,
  direction: Direction,
  key: string,
  configText: string,
  lastMs: number,
): void {
  const where = `workload_id IS ? AND domain = ? AND primary_metric = ? AND config_key = ? AND status = 'ok' AND primary_value IS NOT NULL`;
  const args = [workloadId, domain, metric, key];
  const agg = db.prepare(`SELECT COUNT(*) AS n, AVG(primary_value) AS mean, MIN(primary_value) AS min, MAX(primary_value) AS max FROM runs WHERE ${where}`).get(...args) as {
    n: number;
    mean: number | null;
    min: number | null;
    max: number | null;
  };
  let median: number | null = null;
  if (agg.n > 0) {
    const mid = db.prepare(`SELECT primary_value AS v FROM runs WHERE ${where} ORDER BY primary_value LIMIT ? OFFSET ?`);
    const values = mid.all(...args, agg.n % 2 ? 1 : 2, Math.floor((agg.n - 1) / 2)) as { v: number }[];
    median = values.reduce((s, r) => s + r.v, 0) / values.length;
  }
  db.prepare(
    `INSERT INTO config_stats (workload_id, domain, primary_metric, direction, config_key, config, n, mean, median, min, max, last_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workload_id, domain, primary_metric, config_key) DO UPDATE SET
       n = excluded.n, mean = excluded.mean, median = excluded.median, min = excluded.min, max = excluded.max, last_ms = excluded.last_ms`,
  ).run(workloadId ?? 0, domain, metric, direction, key, configText, agg.n, agg.mean, median, agg.min, agg.max, lastMs);
}

export interface HistoryFilter {
  workload_id?: number;
  domain?: Domain;
  config_key?: string;
  primary_metric?: string;
  status?: RunStatus;
  run_ids?: number[];
  since_ms?: number;
  until_ms?: number;
}

export interface HistoryQuery extends HistoryFilter {
  sort: 'time' | 'primary';
  limit: number;
  offset: number;
}

function whereClause(f: HistoryFilter): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  const add = (column: string, op: string, name: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    parts.push(`${column} ${op} @${name}`);
    params[name] = value;
  };
  add('workload_id', '=', 'workload_id', f.workload_id);
  add('domain', '=', 'domain', f.domain);
  add('config_key', '=', 'config_key', f.config_key);
  add('primary_metric', '=', 'metric', f.primary_metric);
  add('status', '=', 'status', f.status);
  add('created_ms', '>=', 'since', f.since_ms);
  add('created_ms', '<=', 'until', f.until_ms);
  if (f.run_ids?.length) parts.push(`id IN (${f.run_ids.map((id) => Math.trunc(id)).join(',')})`);
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** A page of runs; `has_more` says whether another page exists. */
export function queryRuns(store: Store, q: HistoryQuery): { runs: Run[]; has_more: boolean } {
  const { sql, params } = whereClause(q);
  // "primary": best first, honouring each run's direction; runs without a value last.
  const order =
    q.sort === 'primary'
      ? `ORDER BY primary_value IS NULL, CASE direction WHEN 'lower' THEN primary_value ELSE -primary_value END, id DESC`
      : 'ORDER BY created_ms DESC, id DESC';
  // LIMIT is inlined (a validated integer): SQLite plans a bound LIMIT ~10x slower on this query.
  const rows = store.statement(`SELECT * FROM runs ${sql} ${order} LIMIT ${Math.trunc(q.limit) + 1} OFFSET @offset`).all({
    ...params,
    offset: q.offset,
  }) as RunRow[];
  return { runs: rows.slice(0, q.limit).map(toRun), has_more: rows.length > q.limit };
}

/** All values of one metric for the runs matching a filter (bounded), for comparisons. */
export function selectRuns(store: Store, filter: HistoryFilter, max = 10_000): Run[] {
  const { sql, params } = whereClause(filter);
  const rows = store.db.prepare(`SELECT * FROM runs ${sql} ORDER BY created_ms LIMIT @max`).all({ ...params, max: max + 1 }) as RunRow[];
  if (rows.length > max) throw new UserError(`More than ${max} runs match; narrow the selection.`, 'Add workload, domain, config_key, or a time range.');
  return rows.map(toRun);
}

/** Per-config aggregates (all ok runs), best first by median honouring direction. */
export function configAggregates(
  store: Store,
  f: Pick<HistoryFilter, 'workload_id' | 'domain' | 'config_key' | 'primary_metric'>,
  limit: number,
): ConfigAggregate[] {
  // Only the columns config_stats has: time and status filters never apply to aggregates. The ORDER
  // BY is the expression of the config_stats_best_* indexes (schema.ts): the top rows are read in
  // index order, not sorted.
  const { sql, params } = whereClause({ workload_id: f.workload_id, domain: f.domain, config_key: f.config_key, primary_metric: f.primary_metric });
  const rows = store
    .statement(
      `SELECT * FROM config_stats ${sql}
       ORDER BY CASE direction WHEN 'lower' THEN median ELSE -median END, n DESC LIMIT ${Math.trunc(limit)}`,
    )
    .all(params) as (Omit<ConfigAggregate, 'config' | 'last_run_at' | 'workload_id'> & { config: string; last_ms: number; workload_id: number })[];
  return rows.map(({ last_ms, config, workload_id, ...r }) => ({
    ...r,
    workload_id: workload_id === 0 ? null : workload_id,
    config: JSON.parse(config),
    last_run_at: new Date(last_ms).toISOString(),
  }));
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    domain: row.domain,
    workload_id: row.workload_id,
    config_key: row.config_key,
    config: JSON.parse(row.config),
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    primary_metric: row.primary_metric,
    direction: row.direction,
    primary_value: row.primary_value,
    context: JSON.parse(row.context) as Record<string, unknown>,
    status: row.status,
    job_id: row.job_id,
    notes: row.notes,
    created_at: new Date(row.created_ms).toISOString(),
  };
}

/**
 * Recompute every config aggregate from the runs in one pass (window functions): for bulk imports
 * that insert runs directly, and for repairing a store by hand.
 */
export function rebuildConfigStats(db: Db): void {
  db.exec(`
    DELETE FROM config_stats;
    INSERT INTO config_stats (workload_id, domain, primary_metric, direction, config_key, config, n, mean, median, min, max, last_ms)
    SELECT COALESCE(workload_id, 0), domain, primary_metric, MIN(direction), config_key, MIN(config), MAX(cnt), AVG(primary_value),
           AVG(CASE WHEN rn IN ((cnt + 1) / 2, (cnt + 2) / 2) THEN primary_value END),
           MIN(primary_value), MAX(primary_value), MAX(created_ms)
    FROM (
      SELECT *, ROW_NUMBER() OVER g AS rn, COUNT(*) OVER (PARTITION BY workload_id, domain, primary_metric, config_key) AS cnt
      FROM runs WHERE status = 'ok' AND primary_value IS NOT NULL
      WINDOW g AS (PARTITION BY workload_id, domain, primary_metric, config_key ORDER BY primary_value)
    )
    GROUP BY workload_id, domain, primary_metric, config_key;
  `);
}
