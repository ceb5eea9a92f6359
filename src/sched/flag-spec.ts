/**
 * The flags a scheduler accepts, as validation sees them. With the binary installed, its own
 * --help decides which flags exist and their shape (value or switch, counted, optional value,
 * possible values); the catalog adds what help cannot show (value types and ranges, flags
 * repeatable one value at a time, requires/conflicts, hidden flags) for flags whose shape it
 * agrees on. Without the binary, the catalog of the scx release it describes is the spec.
 */
import type { CatalogFlag, CatalogPositional, CatalogScheduler } from './catalog.js';
import type { HelpFlag, ParsedHelp } from './help.js';

export interface SpecFlag {
  /** --long, or -s for a short-only flag. */
  name: string;
  short: string | null;
  takes_value: boolean;
  optional_value: boolean;
  require_equals: boolean;
  multiple_values: boolean;
  repeatable: boolean;
  count: boolean;
  /** int/float/bool/choice/string; null: the value's type is unknown (only its presence is checked). */
  type: CatalogFlag['type'] | null;
  rust_type: string | null;
  min: number | null;
  max: number | null;
  choices: string[] | null;
  allow_negative: boolean;
  value_delimiter: string | null;
  requires: string[];
  conflicts: string[];
  required_unless: string[] | null;
  exits_without_loading: boolean;
  description: string;
}

export interface FlagSpec {
  scheduler: string;
  /** Where the flags come from, for messages: "the installed /usr/bin/scx_lavd --help" or "the scx 1.1.2 catalog". */
  source: string;
  fromBinary: boolean;
  flags: SpecFlag[];
  positional: Pick<CatalogPositional, 'name' | 'required' | 'repeatable' | 'trailing'> | null;
}

/** Help wording of flags that print, monitor or exit without loading a scheduler. */
export const EXITS_WITHOUT_LOADING = /\band exit\b|scheduler is not launched|^run in monitoring mode|^show descriptions for statistics|^print version/i;

export function specFromCatalog(entry: CatalogScheduler, scxVersion: string): FlagSpec {
  return {
    scheduler: entry.name,
    source: `the scx ${scxVersion} catalog (the binary is not installed here)`,
    fromBinary: false,
    flags: entry.flags.map((f) => catalogSpecFlag(f)),
    positional: entry.positional ?? null,
  };
}

export function specFromHelp(entry: CatalogScheduler, help: ParsedHelp, binary: string): FlagSpec {
  const catalogByName = new Map(entry.flags.map((f) => [f.name, f]));
  const flags: SpecFlag[] = help.flags
    .filter((h) => h.name !== '--help')
    .map((h) => {
      const c = h.name ? catalogByName.get(h.name) : undefined;
      return mergeFlag(h, c && agrees(h, c) ? c : undefined);
    });
  const listed = new Set(help.flags.map((h) => h.name));
  // Hidden flags are accepted by the binary although --help does not list them.
  for (const f of entry.flags) if (f.hidden && !listed.has(f.name)) flags.push(catalogSpecFlag(f));
  const known = new Set(flags.map((f) => f.name));
  for (const f of flags) {
    f.requires = f.requires.filter((r) => known.has(r) || r === entry.positional?.name);
    f.conflicts = f.conflicts.filter((r) => known.has(r) || r === entry.positional?.name);
    if (f.required_unless) f.required_unless = f.required_unless.filter((r) => known.has(r));
  }
  const p = help.positionals[0];
  return {
    scheduler: entry.name,
    source: `the installed ${binary} --help`,
    fromBinary: true,
    flags,
    positional: p ? { name: p.name, required: p.required, repeatable: p.repeatable, trailing: entry.positional?.name === p.name ? entry.positional.trailing : false } : null,
  };
}

/** Do the catalog and the binary describe the same kind of flag? Only then may the catalog add to it. */
export function agrees(h: HelpFlag, c: CatalogFlag): boolean {
  if (h.takes_value !== c.takes_value) return false;
  if (h.count !== (c.type === 'count')) return false;
  if (h.choices && c.choices && [...h.choices].sort().join() !== [...c.choices].sort().join()) return false;
  return true;
}

function mergeFlag(h: HelpFlag, c: CatalogFlag | undefined): SpecFlag {
  return {
    name: h.name ?? h.short!,
    short: h.short,
    takes_value: h.takes_value,
    optional_value: h.optional_value,
    require_equals: h.require_equals,
    multiple_values: h.multiple_values,
    repeatable: h.count || h.multiple_values || c?.repeatable === true,
    count: h.count,
    type: h.count ? 'count' : !h.takes_value ? 'bool' : h.choices ? (c?.type === 'bool' ? 'bool' : 'choice') : (c?.type ?? null),
    rust_type: c?.rust_type ?? null,
    min: c?.min ?? null,
    max: c?.max ?? null,
    choices: h.choices ?? c?.choices ?? null,
    allow_negative: c?.allow_negative === true,
    value_delimiter: c?.value_delimiter ?? null,
    requires: c?.requires ?? [],
    conflicts: [...(c?.conflicts_with ?? []), ...(c?.refused_with ?? [])],
    required_unless: c?.required_unless ?? null,
    exits_without_loading: c ? c.exits_without_loading === true : EXITS_WITHOUT_LOADING.test(h.description) || h.name === '--version',
    description: h.description || c?.description || '',
  };
}

function catalogSpecFlag(f: CatalogFlag): SpecFlag {
  return {
    name: f.name,
    short: f.short ?? null,
    takes_value: f.takes_value,
    optional_value: f.optional_value === true,
    require_equals: f.require_equals === true,
    multiple_values: f.multiple_values === true,
    repeatable: f.repeatable === true,
    count: f.type === 'count',
    type: f.type,
    rust_type: f.rust_type ?? null,
    min: f.min ?? null,
    max: f.max ?? null,
    choices: f.choices ?? null,
    allow_negative: f.allow_negative === true,
    value_delimiter: f.value_delimiter ?? null,
    requires: f.requires ?? [],
    conflicts: [...(f.conflicts_with ?? []), ...(f.refused_with ?? [])],
    required_unless: f.required_unless ?? null,
    exits_without_loading: f.exits_without_loading === true,
    description: f.description,
  };
}
