/**
 * The parameter table and the validator: NCCL_ALGO/NCCL_PROTO grammar, ranges, deprecated and
 * removed names, typo suggestions, cross-variable rules. Every problem names its offending token.
 */
import { describe, expect, it } from 'vitest';
import { RISKS, PARAM_TYPES, compareVersions, filterParams, paramTable } from '../../../src/nccl/params/table.js';
import { parseNcclList } from '../../../src/nccl/params/grammar.js';
import { grammarFor } from '../../../src/nccl/params/lists.js';
import { ProblemList } from '../../../src/nccl/params/problem.js';
import { findParam } from '../../../src/nccl/params/table.js';
import { parseNcclInt } from '../../../src/nccl/params/values.js';
import { validateNcclEnv } from '../../../src/nccl/params/validate.js';

describe('parameter table', () => {
  const t = paramTable();
  it('has a type, risk class, description and well-formed versions for every variable', () => {
    for (const p of t.params) {
      expect(PARAM_TYPES, p.name).toContain(p.type);
      expect(RISKS, p.name).toContain(p.risk);
      expect(p.description.length, p.name).toBeGreaterThan(20);
      for (const v of [p.since, p.deprecated_since, p.per_collective_since]) if (v) expect(v, p.name).toMatch(/^\d+\.\d+(\.\d+)?$/);
      if (p.replaced_by) expect(t.byName.has(p.replaced_by), `${p.name} -> ${p.replaced_by}`).toBe(true);
    }
  });

  it('covers every variable of the reference, in all four risk classes', () => {
    for (const name of ['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_NTHREADS', 'NCCL_BUFFSIZE', 'NCCL_MIN_CTAS', 'NCCL_MAX_CTAS', 'NCCL_P2P_LEVEL', 'NCCL_NET_GDR_LEVEL', 'NCCL_SOCKET_IFNAME', 'NCCL_IB_HCA', 'NCCL_CROSS_NIC', 'NCCL_NVLS_ENABLE', 'NCCL_IB_TIMEOUT', 'NCCL_TUNER_PLUGIN', 'NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS', 'NCCL_DEBUG_FILE', 'NCCL_LL_THRESHOLD', 'NCCL_TREE_THRESHOLD', 'NCCL_SINGLE_RING_THRESHOLD', 'NCCL_IB_CUDA_SUPPORT', 'NCCL_LAUNCH_MODE', 'NCCL_MIN_NRINGS', 'NCCL_MAX_NCHANNELS']) {
      expect(t.byName.has(name), name).toBe(true);
    }
    expect(new Set(t.params.map((p) => p.risk))).toEqual(new Set(RISKS));
    expect(filterParams({ risk: 'may-corrupt-data' }).map((p) => p.name)).toEqual(['NCCL_PROTO']);
    expect(filterParams({ names: ['nccl_algo'] }).map((p) => p.name)).toEqual(['NCCL_ALGO']);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('2.9.6', '2.17')).toBeLessThan(0);
    expect(compareVersions('2.24.3', '2.24')).toBeGreaterThan(0);
    expect(compareVersions('2.25', '2.25.0')).toBe(0);
  });
});

describe('NCCL_ALGO / NCCL_PROTO grammar', () => {
  const algo = (value: string, version?: string) => {
    const problems = new ProblemList();
    const parsed = parseNcclList(value, grammarFor(findParam('NCCL_ALGO')!, version), problems);
    return { parsed, problems };
  };

  it('reads case-insensitive lists, ^ exclusion and per-collective rules', () => {
    const { parsed, problems } = algo('ring,TREE;allreduce:nvls;Broadcast:^tree');
    expect(problems.errors).toEqual([]);
    expect(parsed.normalized).toBe('Ring,Tree;AllReduce:NVLS;Broadcast:^Tree');
    expect(parsed.enabled.AllReduce).toEqual(['NVLS']);
    expect(parsed.enabled.AllGather).toEqual(['Ring', 'Tree']);
    expect(parsed.enabled.Broadcast).toEqual(['Ring', 'CollnetDirect', 'CollnetChain', 'NVLS', 'NVLSTree', 'PAT']);
  });

  it.each([
    ['Rnig', 'Rnig', 'Ring', /Unrecognized element "Rnig"/],
    ['ring;tree', 'tree', undefined, /only the first entry may omit/],
    ['allredcue:tree', 'allredcue', 'AllReduce', /Unrecognized collective "allredcue"/],
    ['CollNet', 'CollNet', 'CollnetDirect', /Unrecognized element "CollNet"/],
    ['ring, tree', ' tree', 'Tree', /whitespace/],
    ['allreduce:tree:ring', 'allreduce:tree:ring', undefined, /more than one ':'/],
  ])('%s is an error on token %j', (value, token, suggestion, message) => {
    const { problems } = algo(value);
    expect(problems.errors).toHaveLength(1);
    expect(problems.errors[0]).toMatchObject({ variable: 'NCCL_ALGO', token, ...(suggestion ? { suggestion } : {}) });
    expect(problems.errors[0].message).toMatch(message);
  });

  it('knows which releases have per-collective rules and which algorithms', () => {
    expect(algo('allreduce:tree', '2.21.5').problems.errors[0].message).toMatch(/need NCCL >= 2.24/);
    expect(algo('NVLS', '2.16.2').problems.errors[0]).toMatchObject({ token: 'NVLS', message: 'NVLS needs NCCL >= 2.17; NCCL 2.16.2 does not know it.' });
    expect(algo('PAT,Ring', '2.23.4').problems.errors).toEqual([]);
  });

  it('warns about stray separators NCCL skips', () => {
    const { parsed, problems } = algo('Ring,,Tree;');
    expect(problems.errors).toEqual([]);
    expect(problems.warnings.map((w) => w.token)).toEqual([',', ';']);
    expect(parsed.normalized).toBe('Ring,Tree');
  });
});

describe('validateNcclEnv', () => {
  it('normalizes a good config: canonical spelling, deprecated names renamed', () => {
    const v = validateNcclEnv({ NCCL_PROTO: 'simple', NCCL_MAX_NCHANNELS: '16', NCCL_P2P_LEVEL: 'nvl', NCCL_BUFFSIZE: '8388608', NCCL_DEBUG: 'info' });
    expect(v.ok).toBe(true);
    expect(v.normalized).toEqual({ NCCL_BUFFSIZE: '8388608', NCCL_DEBUG: 'INFO', NCCL_MAX_CTAS: '16', NCCL_P2P_LEVEL: 'NVL', NCCL_PROTO: 'Simple' });
    expect(v.warnings.map((w) => w.variable)).toEqual(expect.arrayContaining(['NCCL_MAX_NCHANNELS', 'NCCL_P2P_LEVEL', 'NCCL_DEBUG']));
    expect(v.variables.find((x) => x.name === 'NCCL_MAX_NCHANNELS')).toMatchObject({ status: 'deprecated', risk: 'tuning' });
  });

  it('keeps a deprecated name for a release that predates its replacement', () => {
    const v = validateNcclEnv({ NCCL_MAX_NCHANNELS: '16' }, { ncclVersion: '2.16.5' });
    expect(v.normalized).toEqual({ NCCL_MAX_NCHANNELS: '16' });
  });

  it('drops removed variables with a pointer to what replaced them', () => {
    const v = validateNcclEnv({ NCCL_LL_THRESHOLD: '16384', NCCL_ALGO: 'Ring' });
    expect(v.ok).toBe(true);
    expect(v.normalized).toEqual({ NCCL_ALGO: 'Ring' });
    expect(v.warnings.find((w) => w.variable === 'NCCL_LL_THRESHOLD')).toMatchObject({ suggestion: 'NCCL_PROTO' });
  });

  it.each([
    [{ NCCL_MIN_CTAS: '65' }, 'NCCL_MIN_CTAS', '65', /above the maximum 64/],
    [{ NCCL_BUFFSIZE: '4M' }, 'NCCL_BUFFSIZE', '4M', /not an integer NCCL can read/],
    [{ NCCL_IB_TIMEOUT: '0' }, 'NCCL_IB_TIMEOUT', '0', /below the minimum 1/],
    [{ NCCL_IB_TIMEOUT: '32' }, 'NCCL_IB_TIMEOUT', '32', /above the maximum 31/],
    [{ NCCL_CROSS_NIC: '3' }, 'NCCL_CROSS_NIC', '3', /not one of 0, 1, 2/],
    [{ NCCL_P2P_DISABLE: 'yes' }, 'NCCL_P2P_DISABLE', 'yes', /not 0 or 1/],
    [{ nccl_algo: 'Ring' }, 'nccl_algo', 'nccl_algo', /case-sensitive/],
    [{ NCCL_IB_HCA: 'mlx5_0:x' }, 'NCCL_IB_HCA', 'mlx5_0:x', /hca:port/],
    [{ NCCL_SOCKET_IFNAME: 'eth0,,eth1' }, 'NCCL_SOCKET_IFNAME', '', /empty/],
  ])('%j is an error naming %s and token %j', (config, variable, token, message) => {
    const v = validateNcclEnv(config as Record<string, string>);
    expect(v.ok).toBe(false);
    expect(v.errors[0]).toMatchObject({ variable, token });
    expect(v.errors[0].message).toMatch(message);
  });

  it('suggests the value a malformed one meant', () => {
    expect(validateNcclEnv({ NCCL_BUFFSIZE: '4M' }).errors[0].suggestion).toBe('4194304');
    expect(validateNcclEnv({ NCCL_P2P_DISABLE: 'yes' }).errors[0].suggestion).toBe('1');
    expect(validateNcclEnv({ NCCL_MIN_CTAS: '40' }, { ncclVersion: '2.23.4' }).errors[0].message).toMatch(/maximum 32 for NCCL 2.23.4/);
  });

  it('warns about unknown NCCL_* names with a typo suggestion, and keeps them', () => {
    const v = validateNcclEnv({ NCCL_ALOG: 'Ring', NCCL_BUFSIZE: '1048576', NCCL_COMM_ID: 'host:1234', ALGO: 'Ring', CUDA_VISIBLE_DEVICES: '0,1' });
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => [w.variable, w.suggestion])).toEqual([
      ['ALGO', 'NCCL_ALGO'],
      ['NCCL_ALOG', 'NCCL_ALGO'],
      ['NCCL_BUFSIZE', 'NCCL_BUFFSIZE'],
    ]);
    expect(v.normalized).toMatchObject({ NCCL_ALOG: 'Ring', CUDA_VISIBLE_DEVICES: '0,1' });
    expect(v.variables.find((x) => x.name === 'NCCL_COMM_ID')!.status).toBe('current');
    expect(v.variables.find((x) => x.name === 'CUDA_VISIBLE_DEVICES')!.status).toBe('not-nccl');
  });

  it('describes what NCCL does with out-of-list thread counts and octal-looking numbers', () => {
    const v = validateNcclEnv({ NCCL_NTHREADS: '100', NCCL_IB_QPS_PER_CONNECTION: '010' });
    expect(v.normalized).toMatchObject({ NCCL_NTHREADS: '512', NCCL_IB_QPS_PER_CONNECTION: '8' });
    const text = v.warnings.map((w) => w.message).join(' ');
    expect(text).toMatch(/NCCL_NTHREADS=100 .* silently uses 512/);
    expect(text).toMatch(/"010" has a leading 0: NCCL reads it as octal \(8\)/);
    expect(parseNcclInt('0x10')).toBe(16);
    expect(parseNcclInt('1e3')).toBeNull();
  });

  it('checks rules across variables', () => {
    expect(validateNcclEnv({ NCCL_MIN_CTAS: '16', NCCL_MAX_CTAS: '8' }).errors[0]).toMatchObject({ variable: 'NCCL_MIN_CTAS/NCCL_MAX_CTAS' });
    expect(validateNcclEnv({ NCCL_MAX_NCHANNELS: '8', NCCL_MAX_CTAS: '16' }).errors[0].message).toMatch(/Both NCCL_MAX_NCHANNELS=8 and its replacement/);
    expect(validateNcclEnv({ NCCL_SOCKET_NTHREADS: '16', NCCL_NSOCKS_PERTHREAD: '8' }).errors[0].message).toMatch(/128 exceeds 64/);
  });

  it('warns when a global algorithm leaves other collectives nothing, and when LL128 is forced', () => {
    const tree = validateNcclEnv({ NCCL_ALGO: 'Tree' });
    expect(tree.ok).toBe(true);
    expect(tree.warnings[0].message).toMatch(/no supported algorithm\/protocol for Broadcast, Reduce, AllGather, ReduceScatter/);
    expect(validateNcclEnv({ NCCL_ALGO: 'allreduce:tree' }).warnings).toEqual([]);
    expect(validateNcclEnv({ NCCL_ALGO: 'NVLS', NCCL_PROTO: 'LL' }).warnings[0].message).toMatch(/AllReduce/);
    const ll128 = validateNcclEnv({ NCCL_PROTO: '^LL' });
    expect(ll128.warnings.map((w) => w.token)).toContain('LL128');
    expect(validateNcclEnv({ NCCL_PROTO: '^LL128' }).warnings).toEqual([]);
  });

  it('flags debug-only and dangerous settings', () => {
    const v = validateNcclEnv({ NCCL_P2P_DISABLE: '1', NCCL_IB_TIMEOUT: '22' });
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => [w.variable, w.message.match(/debug-only|dangerous/)?.[0]])).toEqual([
      ['NCCL_IB_TIMEOUT', 'dangerous'],
      ['NCCL_P2P_DISABLE', 'debug-only'],
    ]);
  });

  it('refuses values no environment can carry', () => {
    expect(validateNcclEnv({ NCCL_ALGO: 'Ring\nNCCL_PROTO=LL' }).errors[0].message).toMatch(/newline/);
    expect(validateNcclEnv({ 'NCCL-ALGO': 'Ring' }).errors[0].message).toMatch(/not a valid environment variable name/);
  });
});
