/**
 * An execution whose server died while its scheduler still runs (the guard could not stop it, e.g.
 * it was killed too): the next server records that the scheduler's pid still runs it and that
 * sysfs shows it attached, leaves it open (no end time), and says how to stop it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnChild, runCommand } from '../../src/core/exec.js';
import { openStore } from '../../src/core/store.js';
import { allMigrations } from '../../src/migrations.js';
import { saveExecution } from '../../src/sched/store.js';
import { hostname } from 'node:os';
import { isAlive, waitFor } from '../helpers/proc.js';
import { connectInMemory } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';
import { FAKE_BIN, fakeHost } from './helpers.js';

describe('orphaned executions', () => {
  it('record a still-running scheduler as such, with what was checked', async () => {
    const host = fakeHost();
    const home = tempDir();
    const scheduler = spawnChild([join(FAKE_BIN, 'scx_lavd')], { timeoutMs: 60_000, env: host.env });
    expect(await waitFor(() => host.read('state') === 'enabled', 15_000)).toBe(true);
    const deadOwner = (await runCommand(['sh', '-c', 'echo $$'], { timeoutMs: 5000 })).stdout.trim();
    const store = openStore(join(home, 'tuneloop.db'), allMigrations);
    const now = new Date().toISOString();
    saveExecution(store, {
      id: 'sx-orphan-1', scheduler: 'scx_lavd', kind: 'catalog', args: [], binary: join(FAKE_BIN, 'scx_lavd'), privilege: 'root', expected_ops: 'lavd',
      pid: scheduler.pid!, status: 'running', stopped_by: null, started_at: now, attached_at: now, ended_at: null, max_duration_s: 60, exit_reason: null,
      exit_code: null, output_tail: [], events: [], log_path: join(home, 'x.log'), owner_host: hostname(), owner_pid: Number(deadOwner),
    });
    store.db.close();
    try {
      const { call } = await connectInMemory({ ...host.env, TUNELOOP_HOME: home });
      const status = (await call('sched_status', {})).structuredContent as { executions: { id: string; status: string; exit_reason: string; ended_at: string | null; events: string[] }[] };
      const e = status.executions.find((x) => x.id === 'sx-orphan-1')!;
      expect(e).toMatchObject({ status: 'orphaned', ended_at: null });
      expect(e.exit_reason).toContain(`The server that started it (pid ${deadOwner}) ended without recording how this execution ended.`);
      expect(e.exit_reason).toContain(`scheduler pid ${scheduler.pid} is still running scx_lavd; sched_ext state enabled, root/ops lavd_`);
      expect(e.exit_reason).toContain('nothing supervises it');
      expect(e.events.at(-1)).toContain('Checked at');
    } finally {
      await scheduler.terminate('SIGINT');
      expect(await waitFor(() => !isAlive(scheduler.pid!), 10_000)).toBe(true);
    }
  });
});
