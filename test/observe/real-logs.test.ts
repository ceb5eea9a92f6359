/**
 * Incident signatures against real-world wordings (issue 12, section 5): the lines in
 * test/fixtures/incidents/real come from public reports and driver sources (SOURCES.md). Each
 * wording class is found, fields are extracted, and the ranking puts causes above what they cause.
 */
process.env.TZ = 'UTC';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { diagnose, type DiagnoseRequest } from '../../src/observe/logs/diagnose.js';

const REAL = resolve(import.meta.dirname, '../fixtures/incidents/real');
const expected = JSON.parse(readFileSync(join(REAL, 'expected.json'), 'utf8')) as Record<string, Record<string, number>>;
const config = loadConfig({}, { PATH: process.env.PATH, TUNELOOP_HOME: '/nonexistent' });

function run(overrides: Partial<DiagnoseRequest>) {
  return diagnose(config, { files: [], journalKernel: false, journalUnits: [], dmesg: false, maxBytes: 1 << 30, journalLines: 1000, maxFindings: 100, maxEvidence: 5, maxUnclassified: 20, windowS: 120, now: Date.UTC(2024, 2, 6), ...overrides });
}
const file = (name: string) => run({ files: [join(REAL, name)] });
const byCase = (r: Awaited<ReturnType<typeof run>>) => new Map(r.findings.map((f) => [f.case, f]));

describe('real-world wordings', () => {
  it.each(Object.entries(expected))('%s yields exactly its cases', async (name, cases) => {
    const r = await file(name);
    expect(Object.fromEntries(r.findings.map((f) => [f.case, f.count]))).toEqual(cases);
  });

  it('reads sizes from both torch OOM layouts, "capacty" and "0 bytes" included, and the vLLM warm-up phase', async () => {
    const oom = byCase(await file('torch-oom.log')).get('cuda_oom')!;
    expect(oom.fields.free.map((v) => v.value)).toEqual(expect.arrayContaining(['0 bytes', '9.02 GiB', '41.56 MiB']));
    expect(oom.fields.total.map((v) => v.value)).toEqual(expect.arrayContaining(['12.00 GiB', '8.00 GiB']));
    const vllm = byCase(await file('vllm-oom.log')).get('cuda_oom')!;
    expect(vllm.fields).toMatchObject({ phase: [{ value: 'sampler', count: 1 }], dummy_requests: [{ value: '1024', count: 1 }] });
  });

  it('extracts the old soft-lockup fields and the socket truncation sizes', async () => {
    const lockup = byCase(await file('soft-lockup.log')).get('soft_lockup')!;
    expect(lockup.fields.comm.map((v) => v.value)).toEqual(expect.arrayContaining(['migration/10', 'spl_kmem_cache/', 'SCTP timer']));
    const truncated = byCase(await file('nccl-truncated.log')).get('nccl_message_truncated')!;
    expect(truncated.fields).toMatchObject({ transport: [{ value: 'Socket', count: 2 }], received: expect.arrayContaining([{ value: '1048576', count: 1 }]) });
  });

  it('links Xid 154 to the NVLink fault it follows on the same GPU, and "caused by previous Xid 149" is an NVLink finding', async () => {
    const r = await file('xid-nvlink-154.log');
    const cases = byCase(r);
    const nvlink = cases.get('xid_nvlink')!;
    const recovery = cases.get('xid_154')!;
    expect(nvlink.fields.xid).toEqual(expect.arrayContaining([{ value: '149', count: 2 }]));
    expect(recovery.caused_by.map((c) => c.case)).toEqual(['xid_nvlink']);
    expect(recovery.fields.action).toEqual([{ value: 'GPU Reset Required', count: 1 }]);
    // The 154 sits right below its cause; GB200-style domains (0018, 0019) are not confused with 0000.
    expect(r.findings.indexOf(recovery)).toBe(r.findings.indexOf(nvlink) + 1);
    expect(cases.get('xid_95')!.knock_ons).toEqual([]);
  });

  it('decodes the recovery actions of newer drivers and links each 154 to its own GPU', async () => {
    const cases = byCase(await file('xid-154-newer-drivers.log'));
    const recovery = cases.get('xid_154')!;
    expect(recovery.fields.action.map((v) => v.value).sort()).toEqual(['OS Reboot', 'PF FLR']);
    expect(recovery.fields.action_name.map((v) => v.value).join(' ')).toMatch(/reboot the operating system.*function-level reset|function-level reset.*reboot the operating system/);
    expect(recovery.caused_by.map((c) => c.case).sort()).toEqual(['xid_79', 'xid_other']);
  });

  it('ranks a thermal event that the MCE log reports as the thermal finding, not a critical hardware error', async () => {
    const r = await file('mce-thermal.log');
    expect(r.findings.map((f) => [f.case, f.severity, f.role])).toEqual([
      ['cpu_thermal_throttle', 'warning', 'root_cause'],
      ['mce_logged', 'warning', 'knock_on'],
    ]);
    expect(r.severity_counts.critical).toBe(0);
  });

  it('still calls an uncorrected machine check critical, and a corrected one a warning', async () => {
    const r = await run({ text: ['mce: [Hardware Error]: CPU 3: Machine Check: 0 Bank 7: be00000000800400', 'mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 7: 9c00004001010090', 'mce: [Hardware Error]: Machine check events logged'].join('\n') });
    const cases = byCase(r);
    expect(cases.get('machine_check')).toMatchObject({ severity: 'critical', fields: { bank: [{ value: '7', count: 1 }] } });
    expect(cases.get('machine_check_corrected')!.count).toBe(1);
    expect(r.findings[0].case).toBe('machine_check');
  });

  it('reads Xids of MIG compute instances (GPU-I and GPU-CI in the address)', async () => {
    const r = await run({ text: "NVRM: Xid (PCI:0000:01:00 GPU-I:05 GPU-CI:01): 13, pid=7194, name=python3, Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0)" });
    expect(r.findings[0]).toMatchObject({ case: 'xid_13_31', fields: { bus_id: [{ value: '0000:01:00', count: 1 }] } });
  });
});
