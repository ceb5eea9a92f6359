/** nccl_params and nccl_env through MCP: the client validates every answer against the output schema. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory, textOf } from '../../helpers/runtime.js';
import { tempDir } from '../../helpers/tmp.js';

const { call } = await connectInMemory();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sc = (r: { structuredContent?: unknown }) => r.structuredContent as any;

describe('nccl_params', () => {
  it('describes the parameter space, filtered', async () => {
    const r = await call('nccl_params', { risk: 'debug-only' });
    expect(r.isError).toBeFalsy();
    const names = sc(r).params.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['NCCL_DEBUG', 'NCCL_P2P_DISABLE']));
    expect(names).not.toContain('NCCL_ALGO');
    const ctas = sc(await call('nccl_params', { names: ['NCCL_MIN_CTAS'] })).params[0];
    expect(ctas).toMatchObject({ since: '2.17', range: { min: 1, max: 64 }, risk: 'tuning', status: 'current' });
    const old = sc(await call('nccl_params', { names: ['NCCL_MIN_NCHANNELS'] })).params[0];
    expect(old).toMatchObject({ status: 'deprecated', deprecated_since: '2.17', replaced_by: 'NCCL_MIN_CTAS' });
    const then = sc(await call('nccl_params', { names: ['NCCL_MIN_CTAS', 'NCCL_IB_TIMEOUT'], nccl_version: '2.21.5' }));
    expect(then.nccl_version).toBe('2.21.5');
    expect(then.params.map((p: { name: string; default: string | null; range?: unknown }) => [p.name, p.default, p.range])).toEqual([
      ['NCCL_IB_TIMEOUT', '18', { min: 0, max: 31 }],
      ['NCCL_MIN_CTAS', null, { min: 1, max: 32 }],
    ]);
    const described = sc(await call('nccl_params', {})).params.length;
    const all = sc(await call('nccl_params', { undocumented: true })).params.length;
    expect(all).toBeGreaterThan(described + 100);
  });

  it('validates a config and returns every problem with its token', async () => {
    const r = await call('nccl_params', { action: 'validate', config: { NCCL_ALGO: 'ring;Tre', NCCL_ALOG: 'x', NCCL_MIN_NCHANNELS: '4' } });
    const v = sc(r).validation;
    expect(v.ok).toBe(false);
    expect(v.errors.map((e: { token: string }) => e.token)).toEqual(['Tre']);
    expect(v.warnings.map((w: { suggestion?: string }) => w.suggestion)).toEqual(expect.arrayContaining(['NCCL_ALGO', 'NCCL_MIN_CTAS']));
    expect(v.normalized).toMatchObject({ NCCL_MIN_NCHANNELS: '4', NCCL_ALOG: 'x' });
    expect(v.nccl_version).toBe('2.30.7');
    expect(textOf(r)).toMatch(/1 error\(s\)/);
  });
});

describe('nccl_env', () => {
  it('saves, lists, shows, renders and deletes profiles', async () => {
    const saved = await call('nccl_env', { action: 'save', name: 'big-msgs', env: { NCCL_PROTO: 'simple', NCCL_MAX_NCHANNELS: '16' }, description: 'large all-reduce' });
    expect(saved.isError).toBeFalsy();
    // Names are kept as given (NCCL still reads the deprecated one); values are canonical.
    expect(sc(saved).profile.env).toEqual({ NCCL_MAX_NCHANNELS: '16', NCCL_PROTO: 'Simple' });

    const dup = await call('nccl_env', { action: 'save', name: 'big-msgs', env: { NCCL_PROTO: 'LL' } });
    expect(dup.isError).toBe(true);
    expect(textOf(dup)).toMatch(/already exists[\s\S]*replace: true/);
    expect(sc(await call('nccl_env', { action: 'save', name: 'big-msgs', env: { NCCL_PROTO: 'Simple', NCCL_MAX_CTAS: '16' }, replace: true })).replaced).toBe(true);

    expect(sc(await call('nccl_env', { action: 'list' })).profiles.map((p: { name: string }) => p.name)).toEqual(['big-msgs']);
    expect(sc(await call('nccl_env', { action: 'show', name: 'big-msgs' })).validation.ok).toBe(true);

    const mpirun = sc(await call('nccl_env', { action: 'render', name: 'big-msgs', env: { NCCL_ALGO: 'Ring' }, format: 'mpirun' }));
    expect(mpirun.rendered.args).toEqual(['-x', 'NCCL_ALGO=Ring', '-x', 'NCCL_MAX_CTAS=16', '-x', 'NCCL_PROTO=Simple']);
    const conf = sc(await call('nccl_env', { action: 'render', name: 'big-msgs', format: 'conf' }));
    expect(conf.rendered.text).toMatch(/^# Written by tuneloop from NCCL profile "big-msgs".*\nNCCL_MAX_CTAS=16\nNCCL_PROTO=Simple\n$/);

    expect(sc(await call('nccl_env', { action: 'delete', name: 'big-msgs' })).deleted).toBe('big-msgs');
    const gone = await call('nccl_env', { action: 'show', name: 'big-msgs' });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toMatch(/No NCCL profile named "big-msgs"/);
  });

  it('refuses to save or render a config with errors, naming the token', async () => {
    const r = await call('nccl_env', { action: 'save', name: 'bad', env: { NCCL_ALGO: 'Rnig' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Unrecognized element "Rnig"/);
    expect(sc(await call('nccl_env', { action: 'list' })).profiles).toEqual([]);
    expect((await call('nccl_env', { action: 'render', env: { NCCL_IB_TIMEOUT: '40' }, format: 'export' })).isError).toBe(true);
    expect(textOf(await call('nccl_env', { action: 'save', name: 'bool', env: { NCCL_CUMEM_ENABLE: 'banana' } }))).toMatch(/NCCL_CUMEM_ENABLE="banana" is not an integer/);
    expect(textOf(await call('nccl_env', { action: 'save', env: { NCCL_ALGO: 'Ring' } }))).toMatch(/action "save" needs name/);
    expect(textOf(await call('nccl_env', { action: 'save', name: '../x', env: { NCCL_ALGO: 'Ring' } }))).toMatch(/Profile name "..\/x" is not allowed/);
  });

  it('write_conf writes where told, backs up, and states precedence and that running processes keep their env', async () => {
    const dir = tempDir();
    const path = join(dir, 'nccl.conf');
    const first = sc(await call('nccl_env', { action: 'write_conf', env: { NCCL_PROTO: 'Simple' }, path }));
    expect(first.written).toMatchObject({ path, backup: null });
    expect(readFileSync(path, 'utf8')).toMatch(/NCCL_PROTO=Simple\n$/);
    const second = await call('nccl_env', { action: 'write_conf', env: { NCCL_PROTO: 'LL128' }, path });
    const w = sc(second).written;
    expect(readFileSync(w.backup, 'utf8')).toMatch(/NCCL_PROTO=Simple/);
    expect(textOf(second)).toMatch(/process env > NCCL_CONF_FILE or ~\/.nccl.conf > \/etc\/nccl.conf/);
    expect(textOf(second)).toMatch(/Processes already running keep the environment they started with/);
    const before = existsSync('/etc/nccl.conf') ? readFileSync('/etc/nccl.conf', 'utf8') : null;
    const system = await call('nccl_env', { action: 'write_conf', env: { NCCL_PROTO: 'Simple' }, path: '/etc/nccl.conf' });
    expect(system.isError).toBe(true);
    expect(textOf(system)).toMatch(/allow_system: true/);
    expect(existsSync('/etc/nccl.conf') ? readFileSync('/etc/nccl.conf', 'utf8') : null).toBe(before);
  });
});
