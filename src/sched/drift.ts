/**
 * Where the catalog and an installed binary's --help disagree. The binary wins for validation
 * (flag-spec.ts); drift is shown by list_schedulers so a stale catalog cannot mislead the client
 * (its descriptions and advice may describe a flag the installed version changed).
 */
import type { CatalogFlag } from './catalog.js';
import type { HelpFlag } from './help.js';

export interface FlagDrift {
  /** In the catalog, absent from the binary's --help (renamed or removed, or the binary is older). */
  missing_in_binary: string[];
  /** Offered by the binary, unknown to the catalog. */
  missing_in_catalog: string[];
  /** Same flag, different facts: "--slice-us default: catalog 1000, binary 5000". */
  mismatches: string[];
}

export function detectDrift(catalogFlags: readonly CatalogFlag[], help: readonly HelpFlag[]): FlagDrift {
  const byName = new Map(help.filter((h) => h.name).map((h) => [h.name!, h]));
  const known = new Set(catalogFlags.map((f) => f.name));
  const drift: FlagDrift = { missing_in_binary: [], missing_in_catalog: [], mismatches: [] };
  for (const flag of catalogFlags) {
    const h = byName.get(flag.name);
    if (!h) {
      if (!flag.hidden) drift.missing_in_binary.push(flag.name);
      continue;
    }
    const shape = (takesValue: boolean, count: boolean) => (count ? 'a counted switch (-vv)' : takesValue ? 'takes a value' : 'is a switch');
    const catalogShape = shape(flag.takes_value, flag.type === 'count');
    const binaryShape = shape(h.takes_value, h.count);
    if (catalogShape !== binaryShape) drift.mismatches.push(`${flag.name}: catalog says it ${catalogShape}, the binary says it ${binaryShape}`);
    if (flag.default !== undefined && !flag.default_computed) {
      const catalogDefault = (Array.isArray(flag.default) ? flag.default : [flag.default]).map(String);
      if (!h.defaults && h.takes_value) drift.mismatches.push(`${flag.name} default: catalog ${catalogDefault.join(' ')}, the binary shows none`);
      else if (h.defaults && !sameValues(catalogDefault, h.defaults)) drift.mismatches.push(`${flag.name} default: catalog ${catalogDefault.join(' ')}, binary ${h.defaults.join(' ')}`);
    }
    if (flag.short && h.short && flag.short !== h.short) drift.mismatches.push(`${flag.name} short form: catalog ${flag.short}, binary ${h.short}`);
    if (flag.choices && h.choices && [...flag.choices].sort().join() !== [...h.choices].sort().join()) {
      drift.mismatches.push(`${flag.name} choices: catalog ${flag.choices.join('|')}, binary ${h.choices.join('|')}`);
    }
    if ((flag.multiple_values === true) !== h.multiple_values) {
      drift.mismatches.push(`${flag.name}: catalog says it takes ${flag.multiple_values ? 'several values' : 'one value'} per flag, the binary ${h.multiple_values ? 'several' : 'one'}`);
    }
  }
  for (const h of help) if (h.name && h.name !== '--help' && !known.has(h.name)) drift.missing_in_catalog.push(h.name);
  return drift;
}

function sameValues(catalog: string[], binary: string[]): boolean {
  if (catalog.length !== binary.length) return false;
  return catalog.every((c, i) => c === binary[i] || (c.trim() !== '' && Number(c) === Number(binary[i])));
}

export function hasDrift(d: FlagDrift): boolean {
  return d.missing_in_binary.length + d.missing_in_catalog.length + d.mismatches.length > 0;
}
