/**
 * clap 4's derive rules applied to the definitions rust-source.ts finds: which arguments a
 * scheduler binary accepts, with clap's own defaults (long = kebab-case field name, short = its
 * first letter, value name = the field name upper-cased, bool = switch, Vec = repeatable, u8 with
 * ArgAction::Count = -vvv), value ranges, possible values and doc-comment help (clap_derive's
 * paragraph and trailing-period rules).
 */
import { stringLiteral, type Attribute, type ClapItem, type Member } from './rust-source.js';

export type ClapAction = 'SetTrue' | 'SetFalse' | 'Set' | 'Append' | 'Count' | 'Help' | 'Version';

export interface PossibleValue {
  name: string;
  help: string | null;
}

export interface ClapArg {
  id: string;
  long: string | null;
  short: string | null;
  positional: boolean;
  action: ClapAction;
  /** The value's Rust type inside Option<>/Vec<> (u64, f64, bool, String, an enum name). */
  valueType: string;
  numArgs: { min: number; max: number };
  valueName: string;
  defaults: string[];
  /** A default computed when the binary starts (default_value_t = some_fn()): not knowable here. */
  defaultComputed: string | null;
  defaultMissing: string | null;
  possibleValues: PossibleValue[];
  range: { min?: number; max?: number } | null;
  help: string | null;
  longHelp: string | null;
  heading: string | null;
  hidden: boolean;
  required: boolean;
  /** required_unless_present_any: required unless one of these is given. */
  requiredUnless: string[];
  requires: string[];
  conflicts: string[];
  requireEquals: boolean;
  allowHyphenValues: boolean;
  valueDelimiter: string | null;
  /** value_parser = some_fn: a parser of the scheduler's own. */
  customParser: string | null;
}

export interface ClapCommand {
  name: string;
  about: string | null;
  longAbout: string | null;
  args: ClapArg[];
  subcommands: { name: string; hidden: boolean }[];
}

export interface SourceSet {
  items: ClapItem[];
  /** Text of every file, to resolve custom value parsers. */
  text: string;
}

/** The command clap builds from `root` (the struct main() calls ::parse() on). */
export function clapCommand(name: string, root: ClapItem, sources: SourceSet): ClapCommand {
  const cmd = commandAttrs(root.attrs);
  const verbatim = cmd.has('verbatim_doc_comment');
  const doc = formatDoc(root.docs, !verbatim);
  const args = argsOf(root, sources, null);
  if (cmd.has('version') && !cmd.has('disable_version_flag')) {
    args.push(builtin('version', 'V', 'Version', 'Print version'));
  }
  args.push(builtin('help', 'h', 'Help', 'Print help'));
  const subcommands: ClapCommand['subcommands'] = [];
  for (const m of root.members) {
    if (!attrFlags(m.attrs).has('subcommand')) continue;
    const sub = findItem(sources, stripOption(m.type), root.file);
    for (const v of sub?.members ?? []) subcommands.push({ name: kebab(snake(v.name)), hidden: attrFlags(v.attrs).get('hide') === 'true' });
  }
  return {
    name,
    about: stringLiteral(cmd.get('about') ?? '') ?? doc.short,
    longAbout: doc.long,
    args,
    subcommands,
  };
}

function argsOf(item: ClapItem, sources: SourceSet, heading: string | null): ClapArg[] {
  const out: ClapArg[] = [];
  for (const m of item.members) {
    const a = attrFlags(m.attrs);
    if (a.has('subcommand')) continue;
    if (a.has('flatten')) {
      const inner = findItem(sources, stripOption(m.type), item.file);
      if (!inner) throw new Error(`${item.name}.${m.name}: flattened type ${m.type} not found`);
      const next = stringLiteral(a.get('next_help_heading') ?? '') ?? heading;
      out.push(...argsOf(inner, sources, next));
      continue;
    }
    out.push(fieldArg(m, a, sources, stringLiteral(a.get('help_heading') ?? '') ?? heading));
  }
  return out;
}

function fieldArg(m: Member, a: Map<string, string>, sources: SourceSet, heading: string | null): ClapArg {
  const { inner, container } = unwrapType(m.type);
  const explicitAction = a.get('action')?.replace(/^(clap::)?ArgAction::/, '') as ClapAction | undefined;
  const isBool = inner === 'bool' && container === 'plain';
  const action: ClapAction = explicitAction ?? (isBool ? 'SetTrue' : container === 'vec' ? 'Append' : 'Set');
  const positional = !a.has('long') && !a.has('short');
  const long = positional ? null : a.get('long') === 'true' ? kebab(m.name) : stringLiteral(a.get('long')!);
  const short = !a.has('short') ? null : a.get('short') === 'true' ? m.name[0] : /^'(.)'$/.exec(a.get('short')!)![1];
  const takesValue = action === 'Set' || action === 'Append';
  const numArgs = parseNumArgs(a.get('num_args')) ?? (takesValue ? { min: 1, max: positional && action === 'Append' ? Infinity : 1 } : { min: 0, max: 0 });
  const doc = formatDoc(m.docs, !a.has('verbatim_doc_comment'));
  const explicitHelp = stringLiteral(a.get('help') ?? '');
  const enumItem = a.has('value_enum') || /^\w+$/.test(inner) ? findItem(sources, inner, null, 'enum') : undefined;
  const possibleValues = enumItem ? enumValues(enumItem) : inner === 'bool' && takesValue ? [{ name: 'true', help: null }, { name: 'false', help: null }] : [];
  const parser = a.get('value_parser');
  const { defaults, computed } = defaultsOf(a, enumItem);
  return {
    id: m.name,
    long,
    short,
    positional,
    action,
    valueType: inner,
    numArgs,
    valueName: stringLiteral(a.get('value_name') ?? '') ?? m.name.toUpperCase(),
    defaults,
    defaultComputed: computed,
    defaultMissing: stringLiteral(a.get('default_missing_value') ?? ''),
    possibleValues,
    range: parser ? rangeOf(parser, sources.text) : null,
    help: explicitHelp ?? doc.short,
    longHelp: doc.long,
    heading,
    hidden: a.get('hide') === 'true',
    required: a.get('required') === 'true' || (positional && container === 'plain' && !a.has('default_value') && !a.has('default_value_t')),
    requiredUnless: listOf(a.get('required_unless_present_any')),
    requires: listOf(a.get('requires')),
    conflicts: listOf(a.get('conflicts_with')),
    requireEquals: a.get('require_equals') === 'true',
    allowHyphenValues: a.get('allow_hyphen_values') === 'true',
    valueDelimiter: /^'(.)'$/.exec(a.get('value_delimiter') ?? '')?.[1] ?? null,
    customParser: parser && !/value_parser!|^true$/.test(parser) ? parser : null,
  };
}

function builtin(id: string, short: string, action: ClapAction, help: string): ClapArg {
  return {
    id, long: id, short, positional: false, action, valueType: 'bool', numArgs: { min: 0, max: 0 }, valueName: id.toUpperCase(),
    defaults: [], defaultComputed: null, defaultMissing: null, possibleValues: [], range: null,
    help: action === 'Help' ? 'Print help' : help, longHelp: action === 'Help' ? "Print help (see a summary with '-h')" : null,
    heading: null, hidden: false, required: false, requiredUnless: [], requires: [], conflicts: [], requireEquals: false, allowHyphenValues: false, valueDelimiter: null, customParser: null,
  };
}

function defaultsOf(a: Map<string, string>, enumItem: ClapItem | undefined): { defaults: string[]; computed: string | null } {
  if (a.has('default_value')) return { defaults: [stringLiteral(a.get('default_value')!)!], computed: null };
  const list = a.get('default_values_t');
  if (list) {
    const repeat = /^\[\s*(.+?)\s*;\s*(\d+)\s*\]$/.exec(list); // [value; count]
    const items = repeat ? Array<string>(Number(repeat[2])).fill(repeat[1]) : list.replace(/^\[|\]$/g, '').split(',').map((v) => v.trim()).filter(Boolean);
    return { defaults: items.map((v) => literalValue(v, enumItem)!), computed: null };
  }
  const t = a.get('default_value_t');
  if (t !== undefined) {
    const v = literalValue(t, enumItem);
    return v === null ? { defaults: [], computed: t } : { defaults: [v], computed: null };
  }
  return { defaults: [], computed: null };
}

/** A Rust literal or enum variant as clap displays it; null for an expression computed at run time. */
function literalValue(text: string, enumItem: ClapItem | undefined): string | null {
  if (/^-?\d+(\.\d+)?$|^(true|false)$/.test(text)) return text;
  const s = stringLiteral(text);
  if (s !== null) return s;
  const variant = /^\w+::(\w+)$/.exec(text);
  if (variant && enumItem) return enumValues(enumItem).find((v) => v.name === valueName(enumItem, variant[1]))?.name ?? null;
  return null;
}

function enumValues(item: ClapItem): PossibleValue[] {
  return item.members
    .filter((v) => !attrFlags(v.attrs).has('skip'))
    .map((v) => ({ name: valueName(item, v.name), help: formatDoc(v.docs, true).short }));
}

function valueName(item: ClapItem, variant: string): string {
  const rename = stringLiteral(commandAttrs(item.attrs).get('rename_all') ?? '');
  const explicit = item.members.find((m) => m.name === variant);
  const named = explicit && stringLiteral(attrFlags(explicit.attrs).get('name') ?? '');
  if (named) return named;
  return rename === 'snake_case' ? snake(variant) : kebab(snake(variant));
}

/** `value_parser!(u64).range(0..100)`, or a function calling clap_num's number_range / a contains() check. */
function rangeOf(parser: string, text: string): ClapArg['range'] {
  const r = /\.range\((-?\d+)?\.\.(=)?(-?\d+)?\)/.exec(parser);
  if (r) return { ...(r[1] !== undefined && { min: Number(r[1]) }), ...(r[3] !== undefined && { max: Number(r[3]) - (r[2] ? 0 : 1) }) };
  const fn = /(\w+)$/.exec(parser)?.[1];
  if (!fn) return null;
  const body = new RegExp(`fn ${fn}\\s*\\([^)]*\\)[^{]*\\{([\\s\\S]*?)\\n\\s*\\}`).exec(text)?.[1] ?? '';
  const n = /number_range\(\s*\w+\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)/.exec(body) ?? /\((-?[\d.]+)\.\.=(-?[\d.]+)\)\.contains/.exec(body);
  return n ? { min: Number(n[1]), max: Number(n[2]) } : null;
}

function parseNumArgs(text: string | undefined): ClapArg['numArgs'] | null {
  if (!text) return null;
  const m = /^(\d+)?\.\.(=)?(\d+)?$/.exec(text.trim());
  if (m) return { min: Number(m[1] ?? 0), max: m[3] === undefined ? Infinity : Number(m[3]) - (m[2] ? 0 : 1) };
  return /^\d+$/.test(text.trim()) ? { min: Number(text), max: Number(text) } : null;
}

function unwrapType(type: string): { inner: string; container: 'plain' | 'option' | 'vec' | 'option_vec' } {
  const t = type.replace(/\s+/g, '');
  let m = /^Option<Vec<(.+)>>$/.exec(t);
  if (m) return { inner: m[1], container: 'option_vec' };
  m = /^Option<(.+)>$/.exec(t);
  if (m) return { inner: m[1], container: 'option' };
  m = /^Vec<(.+)>$/.exec(t);
  if (m) return { inner: m[1], container: 'vec' };
  return { inner: t, container: 'plain' };
}

function stripOption(type: string): string {
  return unwrapType(type).inner.replace(/^.*::/, '');
}

function findItem(sources: SourceSet, written: string, preferFile: string | null, kind?: 'enum'): ClapItem | undefined {
  // `use scx_p2dq::SchedulerOpts as P2dqOpts;`
  const alias = new RegExp(`^\\s*(?:pub\\s+)?use\\s+[\\w:]*?(\\w+)\\s+as\\s+${written}\\s*;`, 'm').exec(sources.text);
  const name = alias?.[1] ?? written;
  const matches = sources.items.filter((i) => i.name === name && (!kind || i.kind === kind));
  return matches.find((i) => i.file === preferFile) ?? matches[0];
}

/** Arguments of every clap/arg/command/value attribute, merged. */
function attrFlags(attrs: Attribute[]): Map<string, string> {
  return new Map(attrs.filter((x) => ['clap', 'arg', 'command', 'value'].includes(x.name)).flatMap((x) => x.args));
}

function commandAttrs(attrs: Attribute[]): Map<string, string> {
  return attrFlags(attrs);
}

function listOf(text: string | undefined): string[] {
  if (!text) return [];
  return text.replace(/^\[|\]$/g, '').split(',').map((s) => stringLiteral(s.trim())).filter((s): s is string => Boolean(s));
}

/** clap_derive's doc-comment rules: the first paragraph is the help (its trailing period removed), all paragraphs the long help. */
export function formatDoc(lines: string[], preprocess: boolean): { short: string | null; long: string | null } {
  const l = [...lines];
  while (l.length && !l[0].trim()) l.shift();
  while (l.length && !l[l.length - 1].trim()) l.pop();
  if (!l.length) return { short: null, long: null };
  const merge = (xs: string[]) => xs.map((s) => s.trim()).join(' ');
  const removePeriod = (s: string) => (s.endsWith('.') && !s.endsWith('..') ? s.slice(0, -1) : s);
  const firstBlank = l.findIndex((s) => !s.trim());
  if (firstBlank < 0) return preprocess ? { short: removePeriod(merge(l)), long: null } : { short: l.join('\n'), long: null };
  if (!preprocess) return { short: l.slice(0, firstBlank).join('\n'), long: l.join('\n') };
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of [...l, '']) {
    if (line.trim()) current.push(line);
    else if (current.length) {
      paragraphs.push(merge(current));
      current = [];
    }
  }
  return { short: removePeriod(paragraphs[0]), long: paragraphs.join('\n\n') };
}

export function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}
