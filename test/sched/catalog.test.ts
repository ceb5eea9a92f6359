/**
 * The catalog is data the client trusts to pick schedulers and flags: its JSON Schema is generated
 * from the zod schema the server loads it with (so the two cannot drift; UPDATE_CATALOG_SCHEMA=1
 * rewrites it), an independent validator (ajv) checks the catalog against that JSON Schema, and
 * the facts a schema cannot express (defaults inside ranges, unique names) are checked here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogSchema, filterCatalog, loadCatalog, type CatalogFlag } from '../../src/sched/catalog.js';
import { CATALOG_PATH, SCHEDULERS_DIR } from '../../src/sched/paths.js';

const SCHEMA_PATH = join(SCHEDULERS_DIR, 'catalog.schema.json');
const REFERENCE_SCHEDULERS = ['scx_bpfland', 'scx_lavd', 'scx_rusty', 'scx_flash', 'scx_p2dq', 'scx_cosmos', 'scx_beerland', 'scx_layered', 'scx_mitosis', 'scx_rustland', 'scx_tickless', 'scx_chaos'];

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

describe('catalog content', () => {
  const catalog = loadCatalog();

  it('describes at least the 12 scx schedulers of the reference, each once', () => {
    const names = catalog.schedulers.map((s) => s.name);
    for (const name of REFERENCE_SCHEDULERS) expect(names).toContain(name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(catalog.schedulers.map((s) => s.ops_name)).size).toBe(names.length);
  });

  it('gives every flag a default consistent with its type, range and choices, and unique names', () => {
    const check = (owner: string, flags: CatalogFlag[]) => {
      const seen = new Set<string>();
      for (const f of flags) {
        const where = `${owner} ${f.name}`;
        expect(seen.has(f.name), where).toBe(false);
        seen.add(f.name);
        if (f.short) {
          expect(seen.has(f.short), where).toBe(false);
          seen.add(f.short);
        }
        if (f.type === 'enum') expect(f.choices, where).toBeDefined();
        if (f.min !== undefined && f.max !== undefined) expect(f.min, where).toBeLessThanOrEqual(f.max);
        if (f.default === undefined) continue;
        if (f.type === 'int' || f.type === 'float') {
          expect(typeof f.default, where).toBe('number');
          if (f.type === 'int') expect(Number.isInteger(f.default), where).toBe(true);
          if (f.min !== undefined) expect(f.default as number, where).toBeGreaterThanOrEqual(f.min);
          if (f.max !== undefined) expect(f.default as number, where).toBeLessThanOrEqual(f.max);
        }
        if (f.type === 'enum') expect(f.choices, where).toContain(f.default);
        if (f.type === 'int_list') expect(String(f.default), where).toMatch(/^\d+(,\d+)*$/);
      }
    };
    check('common', catalog.common_flags);
    for (const s of catalog.schedulers) check(s.name, [...s.flags, ...catalog.common_flags]);
  });

  it('uses the real flag names of the reference (e.g. --slice-us, not invented keys)', () => {
    const flags = (name: string) => catalog.schedulers.find((s) => s.name === name)!.flags.map((f) => f.name);
    expect(flags('scx_bpfland')).toEqual(expect.arrayContaining(['--slice-us', '--slice-us-lag', '--primary-domain', '--local-pcpu']));
    expect(flags('scx_lavd')).toEqual(expect.arrayContaining(['--slice-max-us', '--performance', '--powersave', '--per-cpu-dsq']));
    expect(flags('scx_p2dq')).toEqual(expect.arrayContaining(['--dsq-time-slices', '--lb-mode', '--saturated-percent']));
    expect(catalog.common_flags.map((f) => f.name)).toEqual(expect.arrayContaining(['--stats', '--monitor', '--exit-dump-len', '--verbose', '--version', '--help-stats']));
  });

  it('filters by name, use case, characteristic and status', () => {
    const names = (f: Parameters<typeof filterCatalog>[1]) => filterCatalog(catalog.schedulers, f).map((s) => s.name);
    expect(names({ name: 'LAVD' })).toEqual(['scx_lavd']);
    expect(names({ use_case: 'gaming' })).toEqual(expect.arrayContaining(['scx_lavd', 'scx_bpfland']));
    expect(names({ use_case: 'gaming' })).not.toContain('scx_rusty');
    expect(names({ characteristic: 'per-cpu' })).toEqual(expect.arrayContaining(['scx_cosmos', 'scx_beerland']));
    expect(names({ production_status: 'testing-only' })).toEqual(['scx_chaos']);
  });
});
