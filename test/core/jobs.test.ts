import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { LOG_HEAD_BYTES, LOG_TAIL_BYTES } from '../../src/core/capture.js';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { runCommand } from '../../src/core/exec.js';
import { JobManager, jobMigrations, readLogTail } from '../../src/core/jobs.js';
import { openStore } from '../../src/core/store.js';
import { tempDir } from '../helpers/tmp.js';

function manager(home = tempDir()) {
  const store = openStore(join(home, 'db'), { jobs: jobMigrations });
  return { jobs: new JobManager(store, home), store, home };
}

describe('JobManager', () => {
  it('returns the result of a job that finishes within wait_s, with its log', async () => {
    const { jobs } = manager();
    const id = jobs.start('demo', { n: 1 }, async (job) => {
      job.log('hello from the job');
      job.progress({ done: 1, total: 1 });
      return { answer: 42 };
    });
    const view = await jobs.wait(id, 5);
    expect(view).toMatchObject({ job_id: id, kind: 'demo', status: 'succeeded', result: { answer: 42 }, error: null, progress: { done: 1, total: 1 } });
    expect(view.log_tail).toContain('hello from the job');
    expect(existsSync(view.log_path)).toBe(true);
  });

  it('answers "running" with progress when wait_s runs out, and finishes later', async () => {
    const { jobs } = manager();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const id = jobs.start('slow', {}, async (job) => {
      job.progress({ done: 3, total: 10, message: 'warming up' });
      await gate;
      return { ok: true };
    });
    const seen: unknown[] = [];
    const running = await jobs.wait(id, 0.2, (p) => seen.push(p));
    expect(running).toMatchObject({ status: 'running', progress: { done: 3, total: 10, message: 'warming up' }, finished_at: null });
    expect(running.result).toBeUndefined();
    release();
    expect(await jobs.wait(id, 5)).toMatchObject({ status: 'succeeded', result: { ok: true } });
  });

  it('records a UserError with its remedy as the failure', async () => {
    const { jobs } = manager();
    const id = jobs.start('bad', {}, async () => {
      throw new UserError('nccl-tests not found', 'build nccl-tests');
    });
    const view = await jobs.wait(id, 5);
    expect(view.status).toBe('failed');
    expect(view.error).toBe('nccl-tests not found\nRemedy: build nccl-tests');
  });

  it('cancels a job and the child process it runs', async () => {
    const { jobs } = manager();
    const id = jobs.start('sleepy', {}, async (job) => {
      const r = await runCommand(['sleep', '30'], { timeoutMs: 60_000, signal: job.signal, logFile: job.logFile });
      return { canceled: r.canceled };
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const view = await jobs.cancel(id);
    expect(view.status).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('lets another process (another manager on the same store) read and cancel a job', async () => {
    const home = tempDir();
    const a = manager(home);
    const b = new JobManager(openStore(join(home, 'db'), { jobs: jobMigrations }), home);
    const id = a.jobs.start('long', {}, async (job) => {
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve()));
      return {};
    });
    expect((await b.wait(id, 0.3)).status).toBe('running');
    const view = await b.cancel(id, 5);
    expect(view.status).toBe('canceled');
  });

  it('marks jobs of a dead owner as interrupted when the store is opened again', () => {
    const { store, home } = manager();
    store.write((db) =>
      db
        .prepare("INSERT INTO jobs (id, kind, params, status, created_at, owner_host, owner_pid) VALUES ('job-x-1', 'demo', '{}', 'running', ?, ?, 999999999)")
        .run(new Date().toISOString(), hostname()),
    );
    const jobs = new JobManager(store, home);
    expect(jobs.get('job-x-1')).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/stopped before it finished/) });
  });

  it('interrupts running jobs on shutdown', async () => {
    const { jobs } = manager();
    const id = jobs.start('forever', {}, (job) => new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(new Error('aborted')))));
    await jobs.shutdown(2000);
    expect(jobs.get(id).status).toBe('interrupted');
    expect(() => jobs.start('late', {}, async () => ({}))).toThrow(/shutting down/);
  });

  it('explains an unknown job id', () => {
    expect(() => manager().jobs.get('job-nope')).toThrow(/No job with id "job-nope"/);
  });
});

describe('readLogTail', () => {
  it('returns the last lines only, even of a large log', async () => {
    const dir = tempDir();
    const log = join(dir, 'log');
    await runCommand(['/bin/sh', '-c', `seq 1 100000 > ${log}`], { timeoutMs: 5000 });
    const tail = readLogTail(log, 3);
    expect(tail).toEqual(['99998', '99999', '100000']);
    expect(readFileSync(log, 'utf8').length).toBeGreaterThan(16 * 1024);
  });
});

describe('job log on disk', () => {
  it("stays under its cap for a chatty child, keeping head, tail and the cut marker", async () => {
    const { jobs } = manager();
    // 48 MB from one child, then the job's own line: far past the cap (1 MiB head + 2 x 4 MiB tail).
    const id = jobs.start('chatty', {}, async (job) => {
      const r = await runCommand(['/bin/sh', '-c', 'echo FIRST-LINE; yes "chatty child output line" | head -c 48000000; echo; echo LAST-LINE'], { timeoutMs: 60_000, logFile: job.logFile });
      job.log(`child exited ${r.exitCode}`);
      return { ok: r.ok };
    });
    const view = await jobs.wait(id, 50);
    expect(view.status).toBe('succeeded');
    const size = statSync(view.log_path).size;
    expect(size).toBeLessThanOrEqual(LOG_HEAD_BYTES + 2 * LOG_TAIL_BYTES + 64);
    const text = readFileSync(view.log_path, 'utf8');
    expect(text.startsWith('FIRST-LINE\n')).toBe(true);
    const omitted = Number(/\n\[\.\.\. (\d+) bytes omitted by tuneloop \.\.\.\]\n/.exec(text)?.[1]);
    expect(omitted).toBeGreaterThan(40_000_000);
    expect(view.log_tail.slice(-2)).toEqual(['LAST-LINE', 'child exited 0']);
  });
});
