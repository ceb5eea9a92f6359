/**
 * The sandbox for untrusted code, through exec (ExecOptions.sandbox), for every isolation this host
 * can give: bubblewrap, the unshare fallback (forced), and "none" (forced), which must still run
 * and say so.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configureIsolation } from '../../src/core/contain.js';
import { runCommand, type ExecOptions } from '../../src/core/exec.js';
import { sandboxIsolation, type Isolation, type SandboxPreference, type SandboxSpec } from '../../src/core/sandbox.js';
import { pidsMatching } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

const sh = (script: string) => ['/bin/sh', '-c', script];
const preferenceFor: Record<Isolation, SandboxPreference> = { bwrap: 'auto', unshare: 'unshare', none: 'none' };

function available(): Isolation[] {
  const out = new Set<Isolation>();
  for (const p of ['auto', 'unshare'] as SandboxPreference[]) {
    configureIsolation({ sandbox: p });
    out.add(sandboxIsolation());
  }
  configureIsolation({ sandbox: 'auto' });
  return [...out].filter((i) => i !== 'none');
}
const isolations = available();
afterAll(() => configureIsolation({ sandbox: 'auto' }));

// A data dir with a secret (never bound) and a work dir (bound read-write), both outside /tmp's
// tmpfs inside the sandbox only by being bound.
const secretDir = tempDir('tuneloop-secret-');
writeFileSync(join(secretDir, 'expected.txt'), 'the answer');
const work = tempDir('tuneloop-work-');
const inputs = join(work, 'inputs');
mkdirSync(inputs);
writeFileSync(join(inputs, 'candidate.txt'), 'candidate');
const rw = join(work, 'out');
mkdirSync(rw);

async function runIn(isolation: Isolation, argv: string[], sandbox: Partial<SandboxSpec> = {}, options: Partial<ExecOptions> = {}) {
  configureIsolation({ sandbox: preferenceFor[isolation] });
  try {
    return await runCommand(argv, { timeoutMs: 20_000, ...options, sandbox: { roBinds: [inputs], rwBinds: [rw], ...sandbox } });
  } finally {
    configureIsolation({ sandbox: 'auto' });
  }
}

describe.each(isolations)('sandbox %s', (isolation) => {
  it('says which isolation the run got', async () => {
    const r = await runIn(isolation, ['true']);
    expect(r).toMatchObject({ ok: true, isolation });
  });

  it('shows bound paths and hides everything else (the data dir does not exist inside)', async () => {
    const repo = process.cwd(); // outside /tmp: hidden only because it is not bound
    const r = await runIn(isolation, sh(`cat ${inputs}/candidate.txt; test -e ${secretDir} && echo SECRET-VISIBLE; test -e ${secretDir}/expected.txt && echo SECRET-READ; test -e ${repo}/package.json && echo REPO-VISIBLE; test -e /root || echo no-root; ls /`));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('candidate');
    expect(r.stdout).not.toMatch(/SECRET|REPO/);
    expect(r.stdout).toContain('no-root');
    expect(r.stdout.split('\n')).not.toContain('home');
  });

  it('writes only into rwBinds and its private /tmp', async () => {
    const r = await runIn(isolation, sh(`echo ok > ${rw}/result && echo rw-ok; echo x > /tmp/scratch && echo tmp-ok; echo x > ${inputs}/forged && echo RO-WRITTEN; echo x > /usr/forged && echo USR-WRITTEN; echo x > /forged && echo ROOT-WRITTEN; true`));
    expect(r.stdout).toContain('rw-ok');
    expect(r.stdout).toContain('tmp-ok');
    expect(r.stdout).not.toMatch(/WRITTEN/);
  });

  it('has no network unless asked: only a loopback, down, in its own namespace', async () => {
    const r = await runIn(isolation, ['cat', '/proc/net/dev']);
    const devices = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]);
    expect(devices).toEqual(['lo']);
    const route = await runIn(isolation, ['cat', '/proc/net/route']);
    expect(route.stdout.trim().split('\n')).toHaveLength(1); // the header only: no route anywhere
  });

  it('gets exactly the environment and working directory it is given', async () => {
    const r = await runIn(isolation, ['/usr/bin/env'], { env: { PATH: '/usr/bin', ONLY: 'this' }, cwd: rw });
    expect(r.stdout.trim().split('\n').sort()).toEqual(['ONLY=this', 'PATH=/usr/bin', `PWD=${rw}`]);
    expect((await runIn(isolation, ['pwd'], { cwd: rw })).stdout.trim()).toBe(rw);
  });

  it('kills a setsid grandchild with it, on exit and on timeout', async () => {
    for (const [script, options] of [
      ['sleep 0.2', {}],
      ['sleep 30', { timeoutMs: 500, killGraceMs: 200 }],
    ] as const) {
      const marker = `${700 + Math.floor(Math.random() * 100)}.${randomBytes(4).readUInt32BE(0)}`;
      const r = await runIn(isolation, sh(`m=${marker}; setsid sleep $m </dev/null >/dev/null 2>&1 & ${script}`), {}, options);
      expect(r.timedOut).toBe(script === 'sleep 30');
      expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
    }
  });

  it('bounds memory', async () => {
    // perl is essential on Debian: 256 MiB in a sandbox bounded at 128 MiB must fail.
    const grab = ['perl', '-e', '$x = "a" x (256 * 1024 * 1024); print "allocated\\n"'];
    const r = await runIn(isolation, grab, { memoryBytes: 128 * 1024 * 1024 });
    expect(r.memoryLimit).not.toBe('none');
    expect(r.ok).toBe(false);
    expect(r.stdout).not.toContain('allocated');
    const roomy = await runIn(isolation, grab, { memoryBytes: 1024 * 1024 * 1024 });
    expect(roomy.stdout).toContain('allocated');
  });
});

describe('sandbox none (forced): the run still happens and says so', () => {
  it('runs in the given environment and reports isolation none', async () => {
    const r = await runIn('none', ['/usr/bin/env'], { env: { PATH: '/usr/bin', ONLY: 'this' }, cwd: rw });
    expect(r).toMatchObject({ ok: true, isolation: 'none' });
    expect(r.stdout.trim().split('\n').sort()).toEqual(['ONLY=this', 'PATH=/usr/bin', `PWD=${rw}`]);
  });
});

describe('sandbox spec', () => {
  it('refuses relative or missing bind paths, and env/cwd outside the spec', () => {
    expect(() => runCommand(['true'], { timeoutMs: 5000, sandbox: { roBinds: ['relative/path'] } })).toThrow(/absolute/);
    expect(() => runCommand(['true'], { timeoutMs: 5000, sandbox: { roBinds: ['/nonexistent/tuneloop'] } })).toThrow(/does not exist/);
    expect(() => runCommand(['true'], { timeoutMs: 5000, env: { A: 'b' }, sandbox: { roBinds: [] } })).toThrow(/sandbox spec/);
  });
});
