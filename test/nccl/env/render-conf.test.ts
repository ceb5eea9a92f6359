/** Rendering an environment for job scripts, and writing nccl.conf safely. */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/core/store.js';
import { targetFileMigrations } from '../../../src/core/target-files.js';
import { precedenceOf, writeConfFile } from '../../../src/nccl/env/conf-file.js';
import { renderEnv, shellQuote } from '../../../src/nccl/env/render.js';
import { tempDir } from '../../helpers/tmp.js';

const env = { NCCL_ALGO: 'ring,tree;allreduce:tree', NCCL_DEBUG_FILE: "/tmp/nccl log's.%h.%p", NCCL_MIN_CTAS: '16' };

describe('renderEnv', () => {
  it('export lines quote only what the shell needs quoted', () => {
    expect(renderEnv(env, 'export').text).toBe(
      "export NCCL_ALGO='ring,tree;allreduce:tree'\nexport NCCL_DEBUG_FILE='/tmp/nccl log'\\''s.%h.%p'\nexport NCCL_MIN_CTAS=16\n",
    );
    expect(shellQuote('ring,tree')).toBe('ring,tree');
  });

  it('.env body', () => {
    expect(renderEnv({ NCCL_ALGO: 'Ring', NCCL_DEBUG_FILE: 'a b' }, 'dotenv').text).toBe('NCCL_ALGO=Ring\nNCCL_DEBUG_FILE="a b"\n');
  });

  it('mpirun -x arguments carry name=value for every variable', () => {
    const r = renderEnv(env, 'mpirun');
    expect(r.args).toEqual(['-x', 'NCCL_ALGO=ring,tree;allreduce:tree', '-x', "NCCL_DEBUG_FILE=/tmp/nccl log's.%h.%p", '-x', 'NCCL_MIN_CTAS=16']);
    expect(r.text).toBe("-x 'NCCL_ALGO=ring,tree;allreduce:tree' -x 'NCCL_DEBUG_FILE=/tmp/nccl log'\\''s.%h.%p' -x NCCL_MIN_CTAS=16");
  });

  it('srun --export names comma-carrying variables without a value and says how to export them', () => {
    const r = renderEnv(env, 'srun');
    expect(r.args).toEqual(["--export=ALL,NCCL_DEBUG_FILE=/tmp/nccl log's.%h.%p,NCCL_MIN_CTAS=16,NCCL_ALGO"]);
    expect(r.notes[0]).toContain("export NCCL_ALGO='ring,tree;allreduce:tree'");
  });

  it('nccl.conf keeps NCCL variables only, with a comment header', () => {
    const r = renderEnv({ NCCL_PROTO: 'Simple', CUDA_VISIBLE_DEVICES: '0' }, 'conf', 'from profile x');
    expect(r.text).toBe('# from profile x\nNCCL_PROTO=Simple\n');
    expect(r.notes.join(' ')).toMatch(/Left out of nccl.conf \(not NCCL variables\): CUDA_VISIBLE_DEVICES/);
  });
});

describe('writeConfFile', () => {
  const home = tempDir();
  const store = openStore(join(home, 'db'), { files: targetFileMigrations });
  const conf = (line: string) => `# Written by tuneloop, a test.\n${line}\n`;

  it('writes a new file atomically, then backs up its own file before replacing it', () => {
    const path = join(home, 'job.conf');
    const first = writeConfFile(store, path, conf('NCCL_PROTO=Simple'), { home });
    expect(first).toMatchObject({ path, backup: null, unchanged: false, bytes: 49 });
    expect(first.activation).toContain(`NCCL_CONF_FILE=${path}`);
    expect(first.activation).toMatch(/already running keep the environment/);
    const again = writeConfFile(store, path, conf('NCCL_PROTO=Simple'), { home });
    expect(again).toMatchObject({ unchanged: true, backup: null });
    const second = writeConfFile(store, path, conf('NCCL_PROTO=LL'), { home });
    expect(readFileSync(path, 'utf8')).toBe(conf('NCCL_PROTO=LL'));
    expect(readFileSync(second.backup!, 'utf8')).toBe(conf('NCCL_PROTO=Simple'));
    expect(readdirSync(home).filter((f) => f.includes('.tuneloop-'))).toEqual([]);
  });

  it('expands ~, recognises ~/.nccl.conf and asks allow_system for it', () => {
    expect(() => writeConfFile(store, '~/.nccl.conf', conf('NCCL_ALGO=Ring'), { home })).toThrow(/Refusing to write .*\.nccl\.conf without allow_system/);
    const r = writeConfFile(store, '~/.nccl.conf', conf('NCCL_ALGO=Ring'), { home, allowSystem: true });
    expect(r.path).toBe(join(home, '.nccl.conf'));
    expect(r.precedence).toMatch(/^Middle: ~\/.nccl.conf is read when NCCL_CONF_FILE is not set/);
  });

  it('refuses /etc/nccl.conf without allow_system, also through a symlinked directory', () => {
    const before = existsSync('/etc/nccl.conf') ? readFileSync('/etc/nccl.conf', 'utf8') : null;
    expect(() => writeConfFile(store, '/etc/nccl.conf', conf('x'), { home })).toThrow(/Refusing to write \/etc\/nccl.conf without allow_system/);
    const link = join(home, 'etc-link');
    symlinkSync('/etc', link);
    expect(() => writeConfFile(store, join(link, 'nccl.conf'), conf('x'), { home })).toThrow(/Refusing/);
    expect(existsSync('/etc/nccl.conf') ? readFileSync('/etc/nccl.conf', 'utf8') : null).toBe(before);
    expect(precedenceOf('/etc/nccl.conf', home).precedence).toMatch(/^Lowest/);
  });

  it('refuses relative paths, missing directories and non-files, naming the remedy', () => {
    expect(() => writeConfFile(store, 'nccl.conf', conf('x'), { home })).toThrow(/not absolute/);
    expect(() => writeConfFile(store, join(home, 'nope', 'nccl.conf'), conf('x'), { home })).toThrow(/does not exist/);
    mkdirSync(join(home, 'adir'));
    expect(() => writeConfFile(store, join(home, 'adir'), conf('x'), { home })).toThrow(/not a regular file/);
  });

  it('keeps the permissions of the file it replaces', () => {
    const path = join(home, 'mode.conf');
    writeConfFile(store, path, conf('NCCL_ALGO=Ring'), { home });
    chmodSync(path, 0o600);
    writeConfFile(store, path, conf('NCCL_ALGO=Tree'), { home });
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
  });
});
