/**
 * The catalog is data the client trusts to pick schedulers and flags: its JSON Schema is generated
 * from the zod schema the server loads it with (UPDATE_CATALOG_SCHEMA=1 rewrites it), an
 * independent validator (ajv) checks the catalog against that JSON Schema, and its flag facts are
 * checked against scx v1.1.2 as upstream declares them: the clap definitions (quoted below with
 * their file in sched-ext/scx at tag v1.1.2) and the v1.1.2 help texts rendered from them
 * (test/fixtures/sched/help/README.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogSchema, filterCatalog, findCatalogScheduler, loadCatalog, schedulerFlagSpace, type CatalogFlag } from '../../src/sched/catalog.js';
import { detectDrift } from '../../src/sched/drift.js';
import { parseClapHelp } from '../../src/sched/help.js';
import { CATALOG_PATH, SCHEDULERS_DIR } from '../../src/sched/paths.js';
import { FIXTURES } from './helpers.js';

const SCHEMA_PATH = join(SCHEDULERS_DIR, 'catalog.schema.json');
/** scheds/rust at sched-ext/scx v1.1.2 (scheds/rust/README.md lists the same 15). */
const V112 = ['scx_beerland', 'scx_bpfland', 'scx_cake', 'scx_chaos', 'scx_cosmos', 'scx_flash', 'scx_forge', 'scx_lavd', 'scx_layered', 'scx_mitosis', 'scx_p2dq', 'scx_pandemonium', 'scx_rustland', 'scx_rusty', 'scx_tickless'];

function generatedSchema(): string {
  const schema = { title: 'tuneloop sched_ext scheduler catalog', ...z.toJSONSchema(catalogSchema, { target: 'draft-2020-12' }) };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

describe('catalog schema', () => {
  it('schedulers/catalog.schema.json is the JSON Schema of the zod schema the server uses', () => {
    if (process.env.UPDATE_CATALOG_SCHEMA) writeFileSync(SCHEMA_PATH, generatedSchema());
    expect(readFileSync(SCHEMA_PATH, 'utf8'), 'run with UPDATE_CATALOG_SCHEMA=1 to regenerate').toBe(generatedSchema());
  });

  it('catalog.json validates against it with an independent validator', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
    const catalog = JSON.parse(readFileSync(CATALOG_PATH, 'utf8'));
    expect(validate(catalog), JSON.stringify(validate.errors, null, 2)).toBe(true);

    const broken = structuredClone(catalog);
    broken.schedulers[0].flags[0].type = 'number';
    delete broken.schedulers[1].flags[0].description;
    broken.schedulers[2].made_up = true;
    expect(validate(broken)).toBe(false);
    const paths = validate.errors!.map((e) => `${e.instancePath} ${e.message}`).join('\n');
    expect(paths).toContain('/schedulers/0/flags/0/type');
    expect(paths).toContain("must have required property 'description'");
    expect(paths).toContain('must NOT have additional properties');
  });
});

describe('catalog content: scx v1.1.2', () => {
  const catalog = loadCatalog();
  const flag = (scheduler: string, name: string): CatalogFlag | undefined => findCatalogScheduler(catalog, scheduler)!.flags.find((f) => f.name === name);

  it('records the release and commit it describes and has every scheduler of it, each once', () => {
    expect(catalog.scx_version).toBe('1.1.2');
    expect(catalog.scx_commit).toBe('b68cb3c829312b43785225bcfd445a3ecefef5c2');
    expect(catalog.schedulers.map((s) => s.name)).toEqual(V112);
    expect(new Set(catalog.schedulers.map((s) => s.ops_name)).size).toBe(V112.length);
    // SCX_OPS_DEFINE(... .name = "cake") etc. in each scheduler's src/bpf/*.bpf.c
    expect(['scx_cake', 'scx_forge', 'scx_pandemonium'].map((n) => findCatalogScheduler(catalog, n)!.ops_name)).toEqual(['cake', 'forge', 'pandemonium']);
  });

  it('has -v/--verbose as the switch or counter each scheduler declares', () => {
    // e.g. scx_bpfland main.rs: #[clap(short = 'v', long, action = clap::ArgAction::SetTrue)] verbose: bool
    //      scx_lavd main.rs:    #[clap(short = 'v', long, action = clap::ArgAction::Count)] verbose: u8
    const switches = ['scx_beerland', 'scx_bpfland', 'scx_cake', 'scx_cosmos', 'scx_flash', 'scx_forge', 'scx_pandemonium', 'scx_rustland', 'scx_tickless'];
    for (const s of V112) {
      const v = flag(s, '--verbose')!;
      expect(v.short, s).toBe('-v');
      expect(v.type, s).toBe(switches.includes(s) ? 'bool' : 'count');
      expect(v.takes_value, s).toBe(false);
    }
  });

  it('lists --stats, --monitor, --exit-dump-len and --help-stats only where they exist', () => {
    const has = (n: string) => V112.filter((s) => flag(s, n));
    expect(has('--exit-dump-len')).toEqual(['scx_beerland', 'scx_bpfland', 'scx_cosmos', 'scx_flash', 'scx_forge', 'scx_layered', 'scx_mitosis', 'scx_rustland', 'scx_rusty', 'scx_tickless']);
    expect(has('--stats')).toEqual(['scx_beerland', 'scx_bpfland', 'scx_chaos', 'scx_cosmos', 'scx_flash', 'scx_forge', 'scx_lavd', 'scx_layered', 'scx_p2dq', 'scx_rustland', 'scx_rusty', 'scx_tickless']);
    expect(has('--help-stats')).toEqual(['scx_beerland', 'scx_bpfland', 'scx_cosmos', 'scx_flash', 'scx_forge', 'scx_lavd', 'scx_layered', 'scx_rustland', 'scx_rusty', 'scx_tickless']);
    expect(has('--monitor')).not.toContain('scx_cake');
    expect(flag('scx_bpfland', '--monitor')!.exits_without_loading).toBe(true);
  });

  it('has the facts the old catalog had wrong', () => {
    // scx_p2dq lib.rs: #[derive(ValueEnum)] enum LbMode { Load, NrQueued } -> load, nr-queued
    expect(flag('scx_p2dq', '--lb-mode')).toMatchObject({ type: 'choice', choices: ['load', 'nr-queued'], default: 'load' });
    // #[clap(short = 't', long, value_parser = clap::value_parser!(u64), default_values_t = [500, 2500, 5000])] dsq_time_slices: Vec<u64>
    expect(flag('scx_p2dq', '--dsq-time-slices')).toMatchObject({ short: '-t', type: 'int', repeatable: true, default: [500, 2500, 5000] });
    expect(flag('scx_p2dq', '--dsq-time-slices')!.multiple_values).toBeUndefined();
    // #[clap(long, default_value = "75", value_parser = clap::value_parser!(u64).range(0..100))] dispatch_lb_busy
    expect(flag('scx_p2dq', '--dispatch-lb-busy')).toMatchObject({ min: 0, max: 99, default: 75 });
    // scx_mitosis main.rs: #[clap(long)] cell_exclude: Vec<String>
    expect(flag('scx_mitosis', '--cell-exclude')).toMatchObject({ type: 'string', repeatable: true });
    expect(flag('scx_mitosis', '--cell-parent-cgroup')!.required_unless).toEqual(['--monitor', '--version']);
    // #[clap(long, default_value_t = true, action = clap::ArgAction::Set)] dispatch_lb_interactive: bool
    expect(flag('scx_p2dq', '--dispatch-lb-interactive')).toMatchObject({ type: 'bool', takes_value: true, choices: ['true', 'false'], default: true });
    // scx_lavd: value_parser = Opts::preempt_shift_range -> number_range(s, 0, 10)
    expect(flag('scx_lavd', '--preempt-shift')).toMatchObject({ min: 0, max: 10, default: 6 });
    expect(flag('scx_p2dq', '--min-llc-runs-pick2')).toMatchObject({ default_computed: 'get_default_llc_runs()' });
    expect(flag('scx_rusty', '--cpumasks')).toMatchObject({ repeatable: true, multiple_values: true, conflicts_with: ['--cache-level'] });
  });

  it('agrees with the clap help of every v1.1.2 scheduler, flag by flag', () => {
    for (const s of catalog.schedulers) {
      const help = parseClapHelp(readFileSync(join(FIXTURES, 'help', `${s.name}.txt`), 'utf8'));
      expect(detectDrift(s.flags, help.flags), s.name).toEqual({ missing_in_binary: [], missing_in_catalog: [], mismatches: [] });
    }
  });

  it('gives every flag a default consistent with its type, range and choices, and unique names', () => {
    for (const s of catalog.schedulers) {
      const seen = new Set<string>();
      for (const f of s.flags) {
        const where = `${s.name} ${f.name}`;
        for (const n of [f.name, f.short].filter(Boolean)) {
          expect(seen.has(n!), where).toBe(false);
          seen.add(n!);
        }
        if (f.type === 'choice') expect(f.choices, where).toBeDefined();
        if (f.min !== undefined && f.max !== undefined) expect(f.min, where).toBeLessThanOrEqual(f.max);
        for (const d of f.default === undefined ? [] : Array.isArray(f.default) ? f.default : [f.default]) {
          if (f.type === 'int' || f.type === 'float') {
            expect(typeof d, where).toBe('number');
            if (f.min !== undefined) expect(d as number, where).toBeGreaterThanOrEqual(f.min);
            if (f.max !== undefined) expect(d as number, where).toBeLessThanOrEqual(f.max);
          }
          if (f.type === 'choice') expect(f.choices, where).toContain(d);
        }
      }
    }
  });

  it('filters by name, use case, characteristic and status', () => {
    const names = (f: Parameters<typeof filterCatalog>[1]) => filterCatalog(catalog.schedulers, f).map((s) => s.name);
    expect(names({ name: 'LAVD' })).toEqual(['scx_lavd']);
    expect(names({ use_case: 'gaming' })).toEqual(expect.arrayContaining(['scx_lavd', 'scx_bpfland', 'scx_cake']));
    expect(names({ use_case: 'gaming' })).not.toContain('scx_rusty');
    expect(names({ characteristic: 'per-cpu' })).toEqual(expect.arrayContaining(['scx_cosmos', 'scx_beerland']));
    expect(names({ production_status: 'testing-only' })).toEqual(['scx_chaos']);
  });
});

describe('schedulerFlagSpace (the accessor learn builds sched:<scheduler> from)', () => {
  it('gives the tunable flags with type, range, choices, default and repeatability', () => {
    const space = schedulerFlagSpace('scx_p2dq')!;
    const byName = new Map(space.map((f) => [f.name, f]));
    expect(byName.get('--dispatch-lb-busy')).toMatchObject({ type: 'int', range: { min: 0, max: 99 }, default: 75, repeatable: false, form: 'value' });
    expect(byName.get('--dsq-time-slices')).toMatchObject({ type: 'int', repeatable: true, default: [500, 2500, 5000] });
    expect(byName.get('--sched-mode')).toMatchObject({ type: 'choice', choices: ['default', 'performance', 'efficiency'] });
    expect(byName.get('--fork-balance')).toMatchObject({ type: 'bool', form: 'bool_value', default: true });
    expect(byName.get('--autoslice')).toMatchObject({ type: 'bool', form: 'switch' });
    for (const operational of ['--verbose', '--stats', '--monitor', '--version', '--lb-mode', '--relaxed-maps']) expect(byName.has(operational), operational).toBe(false);
    expect(schedulerFlagSpace('lavd')!.find((f) => f.name === '--preempt-shift')).toMatchObject({ range: { min: 0, max: 10 } });
    expect(schedulerFlagSpace('scx_nonesuch')).toBeUndefined();
  });
});
