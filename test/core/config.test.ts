import { describe, expect, it } from 'vitest';
import { loadConfig, parseToolsets } from '../../src/core/config.js';

describe('loadConfig', () => {
  it('prefers flags over environment over defaults', () => {
    const env = { HOME: '/home/u', TUNELOOP_TOOLSETS: 'sched', TUNELOOP_READ_ONLY: '1', PATH: '/a:/b' };
    expect(loadConfig({}, env)).toMatchObject({
      home: '/home/u/.local/state/tuneloop',
      toolsets: ['sched', 'jobs'],
      readOnly: true,
      sysfsRoot: '/sys',
      procRoot: '/proc',
      binPath: ['/a', '/b'],
      python: 'python3',
    });
    expect(loadConfig({ toolsets: 'nccl,history', readOnly: false, home: '/data' }, env)).toMatchObject({ home: '/data', toolsets: ['nccl', 'history', 'jobs'], readOnly: false });
    expect(loadConfig({}, { XDG_STATE_HOME: '/state' }).home).toBe('/state/tuneloop');
  });

  it('enables every toolset by default and refuses unknown ones', () => {
    expect(parseToolsets(undefined)).toEqual(['observe', 'sched', 'nccl', 'triton', 'history', 'jobs']);
    expect(() => parseToolsets('observe,gpu')).toThrow(/Unknown toolset "gpu"/);
  });

  it('takes an unexpanded ${VAR:-default} placeholder (a client that does not expand them) as what it meant', () => {
    const config = loadConfig({}, { TUNELOOP_TOOLSETS: '${TUNELOOP_TOOLSETS:-all}', TUNELOOP_READ_ONLY: '${TUNELOOP_READ_ONLY}', TUNELOOP_PYTHON: '${PY:-python3.11}' });
    expect(config.toolsets).toEqual(['observe', 'sched', 'nccl', 'triton', 'history', 'jobs']);
    expect(config.readOnly).toBe(false);
    expect(config.python).toBe('python3.11');
    expect(loadConfig({}, { TUNELOOP_TOOLSETS: '${TUNELOOP_TOOLSETS:-observe}' }).toolsets).toEqual(['observe', 'jobs']);
  });

  it('refuses a read-only flag that is not a boolean', () => {
    expect(() => loadConfig({}, { TUNELOOP_READ_ONLY: 'maybe' })).toThrow(/TUNELOOP_READ_ONLY="maybe" is not a boolean/);
  });
});
