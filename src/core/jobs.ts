/**
 * Long-running work. A tool starts a job and waits up to `wait_s` (clients time a call out at 60 s);
 * if the job has not finished, the client gets `{job_id, status: "running", progress}` and polls
 * with job_status. Jobs are rows in SQLite and logs in `<home>/jobs/<id>/log`, so a result outlives
 * the call that started it and is visible to every server sharing the data dir.
 *
 * A job runs in the process that started it. Another process can read it and request its
 * cancellation (a flag in the row the owner polls). Jobs whose owner died are marked `interrupted`
 * when a server next opens the store.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError, formatErrorText } from './errors.js';
import { ActionFailed } from './failure.js';
import type { Migration, Store } from './store.js';
import { isProcessAlive, processStartTime, readTailText } from './proc.js';
import { appendCappedLog } from './capture.js';
import { describeBug, Logger } from './log.js';

export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'canceled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobProgress {
  /** Units done so far (runs, rows, phases), with `total` when known. */
  done?: number;
  total?: number;
  message?: string;
}

export interface JobContext {
  readonly id: string;
  /** `<home>/jobs/<id>`: the job may keep artifacts here. */
  readonly dir: string;
  /** Pass to exec's `logFile` so child output lands in the job log (capped on disk: capture.ts). */
  readonly logFile: string;
  /** Aborted on job_cancel and on server shutdown. */
  readonly signal: AbortSignal;
  log(line: string): void;
  progress(progress: JobProgress): void;
}

export type JobRunner<T> = (ctx: JobContext) => Promise<T>;

export const jobProgressSchema = z.object({
  done: z.number().optional(),
  total: z.number().optional(),
  message: z.string().optional(),
});

const jobFields = {
  job_id: z.string().describe('Poll with job_status, stop with job_cancel.'),
  kind: z.string().describe('The tool that started the job.'),
  status: z.enum(JOB_STATUSES),
  progress: jobProgressSchema,
  created_at: z.string(),
  finished_at: z.string().nullable(),
  elapsed_s: z.number(),
  error: z.string().nullable().describe('Why the job failed, with the remedy when there is one.'),
  log_tail: z.array(z.string()).describe('Last lines of the job log (child output included).'),
  log_path: z.string(),
};

/** Output schema of every job-starting tool: the job view plus `result` once it has succeeded. */
export function jobOutputSchema<R extends z.ZodType>(result: R) {
  return z.object({ ...jobFields, result: result.optional().describe('Present when status is succeeded, and when a failed job has one (what was done before it failed, e.g. the diagnostics).') });
}

export const anyJobOutputSchema = jobOutputSchema(
  z.record(z.string(), z.unknown()).describe("The job's result; its shape is the starting tool's."),
);
export type JobView = z.infer<typeof anyJobOutputSchema>;

export const jobMigrations: Migration[] = [
  {
    version: 1,
    name: 'jobs table',
    up: `CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      params TEXT NOT NULL,
      status TEXT NOT NULL,
      progress TEXT NOT NULL DEFAULT '{}',
      result TEXT,
      error TEXT,
      created_at TEXT NOT NULL,
      finished_at TEXT,
      owner_host TEXT NOT NULL,
      owner_pid INTEGER NOT NULL,
      owner_start TEXT,
      cancel_requested INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_status ON jobs(status, owner_host, owner_pid);`,
  },
];

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  progress: string;
  result: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  owner_host: string;
  owner_pid: number;
  owner_start: string | null;
  cancel_requested: number;
}

interface LiveJob {
  controller: AbortController;
  done: Promise<void>;
  listeners: Set<(p: JobProgress) => void>;
  interruptedByShutdown: boolean;
}

const POLL_MS = 250;
const CANCEL_POLL_MS = 500;
const PROGRESS_WRITE_MS = 200;
export const MAX_WAIT_S = 50;
export const DEFAULT_WAIT_S = 20;

export class JobManager {
  private readonly live = new Map<string, LiveJob>();
  private readonly host = hostname();
  private readonly ownerStart = processStartTime(process.pid) ?? null;
  private cancelPoller: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly home: string,
    private readonly logger: Logger = new Logger(),
  ) {
    this.markOrphansInterrupted();
  }

  /** Start `run` in the background and return its id at once. */
  start<T extends object>(kind: string, params: unknown, run: JobRunner<T>): string {
    if (this.closed) throw new UserError('The server is shutting down; no new jobs are started.');
    const id = newJobId();
    const dir = join(this.home, 'jobs', id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const logFile = join(dir, 'log');
    appendFileSync(logFile, '');
    this.store.write((db) =>
      db
        .prepare(
          `INSERT INTO jobs (id, kind, params, status, created_at, owner_host, owner_pid, owner_start)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
        )
        .run(id, kind, JSON.stringify(params ?? {}), new Date().toISOString(), this.host, process.pid, this.ownerStart),
    );

    const controller = new AbortController();
    const listeners = new Set<(p: JobProgress) => void>();
    let lastProgressWrite = 0;
    let pendingProgress: JobProgress | null = null;
    const flushProgress = (): void => {
      if (!pendingProgress) return;
      const p = pendingProgress;
      pendingProgress = null;
      this.store.write((db) =>
        db.prepare("UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running'").run(JSON.stringify(p), id),
      );
    };
    const ctx: JobContext = {
      id,
      dir,
      logFile,
      signal: controller.signal,
      log: (line) => appendCappedLog(logFile, line.endsWith('\n') ? line : `${line}\n`),
      progress: (p) => {
        pendingProgress = p;
        for (const l of listeners) l(p);
        // Throttled: progress can arrive per output line.
        const now = Date.now();
        if (now - lastProgressWrite >= PROGRESS_WRITE_MS) {
          lastProgressWrite = now;
          flushProgress();
        }
      },
    };

    const entry: LiveJob = { controller, listeners, interruptedByShutdown: false, done: Promise.resolve() };
    entry.done = (async () => {
      let status: JobStatus;
      let result: unknown = null;
      let error: string | null = null;
      try {
        result = await run(ctx);
        status = controller.signal.aborted ? (entry.interruptedByShutdown ? 'interrupted' : 'canceled') : 'succeeded';
      } catch (err) {
        if (controller.signal.aborted) {
          status = entry.interruptedByShutdown ? 'interrupted' : 'canceled';
          error = entry.interruptedByShutdown ? 'The server stopped while the job was running.' : 'Canceled by job_cancel.';
        } else {
          status = 'failed';
          // A failed action keeps its result: what was done before it failed (diagnostics, a run).
          if (err instanceof ActionFailed) result = err.result;
          error = err instanceof ActionFailed ? err.message : formatErrorText(err);
          if (!(err instanceof UserError) && !(err instanceof ActionFailed)) this.logger.log('error', `job ${id} (${kind}) failed: ${describeBug(err)}`);
        }
        ctx.log(`[tuneloop] job ${status}: ${error}`);
      }
      flushProgress();
      this.store.write((db) =>
        db
          .prepare('UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?')
          .run(status, status === 'succeeded' || status === 'failed' ? (result === null ? null : JSON.stringify(result)) : null, error, new Date().toISOString(), id),
      );
      this.live.delete(id);
      if (this.live.size === 0) this.stopCancelPoller();
    })();
    this.live.set(id, entry);
    this.startCancelPoller();
    return id;
  }

  /**
   * Wait until the job ends or `waitS` passes, whichever is first; then return its view.
   * `onProgress` sees progress of jobs running in this process.
   */
  async wait(id: string, waitS: number, onProgress?: (p: JobProgress) => void, signal?: AbortSignal): Promise<JobView> {
    const deadline = Date.now() + Math.min(Math.max(waitS, 0), MAX_WAIT_S) * 1000;
    const live = this.live.get(id);
    if (live) {
      if (onProgress) live.listeners.add(onProgress);
      try {
        await Promise.race([live.done, sleepUntil(deadline, signal)]);
      } finally {
        if (onProgress) live.listeners.delete(onProgress);
      }
      return this.get(id);
    }
    // Owned by another process (or finished): poll the row.
    let view = this.get(id);
    while (view.status === 'running' && Date.now() < deadline && !signal?.aborted) {
      await sleepUntil(Math.min(deadline, Date.now() + POLL_MS), signal);
      view = this.get(id);
    }
    return view;
  }

  /** The artifacts dir of a job (`<home>/jobs/<id>`); a UserError when there is no such job. */
  dirOf(id: string): string {
    if (!this.store.statement('SELECT 1 FROM jobs WHERE id = ?').get(id)) throw unknownJob(id);
    return join(this.home, 'jobs', id);
  }

  get(id: string): JobView {
    const row = this.store.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw unknownJob(id);
    return this.toView(row);
  }

  /** Request cancellation. In this process it takes effect at once; elsewhere, within a second. */
  async cancel(id: string, waitS = 5): Promise<JobView> {
    const view = this.get(id);
    if (view.status !== 'running') return view;
    const live = this.live.get(id);
    if (live) live.controller.abort();
    else this.store.write((db) => db.prepare('UPDATE jobs SET cancel_requested = 1 WHERE id = ?').run(id));
    return this.wait(id, waitS);
  }

  /** Server shutdown: abort every running job; they end as `interrupted`. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    this.stopCancelPoller();
    const pending = [...this.live.values()];
    for (const job of pending) {
      job.interruptedByShutdown = true;
      job.controller.abort();
    }
    await Promise.race([Promise.all(pending.map((j) => j.done)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    // Whatever did not finish in time is marked now; its children die with the server.
    this.store.write((db) => {
      const mark = db.prepare(
        "UPDATE jobs SET status = 'interrupted', error = 'The server stopped while the job was running.', finished_at = ? WHERE id = ? AND status = 'running'",
      );
      for (const id of this.live.keys()) mark.run(new Date().toISOString(), id);
    });
  }

  runningCount(): number {
    return this.live.size;
  }

  private toView(row: JobRow): JobView {
    const logPath = join(this.home, 'jobs', row.id, 'log');
    const end = row.finished_at ? Date.parse(row.finished_at) : Date.now();
    return {
      job_id: row.id,
      kind: row.kind,
      status: row.status,
      progress: JSON.parse(row.progress) as JobProgress,
      created_at: row.created_at,
      finished_at: row.finished_at,
      elapsed_s: Math.round((end - Date.parse(row.created_at)) / 100) / 10,
      error: row.error,
      log_tail: readLogTail(logPath, 20),
      log_path: logPath,
      ...(row.result ? { result: JSON.parse(row.result) as Record<string, unknown> } : {}),
    };
  }

  private markOrphansInterrupted(): void {
    const rows = this.store.db
      .prepare("SELECT id, owner_pid, owner_start FROM jobs WHERE status = 'running' AND owner_host = ?")
      .all(this.host) as Pick<JobRow, 'id' | 'owner_pid' | 'owner_start'>[];
    const orphans = rows.filter((r) => !isProcessAlive(r.owner_pid, r.owner_start));
    if (orphans.length === 0) return;
    this.store.write((db) => {
      const mark = db.prepare(
        "UPDATE jobs SET status = 'interrupted', error = 'The server that ran this job stopped before it finished.', finished_at = ? WHERE id = ? AND status = 'running'",
      );
      for (const o of orphans) mark.run(new Date().toISOString(), o.id);
    });
  }

  private startCancelPoller(): void {
    if (this.cancelPoller) return;
    this.cancelPoller = setInterval(() => {
      if (this.live.size === 0) return;
      const ids = this.store.db
        .prepare("SELECT id FROM jobs WHERE status = 'running' AND cancel_requested = 1 AND owner_pid = ? AND owner_host = ?")
        .all(process.pid, this.host) as { id: string }[];
      for (const { id } of ids) this.live.get(id)?.controller.abort();
    }, CANCEL_POLL_MS);
    this.cancelPoller.unref();
  }

  private stopCancelPoller(): void {
    if (this.cancelPoller) clearInterval(this.cancelPoller);
    this.cancelPoller = undefined;
  }
}

function unknownJob(id: string): UserError {
  return new UserError(`No job with id "${id}".`, 'Use the job_id returned by the tool that started the job.');
}

function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

function sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const ms = Math.max(0, deadline - Date.now());
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The last `maxLines` lines of a log file, reading at most 16 KiB from its end. */
export function readLogTail(path: string, maxLines: number): string[] {
  let tail: { text: string; omitted: number };
  try {
    tail = readTailText(path, 16 * 1024);
  } catch {
    return [];
  }
  const lines = tail.text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (tail.omitted > 0) lines.shift(); // the first line is probably cut
  return lines.slice(-maxLines).map((l) => (l.length > 500 ? `${l.slice(0, 500)}…` : l));
}
