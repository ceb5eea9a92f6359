/**
 * The sched domain's tables: scheduler executions (so sched_status shows what any server sharing
 * the data dir attached, and what happened to it) and custom schedulers built by build_scheduler.
 */
import type { Migration, Store } from '../core/store.js';

export const schedMigrations: Migration[] = [
  {
    version: 1,
    name: 'scheduler executions and custom schedulers',
    up: `CREATE TABLE sched_executions (
      id TEXT PRIMARY KEY,
      scheduler TEXT NOT NULL,
      kind TEXT NOT NULL,
      args TEXT NOT NULL,
      binary TEXT NOT NULL,
      privilege TEXT NOT NULL,
      expected_ops TEXT NOT NULL,
      pid INTEGER,
      status TEXT NOT NULL,
      stopped_by TEXT,
      started_at TEXT NOT NULL,
      attached_at TEXT,
      ended_at TEXT,
      max_duration_s REAL NOT NULL,
      exit_reason TEXT,
      exit_code INTEGER,
      output_tail TEXT NOT NULL DEFAULT '[]',
      events TEXT NOT NULL DEFAULT '[]',
      log_path TEXT NOT NULL,
      owner_host TEXT NOT NULL,
      owner_pid INTEGER NOT NULL
    );
    CREATE INDEX sched_executions_started ON sched_executions(started_at);
    CREATE TABLE sched_custom (
      name TEXT PRIMARY KEY,
      description TEXT NOT NULL,
      use_cases TEXT NOT NULL,
      template TEXT,
      params TEXT NOT NULL,
      source_path TEXT NOT NULL,
      object_path TEXT NOT NULL,
      verdict TEXT NOT NULL,
      reason TEXT,
      kernel TEXT NOT NULL,
      built_at TEXT NOT NULL,
      verified_at TEXT
    );`,
  },
];

export interface ExecutionRow {
  id: string;
  scheduler: string;
  kind: 'catalog' | 'custom';
  args: string[];
  binary: string;
  privilege: 'root' | 'sudo';
  expected_ops: string;
  pid: number | null;
  status: string;
  stopped_by: string | null;
  started_at: string;
  attached_at: string | null;
  ended_at: string | null;
  max_duration_s: number;
  exit_reason: string | null;
  exit_code: number | null;
  output_tail: string[];
  events: string[];
  log_path: string;
  owner_host: string;
  owner_pid: number;
}

type RawRow = Omit<ExecutionRow, 'args' | 'output_tail' | 'events'> & { args: string; output_tail: string; events: string };

export function saveExecution(store: Store, row: ExecutionRow): void {
  const values = { ...row, args: JSON.stringify(row.args), output_tail: JSON.stringify(row.output_tail), events: JSON.stringify(row.events) };
  store.write((db) =>
    db
      .prepare(
        `INSERT INTO sched_executions (id, scheduler, kind, args, binary, privilege, expected_ops, pid, status, stopped_by, started_at,
           attached_at, ended_at, max_duration_s, exit_reason, exit_code, output_tail, events, log_path, owner_host, owner_pid)
         VALUES (@id, @scheduler, @kind, @args, @binary, @privilege, @expected_ops, @pid, @status, @stopped_by, @started_at,
           @attached_at, @ended_at, @max_duration_s, @exit_reason, @exit_code, @output_tail, @events, @log_path, @owner_host, @owner_pid)
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, status = excluded.status, stopped_by = excluded.stopped_by,
           attached_at = excluded.attached_at, ended_at = excluded.ended_at, exit_reason = excluded.exit_reason,
           exit_code = excluded.exit_code, output_tail = excluded.output_tail, events = excluded.events`,
      )
      .run(values),
  );
}

export function recentExecutions(store: Store, limit: number): ExecutionRow[] {
  const rows = store.db.prepare('SELECT * FROM sched_executions ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit) as RawRow[];
  return rows.map((r) => ({ ...r, args: JSON.parse(r.args), output_tail: JSON.parse(r.output_tail), events: JSON.parse(r.events) }));
}

/**
 * Rows another server on this host left open (starting, running, ejected, or orphaned and still
 * running when last checked) whose owner process is gone: it crashed or was killed.
 */
export function openOrphans(store: Store, host: string, isOwnerAlive: (pid: number) => boolean): ExecutionRow[] {
  const open = store.db
    .prepare("SELECT id FROM sched_executions WHERE status IN ('starting', 'running', 'ejected', 'orphaned') AND ended_at IS NULL AND owner_host = ? AND owner_pid != ?")
    .all(host, process.pid) as { id: string }[];
  if (!open.length) return [];
  const ids = new Set(open.map((r) => r.id));
  return recentExecutions(store, 1_000_000).filter((r) => ids.has(r.id) && !isOwnerAlive(r.owner_pid));
}

/** Record what was found about an orphaned execution; `endedAt` null while its scheduler still runs. */
export function recordOrphan(store: Store, id: string, finding: { reason: string; endedAt: string | null }): void {
  store.write((db) =>
    db
      .prepare(
        `UPDATE sched_executions SET status = 'orphaned', ended_at = ?, exit_reason = COALESCE(exit_reason, ?),
           events = json_insert(events, '$[#]', ?) WHERE id = ?`,
      )
      .run(finding.endedAt, finding.reason, `${new Date().toISOString()} ${finding.reason}`, id),
  );
}

export interface CustomScheduler {
  name: string;
  description: string;
  use_cases: string[];
  template: string | null;
  params: Record<string, number>;
  source_path: string;
  object_path: string;
  verdict: 'verified' | 'compiled_only' | 'failed';
  reason: string | null;
  kernel: string;
  built_at: string;
  verified_at: string | null;
}

type RawCustom = Omit<CustomScheduler, 'use_cases' | 'params'> & { use_cases: string; params: string };

export function saveCustom(store: Store, c: CustomScheduler): void {
  store.write((db) =>
    db
      .prepare(
        `INSERT INTO sched_custom (name, description, use_cases, template, params, source_path, object_path, verdict, reason, kernel, built_at, verified_at)
         VALUES (@name, @description, @use_cases, @template, @params, @source_path, @object_path, @verdict, @reason, @kernel, @built_at, @verified_at)
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, use_cases = excluded.use_cases, template = excluded.template,
           params = excluded.params, source_path = excluded.source_path, object_path = excluded.object_path, verdict = excluded.verdict,
           reason = excluded.reason, kernel = excluded.kernel, built_at = excluded.built_at, verified_at = excluded.verified_at`,
      )
      .run({ ...c, use_cases: JSON.stringify(c.use_cases), params: JSON.stringify(c.params) }),
  );
}

export function listCustom(store: Store, verdict?: CustomScheduler['verdict']): CustomScheduler[] {
  const rows = (
    verdict ? store.db.prepare('SELECT * FROM sched_custom WHERE verdict = ? ORDER BY name').all(verdict) : store.db.prepare('SELECT * FROM sched_custom ORDER BY name').all()
  ) as RawCustom[];
  return rows.map((r) => ({ ...r, use_cases: JSON.parse(r.use_cases), params: JSON.parse(r.params) }));
}

export function findCustom(store: Store, name: string): CustomScheduler | undefined {
  return listCustom(store).find((c) => c.name === name);
}
