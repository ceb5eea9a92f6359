/**
 * The parameter table against NCCL's own documentation (env.rst 2.30.7, as a fixture) and the
 * release windows the source scan gives; the version-aware accessor learn builds on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ncclParameters } from '../../../src/nccl/params/space.js';
import { PARAM_TYPES, RISKS, defaultFor, filterParams, findParam, paramTable, presence } from '../../../src/nccl/params/table.js';
import { compareVersions } from '../../../src/nccl/params/versions.js';

const documented = readFileSync(join(import.meta.dirname, '../../fixtures/nccl/params/env-rst-2.30.7.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [name, section, since] = l.split('\t');
    return { name, section, since };
  });

describe('parameter table', () => {
  const t = paramTable();

  it('models every variable of env.rst 2.30.7 (113) with a type, values or range, and a description', () => {
    expect(documented).toHaveLength(113);
    for (const d of documented) {
      const p = findParam(d.name);
      expect(p, d.name).toBeDefined();
      expect(p!.documented, d.name).toBe(true);
      expect(p!.doc_section, d.name).toBe(d.section);
      expect(PARAM_TYPES, d.name).toContain(p!.type);
      expect(RISKS, d.name).toContain(p!.risk);
      expect(p!.description.length, d.name).toBeGreaterThan(20);
      if (d.since) expect(p!.doc_since, d.name).toBe(d.since.replace(/^\(|\)$/g, ''));
    }
  });

  it('keeps the sources it was built from', () => {
    expect(t.sources.docs).toMatchObject({ repo: 'NVIDIA/nccl', path: 'docs/userguide/source/env.rst', version: '2.30.7' });
    expect(t.scanned[0]).toBe('2.3.5');
    expect(t.scanned.at(-1)).toBe(t.newest);
  });

  it('has well-formed versions, and replacements that exist', () => {
    for (const p of t.params) {
      for (const v of [p.since, p.removed_in, p.deprecated_since, p.per_collective_since]) if (v) expect(v, p.name).toMatch(/^\d+\.\d+(\.\d+)?$/);
      if (p.since && p.removed_in) expect(compareVersions(p.since, p.removed_in), p.name).toBeLessThan(0);
      if (p.replaced_by) expect(t.byName.has(p.replaced_by), `${p.name} -> ${p.replaced_by}`).toBe(true);
    }
    expect(new Set(t.params.map((p) => p.risk))).toEqual(new Set(RISKS));
  });

  it.each([
    ['NCCL_CONF_FILE', '2.23', null],
    ['NCCL_WORK_FIFO_DEPTH', '2.13.4', '2.22.3'],
    ['NCCL_WORK_FIFO_BYTES', '2.22.3', null],
    ['NCCL_IB_GDR_LEVEL', '2.3.4', '2.4.2'],
    ['NCCL_LL_THRESHOLD', '2.1', '2.5.6'],
    ['NCCL_NET_MERGE_POLICY', '2.30.5', null],
    // 2.14-2.16.2 read it under a misspelled name (NCCL_NCCL_ALLOC_P2P_NET_LL_BUFFERS).
    ['NCCL_ALLOC_P2P_NET_LL_BUFFERS', '2.16.5', null],
    // Older than the scan: the documentation's own "since".
    ['NCCL_MIN_NRINGS', '2.2.0', null],
  ])('%s is read from %s until before %s', (name, since, removed) => {
    const p = findParam(name)!;
    expect([p.since, p.removed_in]).toEqual([since, removed]);
  });

  it('answers for a release: presence, default, bounds', () => {
    const conf = findParam('NCCL_CONF_FILE')!;
    expect(['2.21.5', '2.22.3', '2.23.4', '2.30.7'].map((v) => presence(conf, v))).toEqual(['not-yet', 'not-yet', 'read', 'read']);
    expect(presence(findParam('NCCL_WORK_FIFO_DEPTH')!, '2.22.3')).toBe('removed');
    const timeout = findParam('NCCL_IB_TIMEOUT')!;
    expect(['2.12.12', '2.14.3', '2.22.3', '2.23.4'].map((v) => defaultFor(timeout, v))).toEqual(['14', '18', '18', '20']);
    const minCtas = ncclParameters('2.24.3').find((p) => p.name === 'NCCL_MIN_CTAS')!;
    expect(minCtas.range).toEqual({ min: 1, max: 32 });
    expect(ncclParameters().find((p) => p.name === 'NCCL_MIN_CTAS')!.range).toEqual({ min: 1, max: 64 });
  });

  it('gives learn a search space per release: algorithms and subsystems that release knows', () => {
    const algo = (v?: string) => ncclParameters(v).find((p) => p.name === 'NCCL_ALGO')!.values;
    expect(algo('2.12.12')).toEqual(['Tree', 'Ring', 'CollNet']);
    expect(algo('2.23.4')).toEqual(['Tree', 'Ring', 'CollnetDirect', 'CollnetChain', 'NVLS', 'NVLSTree', 'PAT']);
    const subsys = ncclParameters().find((p) => p.name === 'NCCL_DEBUG_SUBSYS')!.values!;
    expect(subsys).toEqual(expect.arrayContaining(['ALLOC_HOST', 'DESTROY', 'RAS']));
    expect(ncclParameters('2.29.7').find((p) => p.name === 'NCCL_DEBUG_SUBSYS')!.values).not.toContain('DESTROY');
    expect(ncclParameters('2.21.5').map((p) => p.name)).not.toContain('NCCL_CONF_FILE');
    for (const p of ncclParameters()) {
      expect(p, p.name).toMatchObject({ name: expect.any(String), type: expect.any(String), category: expect.any(String) });
      expect(p.default === null || typeof p.default === 'string', p.name).toBe(true);
    }
  });

  it('models what NCCL reads without documenting it, on request', () => {
    expect(filterParams({}).every((p) => p.documented)).toBe(true);
    const hidden = filterParams({ undocumented: true }).filter((p) => !p.documented);
    expect(hidden.length).toBeGreaterThan(100);
    expect(findParam('NCCL_NCHANNELS_PER_NET_PEER')).toMatchObject({ documented: false, type: 'int', category: 'undocumented' });
    expect(filterParams({ names: ['nccl_algo'] }).map((p) => p.name)).toEqual(['NCCL_ALGO']);
    expect(filterParams({ risk: 'may-corrupt-data' }).map((p) => p.name)).toEqual(['NCCL_PROTO']);
  });
});
