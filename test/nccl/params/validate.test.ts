/**
 * The validator gives NCCL's own verdict for a release: an error when NCCL fails or does not
 * apply the value as written, a warning when it adjusts it or does not read the variable.
 * Every problem names its offending token. Semantics from NVIDIA/nccl's parsing code (notes in
 * knowledge/nccl/params.json).
 */
import { describe, expect, it } from 'vitest';
import { parseNcclList } from '../../../src/nccl/params/grammar.js';
import { grammarFor } from '../../../src/nccl/params/lists.js';
import { parseNcclInt, strtoll } from '../../../src/nccl/params/numbers.js';
import { ProblemList } from '../../../src/nccl/params/problem.js';
import { findParam } from '../../../src/nccl/params/table.js';
import { validateNcclEnv } from '../../../src/nccl/params/validate.js';

const check = (env: Record<string, string>, ncclVersion?: string) => validateNcclEnv(env, { ncclVersion });

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
    ['Rnig', 'Rnig', 'Ring', /Unrecognized element "Rnig".*fails at init/],
    ['ring;tree', 'tree', undefined, /only the first entry may omit/],
    ['allredcue:tree', 'allredcue', 'AllReduce', /Unrecognized collective "allredcue"/],
    ['CollNet', 'CollNet', undefined, /CollNet is no longer an element of NCCL_ALGO in NCCL 2\.30\.7 \(removed in 2\.14\)/],
    ['ring, tree', ' tree', 'Tree', /whitespace/],
    ['allreduce:tree:ring', 'allreduce:tree:ring', 'allreduce:tree,ring', /more than one ':': NCCL reads only "allreduce:tree"/],
  ])('%s is an error on token %j', (value, token, suggestion, message) => {
    const { problems } = algo(value, '2.30.7');
    expect(problems.errors).toHaveLength(1);
    expect(problems.errors[0]).toMatchObject({ variable: 'NCCL_ALGO', token, ...(suggestion ? { suggestion } : {}) });
    expect(problems.errors[0].message).toMatch(message);
  });

  it('reads the pre-2.24 grammar: one list, unknown tokens skipped without a word', () => {
    const old = algo('allreduce:tree', '2.21.5');
    expect(old.problems.errors[0]).toMatchObject({ token: 'allreduce:tree' });
    expect(old.problems.errors[0].message).toMatch(/per-collective rule, which NCCL reads only from 2\.24\. NCCL 2\.21\.5 skips it without a word/);
    expect(algo('Rnig,Tree', '2.21.5').problems.errors[0].message).toMatch(/skips it without a word/);
    expect(algo('NVLS', '2.16.5').problems.errors[0]).toMatchObject({ token: 'NVLS', message: expect.stringMatching(/NVLS needs NCCL >= 2\.17; NCCL 2\.16\.5 does not know it/) });
    expect(algo('PAT,Ring', '2.23.4').problems.errors).toEqual([]);
  });

  it('accepts CollNet exactly on the releases that had it (2.6-2.13)', () => {
    expect(algo('CollNet,Ring', '2.12.12').problems.errors).toEqual([]);
    expect(algo('collnet', '2.9.9').parsed.normalized).toBe('CollNet');
    expect(algo('CollNet', '2.14.3').problems.errors[0].message).toMatch(/no longer an element .*removed in 2\.14/);
    expect(algo('CollnetDirect', '2.12.12').problems.errors[0].message).toMatch(/needs NCCL >= 2\.14/);
  });

  it('skips stray separators as NCCL does, with warnings', () => {
    const { parsed, problems } = algo('Ring,,Tree;');
    expect(problems.errors).toEqual([]);
    expect(problems.warnings.map((w) => w.token)).toEqual([';', ',']);
    expect(parsed.normalized).toBe('Ring,Tree');
    expect(algo('allreduce::tree').problems.errors).toEqual([]);
  });
});

describe('integers and booleans as strtoll reads them', () => {
  it('emulates strtoll(value, NULL, 0)', () => {
    expect(strtoll('banana')).toMatchObject({ value: 0, digits: false });
    expect(strtoll('4M')).toMatchObject({ value: 4, rest: 'M' });
    expect(strtoll('08')).toMatchObject({ value: 0, rest: '8' });
    expect(strtoll('010')).toMatchObject({ value: 8, octal: true });
    expect(strtoll(' 0x10')).toMatchObject({ value: 16, rest: '' });
    expect(strtoll('99999999999999999999').overflow).toBe(true);
    expect(parseNcclInt('1e3')).toBeNull();
    expect(parseNcclInt('-1')).toBe(-1);
  });

  it.each([
    [{ NCCL_CUMEM_ENABLE: 'banana' }, 'NCCL_CUMEM_ENABLE', 'banana', /silently gets 0/],
    [{ NCCL_CUMEM_ENABLE: 'true' }, 'NCCL_CUMEM_ENABLE', 'true', /silently gets 0/],
    [{ NCCL_BUFFSIZE: '4M' }, 'NCCL_BUFFSIZE', '4M', /silently gets 4\b/],
    [{ NCCL_IB_QPS_PER_CONNECTION: '08' }, 'NCCL_IB_QPS_PER_CONNECTION', '08', /gets 0 \(a leading 0 means octal\)/],
    [{ NCCL_BUFFSIZE: '99999999999999999999' }, 'NCCL_BUFFSIZE', '99999999999999999999', /overflows/],
    [{ NCCL_P2P_DISABLE: '2' }, 'NCCL_P2P_DISABLE', '2', /acts only on the value 1/],
    [{ NCCL_GRAPH_MIXING_SUPPORT: '2' }, 'NCCL_GRAPH_MIXING_SUPPORT', '2', /not 0 or 1: NCCL ignores it/],
    [{ NCCL_WORK_FIFO_BYTES: '1000000' }, 'NCCL_WORK_FIFO_BYTES', '1000000', /not a power of two: NCCL ignores it/],
    [{ NCCL_MIN_CTAS: '0' }, 'NCCL_MIN_CTAS', '0', /below the minimum 1: NCCL ignores it/],
    [{ NCCL_IB_TIMEOUT: '32' }, 'NCCL_IB_TIMEOUT', '32', /above the maximum 31: .*infinite timeout/],
    [{ NCCL_IB_RETRY_CNT: '8' }, 'NCCL_IB_RETRY_CNT', '8', /0-7/],
  ])('%j is an error naming %s and token %j', (config, variable, token, message) => {
    const v = check(config as Record<string, string>);
    expect(v.ok).toBe(false);
    expect(v.errors[0]).toMatchObject({ variable, token });
    expect(v.errors[0].message).toMatch(message);
    expect(v.normalized).not.toHaveProperty(variable);
  });

  it('suggests what a malformed value meant', () => {
    expect(check({ NCCL_BUFFSIZE: '4M' }).errors[0].suggestion).toBe('4194304');
    expect(check({ NCCL_CUMEM_ENABLE: 'yes' }).errors[0].suggestion).toBe('1');
    expect(check({ NCCL_P2P_DISABLE: 'off' }).errors[0].suggestion).toBe('0');
  });

  it('accepts what NCCL adjusts, saying how, and normalizes to what NCCL uses', () => {
    const v = check({ NCCL_NTHREADS: '100', NCCL_IB_QPS_PER_CONNECTION: '010', NCCL_MIN_CTAS: '128', NCCL_CGA_CLUSTER_SIZE: '16', NCCL_IB_TIMEOUT: '0' });
    expect(v.ok).toBe(true);
    expect(v.normalized).toEqual({ NCCL_CGA_CLUSTER_SIZE: '8', NCCL_IB_QPS_PER_CONNECTION: '8', NCCL_IB_TIMEOUT: '0', NCCL_MIN_CTAS: '64', NCCL_NTHREADS: '512' });
    const text = v.warnings.map((w) => w.message).join(' ');
    expect(text).toMatch(/NCCL_NTHREADS=100 .* silently uses 512/);
    expect(text).toMatch(/"010" has a leading 0: NCCL reads it as octal \(8\)/);
    expect(text).toMatch(/NCCL_MIN_CTAS=128 is above the maximum 64: NCCL uses 64 instead/);
    expect(text).toMatch(/NCCL_IB_TIMEOUT=0: 0 means an infinite timeout/);
    expect(check({ NCCL_MIN_CTAS: '40' }, '2.23.4').warnings[0].message).toMatch(/above the maximum 32 for NCCL 2\.23\.4 \(64 since 2\.25\): NCCL uses 32/);
  });

  it('reads the words of the 2.30 boolean parser only from 2.30', () => {
    expect(check({ NCCL_SET_THREAD_NAME: 'TRUE' }).normalized).toEqual({ NCCL_SET_THREAD_NAME: '1' });
    expect(check({ NCCL_SET_THREAD_NAME: 'yes' }).errors[0].message).toMatch(/not a boolean NCCL 2\.30\.7 accepts \(1\/T\/TRUE or 0\/F\/FALSE\)/);
    expect(check({ NCCL_SET_THREAD_NAME: 'true' }, '2.21.5').errors[0].message).toMatch(/silently gets 0/);
  });
});

describe('words, levels and lists', () => {
  it('reads legacy numeric path levels, anything above 4 meaning SYS', () => {
    for (const [value, level] of [['0', 'LOC'], ['4', 'SYS'], ['5', 'SYS'], ['12', 'SYS']]) {
      const v = check({ NCCL_P2P_LEVEL: value, NCCL_NET_GDR_LEVEL: value });
      expect(v.ok, value).toBe(true);
      expect(v.normalized).toEqual({ NCCL_NET_GDR_LEVEL: level, NCCL_P2P_LEVEL: level });
    }
    expect(check({ NCCL_P2P_LEVEL: '5' }).warnings[0].message).toMatch(/above 4, which NCCL reads as SYS/);
  });

  it('compares level names case-sensitively, and reads names only from 2.6', () => {
    expect(check({ NCCL_P2P_LEVEL: 'sys' }).errors[0]).toMatchObject({ token: 'sys', suggestion: 'SYS', message: expect.stringMatching(/case-sensitively.*ignores it/) });
    expect(check({ NCCL_P2P_LEVEL: 'NVB' }).warnings[0].message).toMatch(/accepts this path type, but its documentation does not list it/);
    expect(check({ NCCL_P2P_LEVEL: 'NVL' }, '2.5.6').errors[0].message).toMatch(/reads the level as an integer .* gets 0 \(LOC\)/);
  });

  it('enumerations: strcmp ones refuse other cases, strcasecmp ones normalize', () => {
    expect(check({ NCCL_DEBUG: 'info' }).normalized).toEqual({ NCCL_DEBUG: 'INFO' });
    expect(check({ NCCL_SOCKET_FAMILY: 'af_inet6' }).errors[0]).toMatchObject({ suggestion: 'AF_INET6' });
    expect(check({ NCCL_NETDEVS_POLICY: 'max:2' }).normalized).toEqual({ NCCL_NETDEVS_POLICY: 'MAX:2' });
    expect(check({ NCCL_NETDEVS_POLICY: 'MAX:0' }).ok).toBe(false);
    expect(check({ NCCL_CTA_POLICY: 'efficiency|zero' }).normalized).toEqual({ NCCL_CTA_POLICY: 'EFFICIENCY|ZERO' });
    expect(check({ NCCL_CTA_POLICY: '1' }, '2.27.3').ok).toBe(true);
    expect(check({ NCCL_CTA_POLICY: 'EFFICIENCY' }, '2.28.9').errors[0].message).toMatch(/policy names need NCCL >= 2\.29/);
  });

  it('knows every debug subsystem, ALLOC_HOST and DESTROY included, and never strips unknown ones', () => {
    expect(check({ NCCL_DEBUG_SUBSYS: 'INIT,ALLOC_HOST,DESTROY,RAS' }).ok).toBe(true);
    // Before 2.30 NCCL skips an unknown name and applies the rest: a warning, the name kept.
    const old = check({ NCCL_DEBUG_SUBSYS: 'init,TUNNING' }, '2.21.5');
    expect(old.ok).toBe(true);
    expect(old.normalized.NCCL_DEBUG_SUBSYS).toBe('INIT,TUNNING');
    expect(old.warnings[0]).toMatchObject({ token: 'TUNNING', suggestion: 'TUNING' });
    expect(check({ NCCL_DEBUG_SUBSYS: 'DESTROY' }, '2.29.7').warnings[0].message).toMatch(/DESTROY needs NCCL >= 2\.30\.3/);
    // From 2.30 one unknown name voids the whole value.
    const now = check({ NCCL_DEBUG_SUBSYS: 'INIT,TUNNING' });
    expect(now.ok).toBe(false);
    expect(now.errors[0].message).toMatch(/ignores the whole value and uses its default \(INIT,BOOTSTRAP,ENV\)/);
  });

  it('reads NCCL_IB_HCA as NCCL does: rail/plane since 2.30.5, ^= only at the start', () => {
    expect(check({ NCCL_IB_HCA: '=mlx5_0:1:0:0,mlx5_1:1:0:1' }).ok).toBe(true);
    expect(check({ NCCL_IB_HCA: '=mlx5_0::0:0,mlx5_1::0:1' }).ok).toBe(true);
    const old = check({ NCCL_IB_HCA: '=mlx5_0::0:0' }, '2.21.5');
    expect(old.errors[0].message).toMatch(/empty port is read as port 0 by NCCL 2\.21\.5/);
    expect(check({ NCCL_IB_HCA: '=mlx5_0:1:0:0' }, '2.21.5').warnings[0].message).toMatch(/ignores the rail\/plane fields/);
    const second = check({ NCCL_IB_HCA: '^=mlx5_0,^=mlx5_1' });
    expect(second.ok).toBe(true);
    expect(second.warnings[0]).toMatchObject({ token: '^=mlx5_1', suggestion: '^=mlx5_0,mlx5_1' });
    expect(second.warnings[0].message).toMatch(/NOT excluded/);
    expect(check({ NCCL_IB_HCA: '=^mlx5_0' }).ok).toBe(false);
    expect(check({ NCCL_IB_HCA: 'mlx5_0:x' }).errors[0]).toMatchObject({ token: 'mlx5_0:x', message: expect.stringMatching(/not a positive integer/) });
    expect(check({ NCCL_IB_HCA: 'mlx5_1' }).warnings[0].message).toMatch(/prefix: it also matches mlx5_10/);
  });

  it('reads interface lists, skipping stray commas like NCCL', () => {
    const v = check({ NCCL_SOCKET_IFNAME: 'eth0,,eth1' });
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => w.token)).toContain(',');
    expect(check({ NCCL_SOCKET_IFNAME: 'eth0, eth1' }).errors[0].token).toBe(' eth1');
  });

  it('refuses paths with ~, which NCCL does not expand', () => {
    expect(check({ NCCL_CONF_FILE: '~/nccl.conf' }).errors[0].message).toMatch(/does not expand "~"/);
    expect(check({ NCCL_DEBUG_FILE: '/tmp/nccl.log' }).warnings[0].message).toMatch(/no %h or %p/);
  });
});

describe('variables and releases', () => {
  it('keeps every name as given: aliases stay, deprecated names are not renamed, removed ones not dropped', () => {
    const v = check({ NCCL_MIN_NRINGS: '4', NCCL_MAX_NCHANNELS: '16', NCCL_LL_THRESHOLD: '0', NCCL_PROTO: 'simple' });
    expect(v.ok).toBe(true);
    expect(v.normalized).toEqual({ NCCL_LL_THRESHOLD: '0', NCCL_MAX_NCHANNELS: '16', NCCL_MIN_NRINGS: '4', NCCL_PROTO: 'Simple' });
    const byVar = Object.fromEntries(v.warnings.map((w) => [w.variable, w]));
    expect(byVar.NCCL_MIN_NRINGS.message).toMatch(/still reads it as an alias of NCCL_MIN_NCHANNELS/);
    expect(byVar.NCCL_MAX_NCHANNELS).toMatchObject({ suggestion: 'NCCL_MAX_CTAS' });
    expect(byVar.NCCL_LL_THRESHOLD).toMatchObject({ suggestion: 'NCCL_PROTO', message: expect.stringMatching(/does not read NCCL_LL_THRESHOLD .* since 2\.5\.6/) });
    expect(v.variables.find((x) => x.name === 'NCCL_LL_THRESHOLD')!.status).toBe('removed');
  });

  it('answers for the release asked for: WORK_FIFO_DEPTH until 2.21, WORK_FIFO_BYTES and CONF_FILE after', () => {
    expect(check({ NCCL_WORK_FIFO_DEPTH: '65536' }, '2.21.5').warnings).toEqual([]);
    expect(check({ NCCL_WORK_FIFO_DEPTH: '65536' }, '2.22.3').warnings[0]).toMatchObject({ suggestion: 'NCCL_WORK_FIFO_BYTES' });
    expect(check({ NCCL_WORK_FIFO_BYTES: '1048576' }, '2.21.5').warnings[0].message).toMatch(/does not read NCCL_WORK_FIFO_BYTES \(it appeared in 2\.22\.3\)/);
    const conf = check({ NCCL_CONF_FILE: '/shared/nccl.conf' }, '2.21.5');
    expect(conf.variables[0].status).toBe('not-yet');
    expect(check({ NCCL_CONF_FILE: '/shared/nccl.conf' }, '2.23.4').warnings).toEqual([]);
    expect(check({}).nccl_version).toBe('2.30.7');
  });

  it('models the variables the old table missed', () => {
    const v = check({ NCCL_P2P_PXN_LEVEL: '1', NCCL_CTA_POLICY: 'EFFICIENCY', NCCL_NETDEVS_POLICY: 'ALL', NCCL_IB_OOO_RQ: '1', NCCL_DMABUF_ENABLE: '0', NCCL_P2P_DIRECT_DISABLE: '1' });
    expect(v.ok).toBe(true);
    expect(v.warnings.filter((w) => /not read|not a known/.test(w.message))).toEqual([]);
    expect(v.variables.every((x) => x.status === 'current')).toBe(true);
  });

  it('warns about unknown names with a suggestion and keeps them; case errors are errors', () => {
    const v = check({ NCCL_ALOG: 'Ring', NCCL_BUFSIZE: '1048576', ALGO: 'Ring', CUDA_VISIBLE_DEVICES: '0,1' });
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => [w.variable, w.suggestion])).toEqual([
      ['ALGO', 'NCCL_ALGO'],
      ['NCCL_ALOG', 'NCCL_ALGO'],
      ['NCCL_BUFSIZE', 'NCCL_BUFFSIZE'],
    ]);
    expect(v.normalized).toMatchObject({ NCCL_ALOG: 'Ring', CUDA_VISIBLE_DEVICES: '0,1' });
    expect(v.variables.find((x) => x.name === 'CUDA_VISIBLE_DEVICES')!.status).toBe('not-nccl');
    expect(check({ nccl_algo: 'Ring' }).errors[0]).toMatchObject({ token: 'nccl_algo', suggestion: 'NCCL_ALGO' });
    expect(check({ NCCL_COMM_ID: 'host:1234' }).variables[0].status).toBe('current');
  });

  it('says what NCCL does when variables meet', () => {
    expect(check({ NCCL_MIN_CTAS: '16', NCCL_MAX_CTAS: '8' }).warnings[0].message).toMatch(/minimum channel count \(16\) is above the maximum \(8\): NCCL sets both to 8/);
    expect(check({ NCCL_MAX_NCHANNELS: '8', NCCL_MAX_CTAS: '16' }).warnings.map((w) => w.message).join(' ')).toMatch(/uses the more restrictive \(the lower\) value/);
    expect(check({ NCCL_MIN_NRINGS: '4', NCCL_MIN_NCHANNELS: '8' }).warnings.map((w) => w.message).join(' ')).toMatch(/NCCL_MIN_NRINGS=4 is ignored: NCCL_MIN_NCHANNELS is set/);
    expect(check({ NCCL_SOCKET_NTHREADS: '16', NCCL_NSOCKS_PERTHREAD: '8' }).warnings[0].message).toMatch(/= 128 exceeds 64: NCCL lowers the sockets per thread to 4/);
  });

  it('warns when a global algorithm leaves other collectives nothing, and when LL128 is forced', () => {
    const tree = check({ NCCL_ALGO: 'Tree' });
    expect(tree.ok).toBe(true);
    expect(tree.warnings[0].message).toMatch(/no supported algorithm\/protocol for Broadcast, Reduce, AllGather, ReduceScatter/);
    expect(check({ NCCL_ALGO: 'allreduce:tree' }).warnings).toEqual([]);
    expect(check({ NCCL_ALGO: 'NVLS', NCCL_PROTO: 'LL' }).warnings[0].message).toMatch(/AllReduce/);
    expect(check({ NCCL_PROTO: '^LL' }).warnings.map((w) => w.token)).toContain('LL128');
    expect(check({ NCCL_PROTO: '^LL128' }).warnings).toEqual([]);
  });

  it('flags debug-only and dangerous settings', () => {
    const v = check({ NCCL_P2P_DISABLE: '1', NCCL_LEGACY_CUDA_REGISTER: '1', NCCL_IB_TIMEOUT: '22' });
    expect(v.ok).toBe(true);
    expect(v.warnings.map((w) => [w.variable, w.message.match(/debug-only|dangerous/)?.[0]])).toEqual([
      ['NCCL_LEGACY_CUDA_REGISTER', 'dangerous'],
      ['NCCL_P2P_DISABLE', 'debug-only'],
    ]);
  });

  it('refuses values no environment can carry', () => {
    expect(check({ NCCL_ALGO: 'Ring\nNCCL_PROTO=LL' }).errors[0].message).toMatch(/newline/);
    expect(check({ 'NCCL-ALGO': 'Ring' }).errors[0].message).toMatch(/not a valid environment variable name/);
  });
});
