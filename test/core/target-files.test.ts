/**
 * Issue 9 section 1: as root, `nccl_env write_conf` replaced /etc/passwd, accepted ~/../../etc/passwd
 * and followed symlinks. Every path a tool writes outside the data dir goes through one rule
 * (src/core/target-files.ts); these are the paths, through a real stdio server, as root in CI.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStdioServer } from '../helpers/stdio.js';
import { textOf } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';

const root = tempDir();
const home = join(root, 'home', 'alice');
const dir = join(root, 'jobs');
mkdirSync(home, { recursive: true });
mkdirSync(dir);

// If the rule ever regresses, this test must not leave the host broken: put /etc/passwd back.
const passwd = readFileSync('/etc/passwd');
afterAll(() => {
  if (!readFileSync('/etc/passwd').equals(passwd)) writeFileSync('/etc/passwd', passwd);
  for (const f of readdirSync('/etc').filter((n) => n.startsWith('passwd.bak-') || n.includes('tuneloop'))) rmSync(join('/etc', f));
});

let server: Awaited<ReturnType<typeof startStdioServer>>;
beforeAll(async () => {
  server = await startStdioServer(['serve', '--toolsets', 'nccl'], { HOME: home, TUNELOOP_HOME: join(root, 'data') });
});
afterAll(async () => {
  await server.client.close();
});

const writeConf = async (path: string, extra: Record<string, unknown> = {}) =>
  (await server.client.callTool({ name: 'nccl_env', arguments: { action: 'write_conf', env: { NCCL_ALGO: 'Ring' }, path, ...extra } })) as CallToolResult;
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const backupsOf = (path: string) => readdirSync(join(path, '..')).filter((f) => f.startsWith(`${path.split('/').pop()}.bak-`));
const leftovers = (d: string) => readdirSync(d).filter((f) => f.includes('.tuneloop-'));

describe('files outside the data dir (nccl_env write_conf)', () => {
  it('refuses /etc/passwd and leaves it and /etc untouched', async () => {
    const before = sha('/etc/passwd');
    const r = await writeConf('/etc/passwd');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Refusing to write \/etc\/passwd: \/etc belongs to the system/);
    expect(sha('/etc/passwd')).toBe(before);
    expect(backupsOf('/etc/passwd')).toEqual([]);
    expect(leftovers('/etc')).toEqual([]);
  });

  it('resolves ~ and .. first: ~/../../../../../../etc/passwd is /etc/passwd, refused', async () => {
    const before = sha('/etc/passwd');
    const r = await writeConf('~/../../../../../../etc/passwd');
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Refusing to write \/etc\/passwd/);
    expect(sha('/etc/passwd')).toBe(before);
  });

  it('refuses a new file anywhere under a system tree', async () => {
    const r = await writeConf('/etc/ld.so.preload.d-tuneloop-test');
    expect(r.isError).toBe(true);
    expect(existsSync('/etc/ld.so.preload.d-tuneloop-test')).toBe(false);
  });

  it('writes a new file, and replaces a file it wrote itself with a backup of it', async () => {
    const path = join(dir, 'nccl.conf');
    const first = await writeConf(path);
    expect(first.isError).toBeFalsy();
    expect(readFileSync(path, 'utf8')).toMatch(/^# Written by tuneloop[^\n]*\nNCCL_ALGO=Ring\n$/);
    const old = readFileSync(path, 'utf8');
    const second = await writeConf(path, { env: { NCCL_ALGO: 'Tree' } });
    expect(second.isError).toBeFalsy();
    const written = (second.structuredContent as { written: { backup: string; path: string } }).written;
    expect(written.path).toBe(path);
    expect(readFileSync(written.backup, 'utf8')).toBe(old);
    expect(readFileSync(path, 'utf8')).toMatch(/NCCL_ALGO=Tree\n$/);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses a pre-existing file tuneloop did not write, even one with a forged header', async () => {
    for (const [name, content] of [
      ['theirs.conf', 'NCCL_ALGO=Tree\n'],
      ['forged.conf', '# Written by tuneloop from NCCL profile "x".\nNCCL_ALGO=Tree\n'],
    ]) {
      const path = join(dir, name);
      writeFileSync(path, content);
      const r = await writeConf(path);
      expect(r.isError, name).toBe(true);
      expect(textOf(r)).toMatch(/Refusing to replace .*tuneloop replaces only files it wrote itself[\s\S]*Remedy: Move it away/);
      expect(readFileSync(path, 'utf8')).toBe(content);
      expect(backupsOf(path)).toEqual([]);
    }
  });

  it('refuses a file it wrote once that was edited since', async () => {
    const path = join(dir, 'edited.conf');
    expect((await writeConf(path)).isError).toBeFalsy();
    writeFileSync(path, `${readFileSync(path, 'utf8')}NCCL_PROTO=LL\n`);
    const r = await writeConf(path, { env: { NCCL_ALGO: 'Tree' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/not what tuneloop wrote there/);
    expect(readFileSync(path, 'utf8')).toMatch(/NCCL_PROTO=LL\n$/);
  });

  it('never follows a symlink in the last component: to a foreign file, to its own file, to /etc/passwd', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const own = join(dir, 'own.conf');
    expect((await writeConf(own)).isError).toBeFalsy();
    const ownContent = readFileSync(own, 'utf8');
    for (const [link, to] of [
      [join(dir, 'to-victim.conf'), victim],
      [join(dir, 'to-own.conf'), own],
      [join(dir, 'to-passwd.conf'), '/etc/passwd'],
      [join(dir, 'dangling.conf'), join(dir, 'nowhere.conf')],
    ]) {
      symlinkSync(to, link);
      const r = await writeConf(link);
      expect(r.isError, link).toBe(true);
      expect(textOf(r)).toMatch(/symbolic link/);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(to);
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(own, 'utf8')).toBe(ownContent);
    expect(existsSync(join(dir, 'nowhere.conf'))).toBe(false);
  });

  it('~/.nccl.conf and /etc/nccl.conf need allow_system', async () => {
    const etcBefore = existsSync('/etc/nccl.conf') ? sha('/etc/nccl.conf') : null;
    const system = await writeConf('/etc/nccl.conf');
    expect(system.isError).toBe(true);
    expect(textOf(system)).toMatch(/without allow_system[\s\S]*Remedy: Pass allow_system: true/);
    expect(existsSync('/etc/nccl.conf') ? sha('/etc/nccl.conf') : null).toBe(etcBefore);
    const refused = await writeConf('~/.nccl.conf');
    expect(refused.isError).toBe(true);
    expect(existsSync(join(home, '.nccl.conf'))).toBe(false);
    const allowed = await writeConf('~/.nccl.conf', { allow_system: true });
    expect(allowed.isError).toBeFalsy();
    expect(readFileSync(join(home, '.nccl.conf'), 'utf8')).toMatch(/NCCL_ALGO=Ring/);
  });
});
