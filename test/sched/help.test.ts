/**
 * list_schedulers: clap --help parsing, and drift between the catalog and an installed binary
 * (the fake scx_bpfland prints a help text whose default, flags and extras differ on purpose).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/sched/catalog.js';
import { detectDrift, parseClapHelp, parseVersion } from '../../src/sched/help.js';
import { connectInMemory } from '../helpers/runtime.js';
import { FIXTURES, fakeHost } from './helpers.js';

const BPFLAND_HELP = readFileSync(join(FIXTURES, 'help', 'scx_bpfland.txt'), 'utf8');

describe('parseClapHelp', () => {
  it('reads long and short forms, values, defaults and possible values', () => {
    const flags = parseClapHelp(BPFLAND_HELP);
    const slice = flags.find((f) => f.name === '--slice-us')!;
    expect(slice).toEqual({ name: '--slice-us', short: '-s', takes_value: true, default: '5000', choices: null });
    expect(flags.find((f) => f.name === '--local-pcpu')).toMatchObject({ short: '-p', takes_value: false, default: null });
    expect(flags.find((f) => f.name === '--idle-resume-us')!.default).toBe('-1');
    expect(flags.find((f) => f.name === '--primary-domain')!.default).toBe('auto');
    const short = parseClapHelp('Options:\n  -l, --lb-mode <LB_MODE>  Balance on [default: load] [possible values: load, nr_queued]\n  -h, --help  Print help\n');
    expect(short[0]).toEqual({ name: '--lb-mode', short: '-l', takes_value: true, default: 'load', choices: ['load', 'nr_queued'] });
  });

  it('parses versions from --version output', () => {
    expect(parseVersion('scx_bpfland 1.0.17-g7c1f5b2 x86_64-unknown-linux-gnu SMT on\n')).toBe('1.0.17-g7c1f5b2');
    expect(parseVersion('scx_lavd 1.0.9\n')).toBe('1.0.9');
  });

  it('reports flags missing on either side and facts that differ', () => {
    const catalog = loadCatalog();
    const entry = catalog.schedulers.find((s) => s.name === 'scx_bpfland')!;
    const drift = detectDrift([...entry.flags, ...catalog.common_flags], parseClapHelp(BPFLAND_HELP));
    expect(drift.mismatches).toContain('--slice-us default: catalog 1000, binary 5000');
    expect(drift.missing_in_binary).toEqual(['--cpufreq']);
    expect(drift.missing_in_catalog).toEqual(['--local-kthreads']);
  });
});

describe('list_schedulers', () => {
  it('shows installed binaries with version and drift, and filters', async () => {
    const host = fakeHost();
    const { call } = await connectInMemory(host.env);
    type Entry = { name: string; installed: boolean; version: string | null; drift: { mismatches: string[]; missing_in_binary: string[]; missing_in_catalog: string[] } | null; flags: unknown[] };
    const all = (await call('list_schedulers', {})).structuredContent as { schedulers: Entry[]; scx_version: string };
    expect(all.schedulers.length).toBeGreaterThanOrEqual(12);
    const bpfland = all.schedulers.find((s) => s.name === 'scx_bpfland')!;
    expect(bpfland.installed).toBe(true);
    expect(bpfland.version).toBe('1.0.99-gfake');
    expect(bpfland.drift!.mismatches).toContain('--slice-us default: catalog 1000, binary 5000');
    const lavd = all.schedulers.find((s) => s.name === 'scx_lavd')!;
    expect(lavd.drift).toEqual({ missing_in_binary: [], missing_in_catalog: [], mismatches: [] });

    const gaming = (await call('list_schedulers', { use_case: 'gaming', include_flags: false })).structuredContent as { schedulers: Entry[] };
    expect(gaming.schedulers.map((s) => s.name).sort()).toEqual(['scx_bpfland', 'scx_lavd']);
    expect(gaming.schedulers[0].flags).toEqual([]);
  });

  it('marks schedulers that are not installed, and installed_only hides them', async () => {
    const { call } = await connectInMemory({ PATH: '/nonexistent' });
    const r = (await call('list_schedulers', { name: 'rusty' })).structuredContent as { schedulers: { installed: boolean; drift: unknown }[] };
    expect(r.schedulers).toHaveLength(1);
    expect(r.schedulers[0]).toMatchObject({ installed: false, drift: null });
    const none = (await call('list_schedulers', { installed_only: true })).structuredContent as { schedulers: unknown[] };
    expect(none.schedulers).toEqual([]);
  });
});
