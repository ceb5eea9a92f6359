/**
 * Slow-ish: the analysis runs in a worker thread (under vitest it compiles the log modules from source
 * when it starts), and the journal and ring-buffer cases read through real child processes.
 * diagnose_logs against fixtures in the real formats (dmesg, journalctl short-iso, syslog, vLLM,
 * PyTorch, NCCL, nvidia-smi -q): every catalog case is found with its exact count, look-alike lines
 * are not, and a mixed incident comes back ranked by causality and correlated across sources.
 */
process.env.TZ = 'UTC';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { diagnose, type DiagnoseRequest } from '../../src/observe/logs/diagnose.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/incidents');
const LOGS = join(FIXTURES, 'logs');
const MIXED = join(FIXTURES, 'mixed');
const expected = JSON.parse(readFileSync(join(LOGS, 'expected.json'), 'utf8')) as Record<string, Record<string, number>>;
const NOW = Date.UTC(2024, 2, 6);
const config = loadConfig({}, { PATH: process.env.PATH, TUNELOOP_HOME: '/nonexistent' });

function request(overrides: Partial<DiagnoseRequest>): DiagnoseRequest {
  return { files: [], journalKernel: false, journalUnits: [], dmesg: false, maxBytes: 1 << 30, journalLines: 1000, maxFindings: 100, maxEvidence: 5, maxUnclassified: 20, windowS: 120, now: NOW, ...overrides };
}
const run = (overrides: Partial<DiagnoseRequest>) => diagnose(config, request(overrides));
const counts = (r: Awaited<ReturnType<typeof run>>) => Object.fromEntries(r.findings.map((f) => [f.case, f.count]));

describe('diagnose: catalog cases in their fixtures', () => {
  it.each(Object.entries(expected))('%s yields exactly its cases', async (file, cases) => {
    const r = await run({ files: [join(LOGS, file)] });
    expect(counts(r)).toEqual(cases);
  });

  it('look-alike lines match no signature, but error-looking ones are still reported as unclassified', async () => {
    const r = await run({ files: [join(LOGS, 'negatives.log')] });
    expect(r.findings).toEqual([]);
    expect(r.unclassified.lines).toBe(3);
    expect(r.unclassified.top.map((u) => u.sample.line).sort((a, b) => a - b)).toEqual([18, 23, 25]);
  });

  it('extracts fields, decodes codes and fills them into next checks', async () => {
    const r = await run({ files: [join(LOGS, 'kern-dmesg.log'), join(LOGS, 'nccl.log')] });
    const byCase = new Map(r.findings.map((f) => [f.case, f]));
    const fell = byCase.get('xid_79')!;
    // The third line is the multi-line "fallen off the bus" message: its bus id sits two lines earlier.
    expect(fell.fields.bus_id).toEqual([{ value: '0000:18:00', count: 1 }, { value: '0000:18:00.0', count: 2 }].sort((a, b) => b.count - a.count));
    expect(fell.evidence.map((e) => e.line)).toEqual([28, 29, 32]);
    expect(fell.evidence[0].text).toBe("[ 3001.000010] NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    expect(fell.first_seen).toBe('boot+3001.000s');
    expect(byCase.get('xid_13_31')!.fields.xid_name).toEqual(expect.arrayContaining([{ value: 'Graphics Engine Exception', count: 2 }, { value: 'GPU memory page fault (MMU fault)', count: 1 }]));
    expect(byCase.get('xid_154')!.fields.action).toEqual([{ value: 'GPU Reset Required', count: 1 }]);
    expect(byCase.get('xid_95')!.fields.rst).toEqual([{ value: 'Yes', count: 1 }]);
    expect(byCase.get('xid_nvlink')!.fields.link).toEqual([{ value: '3', count: 2 }]);
    expect(byCase.get('nccl_ib_retry_exceeded')!.fields).toMatchObject({ peer: [{ value: '10.1.0.12' }], status_name: [{ value: 'IBV_WC_RETRY_EXC_ERR' }], vendor_err: [{ value: '129' }] });
    expect(byCase.get('nccl_ib_completion_other')!.fields.status_name).toEqual([{ value: 'IBV_WC_REM_ACCESS_ERR', count: 1 }]);
    expect(byCase.get('oom_kill_cgroup')!.fields).toMatchObject({ pid: [{ value: '90001', count: 2 }], memcg: [{ value: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice' }], anon_rss_kb: [{ value: '31457280' }] });
    expect(byCase.get('oom_kill_global')!.fields.comm).toEqual([{ value: 'python3', count: 2 }]);
    expect(byCase.get('process_segfault')!.fields.object).toEqual([{ value: 'libcuda.so.535.161.08', count: 1 }]);
    expect(byCase.get('block_io_error')!.next_checks[0]).toBe('smartctl -a /dev/nvme0n1   # or nvme smart-log /dev/nvme0n1');
  });

  it('keeps the stack after a hung task and the engine lines before a startup hang', async () => {
    const kern = await run({ files: [join(LOGS, 'kern-dmesg.log')] });
    const hung = kern.findings.find((f) => f.case === 'hung_task')!;
    expect(hung.evidence[0].context_after).toHaveLength(15);
    expect(hung.evidence[0].context_after!.some((l) => l.includes('uvm_spin_loop+0x5e/0x90 [nvidia_uvm]'))).toBe(true);
    const vllm = await run({ files: [join(LOGS, 'vllm-hang.log')] });
    const hang = vllm.findings[0];
    expect(hang).toMatchObject({ case: 'vllm_engine_startup_hang', severity: 'error', count: 4, span_s: 30, fields: { local: [{ value: '1', count: 4 }] } });
    expect(hang.evidence[0].context_before!.at(-1)).toContain('vLLM is using nccl==2.26.2');
    expect(hang.evidence.map((e) => e.line)).toEqual([6, 7, 8, 9]);
  });

  it('reports a case seen fewer times than its minimum as info, with why', async () => {
    const r = await run({ files: [join(LOGS, 'kern-dmesg.log')] });
    const corrected = r.findings.find((f) => f.case === 'pcie_aer_corrected')!;
    expect(corrected.severity).toBe('info');
    expect(corrected.note).toMatch(/fewer than the 10/);
    const oneWait = await run({ text: '(APIServer pid=1) INFO 03-05 10:00:30 [utils.py:812] Waiting for 1 local, 0 remote core engine proc(s) to start.' });
    expect(oneWait.findings[0].severity).toBe('info');
  });

  it('keeps the first evidence lines and the latest one', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `[${100 + i}.000000] nfs: server nas${i} not responding, still trying`).join('\n');
    const r = await run({ text, maxEvidence: 3 });
    expect(r.findings[0].count).toBe(50);
    expect(r.findings[0].evidence.map((e) => e.line)).toEqual([1, 2, 50]);
    expect(r.findings[0].fields.server).toHaveLength(20);
    expect(r.findings[0].note).toMatch(/more than 20 distinct values/);
  });
});

describe('diagnose: causality and correlation', () => {
  const mixed = () => run({ files: ['kern.log', 'rank0.log', 'rank1.log', 'vllm.log'].map((f) => join(MIXED, f)) });

  it('ranks the root cause first and each knock-on below its cause', async () => {
    const r = await mixed();
    expect(r.findings.map((f) => [f.id, f.case, f.role])).toEqual([
      ['F1', 'pcie_aer_fatal', 'root_cause'],
      ['F2', 'xid_79', 'knock_on'],
      ['F3', 'nccl_watchdog_timeout', 'knock_on'],
      ['F4', 'vllm_engine_dead', 'knock_on'],
      ['F5', 'hung_task', 'knock_on'],
      ['F6', 'xid_43_45', 'knock_on'],
      ['F7', 'cpu_thermal_throttle', 'standalone'],
    ]);
    const [aer, xid, nccl, engine] = r.findings;
    expect(aer.knock_ons).toEqual(['F2']);
    expect(xid.caused_by).toEqual([expect.objectContaining({ finding: 'F1', case: 'pcie_aer_fatal', confidence: 'high' })]);
    expect(xid.knock_ons).toEqual(['F3', 'F5', 'F6']);
    // Timeouts on both ranks: the watchdog started counting 600 s before it fired, right at the Xid.
    expect(nccl).toMatchObject({ count: 2, sources: [{ source: join(MIXED, 'rank0.log'), count: 1 }, { source: join(MIXED, 'rank1.log'), count: 1 }], fields: { seq: [{ value: '4521', count: 2 }] } });
    expect(nccl.caused_by.map((c) => c.case)).toEqual(['pcie_aer_fatal', 'xid_79', 'hung_task', 'xid_43_45']);
    // The engine died 10 minutes after the Xid: linked through the NCCL timeout, not directly.
    expect(engine.caused_by.map((c) => c.case)).toEqual(['nccl_watchdog_timeout']);
    expect(engine.severity).toBe('critical');
    expect(r.severity_counts).toEqual({ critical: 3, error: 2, warning: 1, info: 1 });
  });

  it('correlates the incident across sources in one window and leaves the unrelated event out', async () => {
    const r = await mixed();
    expect(r.correlations).toHaveLength(1);
    expect(r.correlations[0]).toMatchObject({
      cross_source: true,
      start: '2024-03-05T10:00:00.000Z',
      end: '2024-03-05T10:10:03.000Z',
      chain: 'pcie_aer_fatal (kern.log) -> xid_79 (kern.log) -> xid_43_45 (kern.log) -> hung_task (kern.log) -> nccl_watchdog_timeout (rank0.log, rank1.log) -> vllm_engine_dead (vllm.log)',
    });
  });

  it('does not link a knock-on to a cause outside the window, nor to another GPU', async () => {
    const far = await run({ text: ['2024-03-05T08:00:00Z kernel: NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.', '2024-03-05T10:00:00Z kernel: NVRM: Xid (PCI:0000:18:00): 45, pid=1, name=x, Ch 1'].join('\n') });
    expect(far.findings.every((f) => f.role === 'standalone')).toBe(true);
    const otherGpu = await run({ text: ['2024-03-05T10:00:00Z kernel: NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.', '2024-03-05T10:00:01Z kernel: NVRM: Xid (PCI:0000:3b:00): 45, pid=1, name=x, Ch 1'].join('\n') });
    expect(otherGpu.findings.every((f) => f.caused_by.length === 0)).toBe(true);
    const sameGpu = await run({ text: ['2024-03-05T10:00:00Z kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=0, GPU has fallen off the bus.', '2024-03-05T10:00:01Z kernel: NVRM: Xid (PCI:0000:3b:00): 45, pid=1, name=x, Ch 1'].join('\n') });
    expect(sameGpu.findings[1]).toMatchObject({ case: 'xid_43_45', caused_by: [{ case: 'xid_79', confidence: 'high' }] });
  });

  it('links with medium confidence when the lines carry no comparable time, and places boot times with kernel_boot_time', async () => {
    const untimed = await run({ text: 'RuntimeError: CUDA error: uncorrectable ECC error encountered\nNVRM: Xid (PCI:0000:3a:00): 48, pid=1, name=x, DBE' });
    expect(untimed.findings[1].caused_by).toEqual([expect.objectContaining({ case: 'xid_48', confidence: 'medium' })]);
    const placed = await run({ files: [join(LOGS, 'kern-dmesg.log')], bootTimeMs: Date.UTC(2024, 2, 5, 9, 0, 0) });
    expect(placed.findings.find((f) => f.case === 'xid_79')!.first_seen).toBe('2024-03-05T09:50:01.000Z');
  });
});

describe('diagnose: sources and bounds', () => {
  it('reads a file from its tail when it exceeds max_bytes, and says so', async () => {
    const r = await run({ files: [join(LOGS, 'kern-dmesg.log')], maxBytes: 600 });
    expect(r.sources[0].notes[0]).toMatch(/read the last 600 of \d+ bytes/);
    expect(r.sources[0].bytes).toBeLessThanOrEqual(600);
    expect(counts(r)).toMatchObject({ kernel_panic: 1, kernel_oops: 2 });
    expect(counts(r).xid_79).toBeUndefined();
  });

  it('bounds the findings and lists what it left out', async () => {
    const r = await run({ files: [join(LOGS, 'kern-dmesg.log')], maxFindings: 3 });
    expect(r.findings).toHaveLength(3);
    expect(r.findings_omitted).toHaveLength(Object.keys(expected['kern-dmesg.log']).length - 3);
    expect(r.findings.concat().every((f) => f.severity === 'critical')).toBe(true);
  });
});

describe('diagnose_logs through MCP', () => {
  const bin = join(FIXTURES, 'bin');

  it('diagnoses files and summarises for a person', async () => {
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', { files: [join(LOGS, 'nccl.log'), join(LOGS, 'torch-errors.log')], max_evidence: 2 });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { findings: { case: string; evidence: unknown[] }[] };
    expect(s.findings.map((f) => f.case)).toContain('nccl_ib_retry_exceeded');
    expect(s.findings.every((f) => f.evidence.length <= 2)).toBe(true);
    expect(textOf(r)).toMatch(/^Read .*nccl\.log \(12 lines\)/);
    expect(textOf(r)).toMatch(/F1 \[critical\]/);
  });

  it.each([
    [{}, /No log source given[\s\S]*text, files, job_id, journal_kernel, journal_units, dmesg/],
    [{ files: ['relative/kern.log'] }, /files\[0\]: "relative\/kern.log" is not an absolute path/],
    [{ files: ['/nonexistent/kern.log'] }, /files\[0\]: "\/nonexistent\/kern.log" does not exist/],
    [{ files: [LOGS] }, /is a directory, not a regular file/],
    [{ job_id: 'job-nope-000000' }, /No job with id "job-nope-000000"/],
    [{ text: 'x', kernel_boot_time: 'yesterday-ish' }, /kernel_boot_time "yesterday-ish" is not a date[\s\S]*uptime -s/],
  ])('refuses %j with a message that says what to do', async (args, message) => {
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });

  it('reads a tuneloop job log', async () => {
    const { call, server } = await connectInMemory();
    const id = server.runtime.jobs.start('test_job', {}, async (job) => {
      job.log('node-a:1:2 [0] NCCL WARN Message truncated : received 4096 bytes instead of 2048');
      return {};
    });
    await server.runtime.jobs.wait(id, 10);
    const r = await call('diagnose_logs', { job_id: id });
    const s = r.structuredContent as { sources: { name: string }[]; findings: { case: string; fields: Record<string, unknown> }[] };
    expect(s.sources[0].name).toBe(`job:${id}`);
    expect(s.findings[0]).toMatchObject({ case: 'nccl_message_truncated', fields: { received: [{ value: '4096', count: 1 }], expected: [{ value: '2048', count: 1 }] } });
  });

  it('reads the journal with short-iso output, kernel and units as separate queries', async () => {
    const dir = tempDir();
    const argsFile = join(dir, 'args');
    const out = join(dir, 'journal.txt');
    writeFileSync(out, readFileSync(join(MIXED, 'kern.log')));
    // The fake reads these from its own environment, which children inherit from the server process.
    process.env.FAKE_JOURNALCTL_ARGS = argsFile;
    process.env.FAKE_JOURNALCTL_OUTPUT = out;
    const { call } = await connectInMemory({ PATH: `${bin}:${process.env.PATH}` });
    const r = await call('diagnose_logs', { journal_kernel: true, since: '-1h', journal_boot: '-1', journal_lines: 5000 });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(['--no-pager', '-o', 'short-iso', '-n', '5000', '--since', '-1h', '-b', '-1', '-k']);
    const s = r.structuredContent as { sources: { name: string; lines: number }[]; findings: { case: string; first_seen: string }[] };
    expect(s.sources).toEqual([expect.objectContaining({ name: 'journal:kernel', lines: 12 })]);
    expect(s.findings[0]).toMatchObject({ case: 'pcie_aer_fatal', first_seen: '2024-03-05T10:00:00.000Z' });

    await call('diagnose_logs', { journal_units: ['vllm.service', 'nvidia-persistenced'] });
    expect(readFileSync(argsFile, 'utf8').trim().split('\n').slice(-4)).toEqual(['-u', 'vllm.service', '-u', 'nvidia-persistenced']);

    const bad = await call('diagnose_logs', { journal_kernel: true, since: 'garbage' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/journalctl rejected the time: Failed to parse timestamp: garbage[\s\S]*-1h/);
  });

  it('says how to get journalctl when it is missing', async () => {
    const empty = tempDir();
    const { call } = await connectInMemory({ PATH: empty });
    const r = await call('diagnose_logs', { journal_kernel: true });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/journalctl was not found[\s\S]*Remedy: journalctl comes with systemd; on hosts without it, pass log files instead/);
  });

  it('reads the real kernel ring buffer with wall-clock times', async () => {
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', { dmesg: true });
    if (r.isError) {
      // Without root and with dmesg_restrict=1, the refusal must say what would allow it.
      expect(textOf(r)).toMatch(/dmesg is not allowed[\s\S]*journal_kernel/);
      return;
    }
    const s = r.structuredContent as { sources: { name: string; lines: number; first_seen: string | null }[] };
    expect(s.sources[0].name).toBe('dmesg');
    expect(s.sources[0].lines).toBeGreaterThan(0);
    expect(s.sources[0].first_seen).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('reports an unreadable file as such', async () => {
    if (process.getuid?.() === 0) return; // root reads everything; the EACCES path cannot be produced
    const dir = tempDir();
    const path = join(dir, 'secret.log');
    writeFileSync(path, 'x');
    chmodSync(path, 0);
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', { files: [path] });
    expect(textOf(r)).toMatch(/not readable by the tuneloop server/);
  });
});

