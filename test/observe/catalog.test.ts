/**
 * The signature catalog is data: these tests keep it valid (compiling regexes, declared fields,
 * resolvable and acyclic knock-on links) and keep every entry covered by a fixture.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG_PATH, compileCatalog, loadCatalog } from '../../src/observe/logs/catalog.js';

const raw = JSON.parse(readFileSync(DEFAULT_CATALOG_PATH, 'utf8'));
const readExpected = (dir: string) => JSON.parse(readFileSync(new URL(`../fixtures/incidents/${dir}/expected.json`, import.meta.url), 'utf8')) as Record<string, Record<string, number>>;
// Built fixtures (logs/) and real-world wordings (real/) together must exercise every case.
const expected = { ...readExpected('logs'), ...readExpected('real') };

describe('signature catalog', () => {
  it('compiles, with every entry complete', () => {
    const catalog = loadCatalog();
    expect(catalog.signatures.length).toBeGreaterThanOrEqual(50);
    for (const s of catalog.signatures) {
      expect(s.meaning.length, s.id).toBeGreaterThan(20);
      expect(s.next_checks.length, s.id).toBeGreaterThan(0);
      expect(s.remedy.length, s.id).toBeGreaterThan(10);
    }
  });

  it('has the cases the reference lists, both vLLM hang wordings and every Xid code it names', () => {
    const catalog = loadCatalog();
    const ids = catalog.signatures.map((s) => s.id);
    for (const id of ['vllm_engine_startup_hang', 'cuda_oom', 'oom_kill_global', 'oom_kill_cgroup', 'soft_lockup', 'hard_lockup', 'hung_task', 'cuda_ecc_uncorrectable', 'cuda_illegal_address', 'nccl_watchdog_timeout', 'nccl_ib_retry_exceeded', 'nccl_ib_wr_flush', 'nccl_ib_local_protection', 'nccl_socket_error', 'nccl_message_truncated', 'gpu_thermal_throttle', 'cpu_thermal_throttle', 'vllm_preemption']) {
      expect(ids).toContain(id);
    }
    const hang = catalog.byId.get('vllm_engine_startup_hang')!;
    expect(hang.regexes.some((r) => r.test('Waiting for 1 local, 0 remote core engine proc(s) to start.'))).toBe(true);
    expect(hang.regexes.some((r) => r.test('Waiting for 2 core engine proc(s) to start.'))).toBe(true);
    const xidCase = (code: number) => catalog.signatures.find((s) => s.regexes.some((r) => r.test(`NVRM: Xid (PCI:0000:18:00): ${code}, pid=1, name=x, detail`)))!.id;
    const byCode: Record<number, string> = { 13: 'xid_13_31', 31: 'xid_13_31', 43: 'xid_43_45', 45: 'xid_43_45', 48: 'xid_48', 63: 'xid_63', 64: 'xid_64', 74: 'xid_nvlink', 79: 'xid_79', 119: 'xid_119', 144: 'xid_nvlink', 145: 'xid_nvlink', 146: 'xid_nvlink', 147: 'xid_nvlink', 148: 'xid_nvlink', 149: 'xid_nvlink' };
    for (const [code, id] of Object.entries(byCode)) expect(xidCase(Number(code)), `Xid ${code}`).toBe(id);
    expect(catalog.byId.get('xid_94')!.regexes[0].test('NVRM: Xid (PCI:0000:9a:00): 94, pid=1, name=x, Contained: CE User Channel (0x9). RST: No')).toBe(true);
    expect(catalog.byId.get('xid_95')!.regexes[0].test('NVRM: Xid (PCI:0000:9a:00): 95, pid=1, name=x, Uncontained: FBHUB. RST: Yes')).toBe(true);
    for (const action of ['None', 'Drain P2P', 'Drain and Reset', 'GPU Reset Required', 'Node Reboot Required']) {
      const m = catalog.byId.get('xid_154')!.regexes[0].exec(`NVRM: Xid (PCI:0000:ab:00): 154, GPU recovery action changed from 0x0 (None) to 0x2 (${action})`);
      expect(m?.groups?.action).toBe(action);
    }
    expect(catalog.byId.get('xid_43_45')!.knock_on_of).toContain('xid_79');
    expect(catalog.byId.get('nccl_ib_wr_flush')!.knock_on_of).toContain('nccl_ib_retry_exceeded');
    expect(catalog.byId.get('nccl_watchdog_timeout')!.knock_on_of).toEqual(expect.arrayContaining(['xid_79', 'oom_kill_global']));
  });

  it('every catalog case is exercised by a fixture', () => {
    const covered = new Set(Object.values(expected).flatMap((cases) => Object.keys(cases)));
    const missing = loadCatalog().signatures.map((s) => s.id).filter((id) => !covered.has(id));
    expect(missing).toEqual([]);
  });

  const broken: [string, (c: { signatures: Record<string, unknown>[] }) => void, RegExp][] = [
    ['an invalid regex', (c) => (c.signatures[0].regexes = ['(unclosed']), /invalid regex/],
    ['an undeclared group', (c) => (c.signatures[0].regexes = ['(?<nope>x)']), /group "nope" is not listed/],
    ['a field no regex captures', (c) => ((c.signatures[0].fields as string[]).push('ghost')), /field "ghost" is captured by no regex/],
    ['a knock_on_of naming nothing', (c) => (c.signatures[0].knock_on_of = ['no_such_case']), /names no case/],
    ['a duplicate id', (c) => (c.signatures[1].id = c.signatures[0].id), /duplicate id/],
    ['a knock-on cycle', (c) => {
      const flush = c.signatures.find((s) => s.id === 'nccl_ib_wr_flush')!;
      const retry = c.signatures.find((s) => s.id === 'nccl_ib_retry_exceeded')!;
      retry.knock_on_of = ['nccl_ib_wr_flush'];
      expect(flush.knock_on_of).toContain('nccl_ib_retry_exceeded');
    }, /cycle/],
  ];
  it.each(broken)('refuses a catalog with %s', (_name, mutate, message) => {
    const copy = structuredClone(raw);
    mutate(copy);
    expect(() => compileCatalog(copy)).toThrow(message);
  });
});
