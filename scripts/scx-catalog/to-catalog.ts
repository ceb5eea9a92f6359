/**
 * From clap's view of a scheduler (clap-model.ts) to the catalog's flag facts: the mechanical
 * part of schedulers/catalog.json. Curated text (advice, use cases) is merged in by the caller.
 */
import { EXITS_WITHOUT_LOADING } from '../../src/sched/flag-spec.js';
import { INT_BOUNDS } from '../../src/sched/flags.js';
import type { ClapArg, ClapCommand } from './clap-model.js';

const FLOATS = new Set(['f32', 'f64']);

export type CatalogValue = number | string | boolean;

export interface GeneratedFlag {
  name: string;
  short?: string;
  type: 'int' | 'float' | 'bool' | 'count' | 'choice' | 'string';
  takes_value: boolean;
  value_name?: string;
  rust_type?: string;
  min?: number;
  max?: number;
  choices?: string[];
  default?: CatalogValue | CatalogValue[];
  default_computed?: string;
  repeatable?: true;
  multiple_values?: true;
  optional_value?: true;
  require_equals?: true;
  allow_negative?: true;
  value_delimiter?: string;
  requires?: string[];
  conflicts_with?: string[];
  required_unless?: string[];
  exits_without_loading?: true;
  hidden?: true;
  deprecated?: true;
  heading?: string;
  description: string;
}

export interface GeneratedPositional {
  name: string;
  required: boolean;
  repeatable: boolean;
  /** Everything after it belongs to it, flags included (a command to run). */
  trailing: boolean;
  description: string;
}

export function catalogFlags(cmd: ClapCommand): { flags: GeneratedFlag[]; positional: GeneratedPositional | null } {
  const byId = new Map(cmd.args.map((a) => [a.id, a]));
  const ref = (id: string) => {
    const a = byId.get(id);
    return a?.long ? `--${a.long}` : id;
  };
  const flags: GeneratedFlag[] = [];
  let positional: GeneratedPositional | null = null;
  for (const a of cmd.args) {
    if (a.action === 'Help') continue;
    if (a.positional) {
      positional = {
        name: a.id,
        required: a.required,
        repeatable: a.action === 'Append',
        trailing: a.allowHyphenValues,
        description: a.help ?? a.id,
      };
      continue;
    }
    flags.push(flagOf(a, ref));
  }
  return { flags, positional };
}

function flagOf(a: ClapArg, ref: (id: string) => string): GeneratedFlag {
  const takesValue = a.action === 'Set' || a.action === 'Append';
  const type = typeOf(a, takesValue);
  const f: GeneratedFlag = { name: `--${a.long}`, type, takes_value: takesValue, description: a.help ?? `(no description upstream: ${a.id})` };
  if (a.short) f.short = `-${a.short}`;
  if (takesValue) {
    f.value_name = a.valueName;
    f.rust_type = rustInt(a.valueType);
  }
  // Integer bounds as JSON numbers where they are exact (u64/i64 limits are not; the validator knows them as BigInt).
  const bounds = INT_BOUNDS[rustInt(a.valueType)];
  if (type === 'int' && bounds) {
    for (const [key, limit] of [['min', bounds[0]], ['max', bounds[1]]] as const) if (Number.isSafeInteger(Number(limit))) f[key] = Number(limit);
  }
  if (a.range?.min !== undefined) f.min = a.range.min;
  if (a.range?.max !== undefined) f.max = a.range.max;
  if (takesValue && a.possibleValues.length) f.choices = a.possibleValues.map((p) => p.name);
  if (takesValue && a.defaults.length) {
    const values = a.defaults.map((d) => typed(d, type));
    f.default = a.action === 'Append' || values.length > 1 ? values : values[0];
  }
  if (a.defaultComputed) f.default_computed = a.defaultComputed;
  if (a.action === 'Append' || a.action === 'Count') f.repeatable = true;
  if (takesValue && a.numArgs.max > 1) f.multiple_values = true;
  if (takesValue && a.numArgs.min === 0) f.optional_value = true;
  if (a.requireEquals) f.require_equals = true;
  if (a.allowHyphenValues) f.allow_negative = true;
  if (a.valueDelimiter) f.value_delimiter = a.valueDelimiter;
  if (a.requires.length) f.requires = a.requires.map(ref);
  if (a.conflicts.length) f.conflicts_with = a.conflicts.map(ref);
  if (a.requiredUnless.length) f.required_unless = a.requiredUnless.map(ref);
  if (a.action === 'Version' || EXITS_WITHOUT_LOADING.test(a.help ?? '')) f.exits_without_loading = true;
  if (a.hidden) f.hidden = true;
  if (/deprecated/i.test(`${a.help ?? ''} ${a.longHelp ?? ''}`)) f.deprecated = true;
  if (a.heading) f.heading = a.heading;
  return f;
}

function typeOf(a: ClapArg, takesValue: boolean): GeneratedFlag['type'] {
  if (a.action === 'Count') return 'count';
  if (!takesValue || a.valueType === 'bool') return 'bool';
  if (a.possibleValues.length) return 'choice';
  if (rustInt(a.valueType) in INT_BOUNDS && !a.valueDelimiter) return 'int';
  if (FLOATS.has(a.valueType)) return 'float';
  return 'string';
}

function typed(value: string, type: GeneratedFlag['type']): CatalogValue {
  if ((type === 'int' || type === 'float') && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (type === 'bool') return value === 'true';
  return value;
}

/** libc::pid_t is an i32. */
function rustInt(type: string): string {
  return type === 'libc::pid_t' || type === 'pid_t' ? 'i32' : type;
}
