import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, spawnChild, liveChildCount } from '../../src/core/exec.js';
import { tempDir } from '../helpers/tmp.js';
import { isAlive } from '../helpers/proc.js';

const sh = (script: string) => ['/bin/sh', '-c', script];

describe('runCommand', () => {
  it('returns exit code and output of a successful child', async () => {
    const r = await runCommand(sh('echo out; echo err >&2'), { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, exitCode: 0, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, canceled: false, truncated: false });
  });

  it('reports a non-zero exit as data, not an exception', async () => {
    const r = await runCommand(sh('exit 7'), { timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(7);
  });

  it('reports a missing binary as spawnError', async () => {
    const r = await runCommand(['/nonexistent/tool'], { timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.spawnError).toMatch(/ENOENT/);
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    const r = await runCommand(sh(`sleep 30 & echo $! > ${pidFile}; wait`), { timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    expect(isAlive(grandchild)).toBe(false);
  });

  it('escalates to SIGKILL when the child ignores the first signal', async () => {
    const started = Date.now();
    const r = await runCommand(sh('trap "" TERM; sleep 30'), { timeoutMs: 200, killGraceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await runCommand(['sleep', '30'], { timeoutMs: 10_000, signal: controller.signal });
    expect(r.canceled).toBe(true);
    expect(r.timedOut).toBe(false);
  });

  it('keeps the head and the tail of oversized output', async () => {
    const r = await runCommand(sh('echo FIRST; seq 1 200000; echo LAST'), { timeoutMs: 10_000, maxOutputBytes: 4096 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.startsWith('FIRST\n')).toBe(true);
    expect(r.stdout.trimEnd().endsWith('LAST')).toBe(true);
    expect(r.stdout).toMatch(/bytes omitted by tuneloop/);
    expect(r.stdout.length).toBeLessThan(4096 + 100);
  });

  it('streams complete lines and tees output to a log file', async () => {
    const dir = tempDir();
    const log = join(dir, 'log');
    const lines: string[] = [];
    await runCommand(sh('printf "a\\nb"; sleep 0.05; printf "c\\nd\\n"'), { timeoutMs: 5000, logFile: log, onLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'bc', 'd']);
    expect(readFileSync(log, 'utf8')).toBe('a\nbc\nd\n');
  });

  it('passes input on stdin and merges env', async () => {
    const r = await runCommand(sh('read x; echo "$x-$FOO"'), { timeoutMs: 5000, input: 'hello\n', env: { FOO: 'bar' } });
    expect(r.stdout).toBe('hello-bar\n');
  });

  it('kills what a finished child left behind in its group', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'bg.pid');
    const r = await runCommand(sh(`(sleep 30 >/dev/null 2>&1 &  echo $! > ${pidFile})`), { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('terminate() stops a long-lived child and forgets it', async () => {
    const child = spawnChild(['sleep', '30'], { timeoutMs: 60_000 });
    expect(liveChildCount()).toBeGreaterThan(0);
    const r = await child.terminate();
    expect(r.canceled).toBe(true);
    expect(r.signal).toBe('SIGTERM');
  });

  it('refuses to start without a timeout', () => {
    expect(() => spawnChild(['true'], { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('rusageWith (GNU time)', () => {
  // Node cannot read a child's rusage; benchmark_workload needs user/sys CPU and peak memory per run.
  const time = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));

  it.skipIf(!time)("reports the child's CPU time and peak RSS, and passes its exit code through", async () => {
    // perl-base is essential on Debian: 64 MiB string, a few million additions, exit 3.
    const burn = 'my $x = "a" x (64 * 1024 * 1024); my $s = 0; $s += $_ for 1 .. 3000000; exit 3';
    const r = await runCommand(['perl', '-e', burn], { timeoutMs: 60_000, rusageWith: time });
    expect(r.exitCode).toBe(3);
    expect(r.argv).toEqual(['perl', '-e', burn]);
    expect(r.rusage!.max_rss_kib).toBeGreaterThan(64 * 1024);
    expect(r.rusage!.user_s + r.rusage!.sys_s).toBeGreaterThan(0.01);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!time)('gives null when the child is killed before GNU time writes its report', async () => {
    const r = await runCommand(sh('sleep 30'), { timeoutMs: 200, killGraceMs: 100, rusageWith: time });
    expect(r.timedOut).toBe(true);
    expect(r.rusage).toBeNull();
  });

  it('leaves results without rusage when not asked', async () => {
    const r = await runCommand(sh('true'), { timeoutMs: 5000 });
    expect('rusage' in r).toBe(false);
  });
});
