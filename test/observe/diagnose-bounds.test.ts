/**
 * Slow: real server processes meet FIFOs and /dev/kmsg, every catalog regex runs over adversarial
 * 1 MiB lines, and a deadline is waited out.
 * Hostile input stays bounded (issue 9, section 3): special files are refused at once instead of
 * blocking the server, /proc files and /dev/kmsg are read for what they hold, crafted long lines
 * cost linear time, the analysis runs off the event loop (other calls answer meanwhile, a cancel
 * ends it), and a deadline bounds the work and says what it skipped.
 */
process.env.TZ = 'UTC';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/observe/logs/catalog.js';
import { requiredLiterals } from '../../src/observe/logs/literals.js';
import { runningAnalyses } from '../../src/observe/logs/diagnose.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

type Result = { sources: { name: string; lines: number; notes: string[]; skipped: { bytes: number; reason: string }[] }[]; deadline_reached: boolean; findings: { case: string; count: number }[] };

function fifo(dir: string): string {
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  return path;
}

/** Lines every one of which the catalog must examine with its regexes (the slowest kind of input). */
function xidLog(path: string, lines: number): void {
  const line = "[ 1234.567890] NVRM: Xid (PCI:0000:18:00): 13, pid='<unknown>', name=<unknown>, Graphics Exception: ESR 0x405840=0x2000000\n";
  writeFileSync(path, line.repeat(lines));
}

describe('special files', () => {
  it('refuses a FIFO at once, names what it is, and the server goes on answering', async () => {
    const dir = tempDir();
    const { call } = await connectInMemory();
    const started = Date.now();
    const r = await call('diagnose_logs', { files: [fifo(dir)] });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/is a FIFO \(named pipe\), not a regular file[\s\S]*Remedy:/);
    // Several refused FIFOs must not use up the I/O thread pool: a normal read still works after them.
    for (let i = 0; i < 3; i++) expect((await call('diagnose_logs', { files: [fifo(tempDir())] })).isError).toBe(true);
    const ok = await call('diagnose_logs', { text: 'NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.' });
    expect((ok.structuredContent as Result).findings[0].case).toBe('xid_79');
  });

  it('refuses devices other than /dev/kmsg and /proc/kmsg, with the reason', async () => {
    const { call } = await connectInMemory();
    expect(textOf(await call('diagnose_logs', { files: ['/dev/null'] }))).toMatch(/"\/dev\/null" is a character device \(1:3\), not a regular file/);
    expect(textOf(await call('diagnose_logs', { files: ['/proc/kmsg'] }))).toMatch(/takes the messages away from the system logger[\s\S]*dmesg: true/);
  });

  it('a server whose client called diagnose_logs on a FIFO still exits when stdin closes', async () => {
    const dir = tempDir();
    const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: dir });
    const r = await client.callTool({ name: 'diagnose_logs', arguments: { files: [fifo(dir)] } });
    expect(r.isError).toBe(true);
    const closed = Date.now();
    await transport.close();
    const exit = await transport.exited();
    expect(exit.code).toBe(0);
    expect(Date.now() - closed).toBeLessThan(10_000);
  });

  it('reads /proc files, whose size reads as 0, for what they hold', async () => {
    const { call } = await connectInMemory();
    const r = (await call('diagnose_logs', { files: ['/proc/self/mountinfo'] })).structuredContent as Result;
    expect(r.sources[0].lines).toBeGreaterThan(0);
    const empty = join(tempDir(), 'empty.log');
    writeFileSync(empty, '');
    const e = (await call('diagnose_logs', { files: [empty] })).structuredContent as Result;
    expect(e.sources[0]).toMatchObject({ lines: 0, notes: [expect.stringMatching(/the file is empty/)] });
  });

  it('reads /dev/kmsg as dmesg lines until no record is ready', async () => {
    let readable = existsSync('/dev/kmsg');
    try {
      closeSync(openSync('/dev/kmsg', 'r'));
    } catch {
      readable = false;
    }
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', { files: ['/dev/kmsg'] });
    if (!readable) {
      expect(textOf(r)).toMatch(/not readable|does not exist/);
      return;
    }
    const s = r.structuredContent as Result & { sources: { first_seen: string | null }[] };
    expect(s.sources[0].lines).toBeGreaterThan(0);
    expect(s.sources[0].first_seen).toMatch(/^boot\+\d+\.\d{3}s$/);
  });
});

describe('crafted long lines cost linear time', () => {
  // Lines that carry each regex's required literal amid 1 MiB of characters its classes accept:
  // a backtracking engine takes minutes on some of them; RE2 stays linear.
  const fillers = ['a', '0 ', '[', 'x0:', 'a[1]: ', 'NVRM: Xid ('];

  it('every catalog regex runs over adversarial 1 MiB lines within a budget', () => {
    const catalog = loadCatalog();
    const bodies = fillers.map((f) => f.repeat(Math.ceil((1 << 20) / f.length)).slice(0, 1 << 20));
    const started = Date.now();
    for (const { regex } of catalog.entries) {
      const literal = requiredLiterals(regex.source)!.join(' ');
      for (const body of bodies) regex.exec(Buffer.from(`${literal}${body}${literal}`));
    }
    // 83 regexes x 6 lines of 1 MiB: linear engines need a few seconds at most.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('the catalog refuses patterns that need backtracking, or that no literal can prefilter', async () => {
    const { compileCatalog } = await import('../../src/observe/logs/catalog.js');
    const raw = JSON.parse(readFileSync(join(import.meta.dirname, '../../knowledge/incidents/signatures.json'), 'utf8'));
    const withRegex = (regex: string) => {
      const copy = structuredClone(raw);
      copy.signatures[0].regexes = [regex];
      copy.signatures[0].fields = [];
      return copy;
    };
    expect(() => compileCatalog(withRegex('(a)\\1 segfault'))).toThrow(/invalid regex[\s\S]*RE2/);
    expect(() => compileCatalog(withRegex('(?<=x)segfault'))).toThrow(/invalid regex/);
    expect(() => compileCatalog(withRegex('\\d+[a-z]+'))).toThrow(/requires no literal of 4\+ characters/);
  });

  it('a 64 KiB segfault-like line without spaces is answered promptly', async () => {
    const { call } = await connectInMemory();
    const line = `${'x'.repeat(64 * 1024)}[1]: segfault at`;
    const started = Date.now();
    const r = await call('diagnose_logs', { text: Array.from({ length: 20 }, () => line).join('\n') });
    expect(r.isError).toBeFalsy();
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('analysis off the event loop', () => {
  it('answers another tool while a long diagnosis runs, and a client cancel ends the worker', async () => {
    const dir = tempDir();
    const big = join(dir, 'xid.log');
    xidLog(big, 300_000);
    const { client, call } = await connectInMemory();
    const events: string[] = [];
    const controller = new AbortController();
    const long = client
      .callTool({ name: 'diagnose_logs', arguments: { files: [big], deadline_s: 120 } }, undefined, { signal: controller.signal, timeout: 120_000 })
      .then(() => events.push('diagnosis done'), () => events.push('diagnosis cancelled'));
    while (runningAnalyses() === 0) await new Promise((r) => setTimeout(r, 20));
    await call('system_monitor', { action: 'status' });
    events.push('other tool answered');
    controller.abort();
    await long;
    expect(events).toEqual(['other tool answered', 'diagnosis cancelled']);
    const until = Date.now() + 10_000;
    while (runningAnalyses() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(runningAnalyses()).toBe(0);
  });
});

describe('time bounds', () => {
  it('stops at deadline_s and says what was not read', async () => {
    const dir = tempDir();
    const big = join(dir, 'xid.log');
    xidLog(big, 400_000);
    const { call } = await connectInMemory();
    const r = await call('diagnose_logs', { files: [big], deadline_s: 1 });
    const s = r.structuredContent as Result;
    expect(s.deadline_reached).toBe(true);
    expect(s.sources[0].skipped).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^deadline_s/) })]);
    expect(s.sources[0].skipped[0].bytes).toBeGreaterThan(0);
    // Whatever was read in time is analysed; the rest is not claimed.
    expect(s.findings.every((f) => f.case === 'xid_13_31' && f.count < 400_000)).toBe(true);
    expect(textOf(r)).toMatch(/Not everything was read: .*deadline_s/);
  });

  it('a 1 GiB sparse file is read to max_bytes quickly, and the skipped head is reported', async () => {
    const path = join(tempDir(), 'sparse.log');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    const { call } = await connectInMemory();
    const started = Date.now();
    const s = (await call('diagnose_logs', { files: [path] })).structuredContent as Result;
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(s.sources[0].skipped[0]).toEqual({ bytes: 1024 ** 3 - 256 * 1024 ** 2, reason: expect.stringMatching(/^max_bytes/) });
    expect(s.findings).toEqual([]);
  });
});
