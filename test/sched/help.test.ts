/**
 * clap --help parsing on real scx help texts (test/fixtures/sched/help/real: published captures of
 * real binaries, sources in help/README.md) and on the v1.1.2 texts rendered from clap sources;
 * the renderer itself is checked byte for byte against the real captures; list_schedulers shows
 * drift between the catalog and an installed binary's own help.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLongHelp } from '../../scripts/scx-catalog/render-help.js';
import type { ClapCommand } from '../../scripts/scx-catalog/clap-model.js';
import { findCatalogScheduler, loadCatalog } from '../../src/sched/catalog.js';
import { detectDrift } from '../../src/sched/drift.js';
import { parseClapHelp, parseVersion } from '../../src/sched/help.js';
import { connectInMemory } from '../helpers/runtime.js';
import { FIXTURES, fakeHost } from './helpers.js';

const real = (name: string) => readFileSync(join(FIXTURES, 'help', 'real', `${name}.txt`), 'utf8');
const rendered = (name: string) => readFileSync(join(FIXTURES, 'help', `${name}.txt`), 'utf8');

describe('parseClapHelp on real help texts', () => {
  it('scx_rusty: values, float defaults, several values per flag, counted -v, switches', () => {
    const { flags, positionals } = parseClapHelp(real('scx_rusty'));
    const by = (n: string) => flags.find((f) => f.name === n)!;
    expect(by('--interval')).toMatchObject({ short: '-i', takes_value: true, value_name: 'INTERVAL', defaults: ['2.0'], multiple_values: false });
    expect(by('--cpumasks')).toMatchObject({ short: '-C', takes_value: true, multiple_values: true, defaults: null });
    expect(by('--verbose')).toMatchObject({ short: '-v', takes_value: false, count: true });
    expect(by('--no-load-balance')).toMatchObject({ short: null, takes_value: false, count: false });
    expect(by('--greedy-threshold').description).toMatch(/^When non-zero, enable greedy task stealing/);
    expect(by('--greedy-threshold').defaults).toEqual(['1']);
    expect(flags.map((f) => f.name)).toContain('--help-stats');
    expect(positionals).toEqual([]);
  });

  it('scx_p2dq (2025): true/false values with possible values, a Vec option without "..."', () => {
    const { flags } = parseClapHelp(real('scx_p2dq'));
    const by = (n: string) => flags.find((f) => f.name === n)!;
    expect(by('--greedy-idle-disable')).toMatchObject({ short: '-g', takes_value: true, defaults: ['true'], choices: ['true', 'false'] });
    expect(by('--dsq-time-slices')).toMatchObject({ short: '-t', takes_value: true, multiple_values: false, defaults: null });
    expect(by('--eager-load-balance')).toMatchObject({ takes_value: false, description: 'DEPRECATED' });
    expect(flags.some((f) => f.name === '--exit-dump-len')).toBe(false);
    expect(flags.some((f) => f.name === '--lb-mode')).toBe(false);
  });

  it('scx_chaos: positional [ARGS]... and options in help-heading sections', () => {
    const { flags, positionals } = parseClapHelp(real('scx_chaos'));
    expect(positionals).toEqual([{ name: 'args', required: false, repeatable: true }]);
    expect(flags.find((f) => f.name === '--pid')).toMatchObject({ short: '-p', heading: 'Test Command' });
    expect(flags.find((f) => f.name === '--random-delay-frequency')!.heading).toBe('Random Delays');
    expect(flags.find((f) => f.name === '--verbose')!.count).toBe(true);
  });

  it.each(['scx_bpfland', 'scx_lavd', 'scx_mitosis', 'scx_rustland', 'scx_tickless'])('%s: every entry is read', (name) => {
    const text = real(name);
    const entries = text.split('\n').filter((l) => /^ {2}(?: {4})?--?[A-Za-z]/.test(l)).length;
    const { flags } = parseClapHelp(text);
    expect(flags).toHaveLength(entries);
    expect(flags.every((f) => f.name?.startsWith('--'))).toBe(true);
  });

  it('reads the "Possible values:" list of documented enum values (v1.1.2 scx_p2dq --lb-mode)', () => {
    const lb = parseClapHelp(rendered('scx_p2dq')).flags.find((f) => f.name === '--lb-mode')!;
    expect(lb).toMatchObject({ choices: ['load', 'nr-queued'], defaults: ['load'], description: '***DEPRECATED*** Load balance mode' });
    const virt = parseClapHelp(rendered('scx_p2dq')).flags.find((f) => f.name === '--virt-llc')!;
    expect(virt).toMatchObject({ takes_value: true, optional_value: true, require_equals: true, heading: 'Topology Options' });
  });

  it('reads the short (-h) layout, help on the same line', () => {
    // clap 4's `-h` layout of the same real scx_rusty arguments.
    const short = parseClapHelp(['Usage: scx_rusty [OPTIONS]', '', 'Options:', '  -i, --interval <INTERVAL>        Load balance interval in seconds [default: 2.0]', '  -C, --cpumasks <CPUMASKS>...      Instead of using cache locality, set the cpumask for each domain', '                                    manually', '  -v, --verbose...                  Enable verbose output, including libbpf details', '  -h, --help                        Print help (see more with \'--help\')', ''].join('\n'));
    expect(short.flags.map((f) => [f.name, f.takes_value, f.multiple_values, f.count, f.defaults])).toEqual([
      ['--interval', true, false, false, ['2.0']],
      ['--cpumasks', true, true, false, null],
      ['--verbose', false, false, true, null],
      ['--help', false, false, false, null],
    ]);
  });

  it('parses versions from --version output', () => {
    expect(parseVersion('scx_bpfland 1.0.17-g7c1f5b2 x86_64-unknown-linux-gnu SMT on\n')).toBe('1.0.17-g7c1f5b2');
    expect(parseVersion('scx_lavd 1.1.2\n')).toBe('1.1.2');
  });
});

describe('the help renderer behind the v1.1.2 fixtures', () => {
  // The clap definitions of sched-ext/scx 40b143c38 (what the real captures were built from), as extracted by scripts/scx-catalog.ts.
  const models = JSON.parse(readFileSync(join(FIXTURES, 'help', 'real', 'clap-model-40b143c38.json'), 'utf8'), (_, v) => (v === 'Infinity' ? Infinity : v)) as ClapCommand[];
  it.each(models.map((m) => m.name))('reproduces the real %s --help byte for byte', (name) => {
    const model = models.find((m) => m.name === name)!;
    expect(renderLongHelp(model, { 'get_default_llc_runs()': '1', 'get_default_greedy_disable()': 'true' })).toBe(real(name));
  });
});

describe('drift between the catalog and an installed binary', () => {
  it('a 2025 scx_bpfland against the v1.1.2 catalog: flags added since, renamed and re-defaulted', () => {
    const catalog = loadCatalog();
    const drift = detectDrift(findCatalogScheduler(catalog, 'scx_bpfland')!.flags, parseClapHelp(real('scx_bpfland')).flags);
    expect(drift.mismatches).toEqual(['--slice-us default: catalog 1000, binary 20000', '--slice-us-lag default: catalog 40000, binary 20000']);
    expect(drift.missing_in_catalog).toEqual(['--slice-us-min', '--no-preempt', '--disable-l2', '--disable-l3']);
    expect(drift.missing_in_binary).toEqual(expect.arrayContaining(['--slice-min-us', '--timely', '--sticky-tasks']));
  });

  it('list_schedulers shows the installed version, what flags are checked against, and drift', async () => {
    const host = fakeHost();
    const { call } = await connectInMemory(host.env);
    type Entry = { name: string; installed: boolean; version: string | null; flags_checked_against: string; drift: { mismatches: string[]; missing_in_binary: string[]; missing_in_catalog: string[] } | null; flags: unknown[] };
    const all = (await call('list_schedulers', {})).structuredContent as { schedulers: Entry[]; scx_version: string; scx_commit: string };
    expect(all.scx_version).toBe('1.1.2');
    expect(all.schedulers).toHaveLength(15);
    for (const s of all.schedulers) {
      expect(s, s.name).toMatchObject({ installed: true, version: '1.0.99-gfake', flags_checked_against: 'binary_help' });
      expect(s.drift, s.name).toEqual({ missing_in_binary: [], missing_in_catalog: [], mismatches: [] });
    }
    const gaming = (await call('list_schedulers', { use_case: 'gaming', include_flags: false })).structuredContent as { schedulers: Entry[] };
    expect(gaming.schedulers.map((s) => s.name).sort()).toEqual(['scx_bpfland', 'scx_cake', 'scx_lavd']);
    expect(gaming.schedulers[0].flags).toEqual([]);
  });

  it('marks schedulers that are not installed, and installed_only hides them', async () => {
    const { call } = await connectInMemory({ PATH: '/nonexistent' });
    const r = (await call('list_schedulers', { name: 'rusty' })).structuredContent as { schedulers: { installed: boolean; drift: unknown; flags_checked_against: string }[] };
    expect(r.schedulers).toHaveLength(1);
    expect(r.schedulers[0]).toMatchObject({ installed: false, drift: null, flags_checked_against: 'catalog' });
    const none = (await call('list_schedulers', { installed_only: true })).structuredContent as { schedulers: unknown[] };
    expect(none.schedulers).toEqual([]);
  });
});
