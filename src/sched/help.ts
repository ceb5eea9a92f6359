/**
 * What an installed scheduler binary says about itself: its clap `--help` (long layout, or the
 * short `-h` layout with help on the same line) and `--version`. The help is the authority on
 * which flags the binary accepts (flag-spec.ts); drift.ts compares it with the catalog.
 *
 * clap 4's help shows: `-s, --slice-us <SLICE_US>` (a value), `--local-pcpu` (a switch),
 * `-v, --verbose...` (a counted switch), `<V>...` (several values per flag), `[<V>]` / `[=<V>]`
 * (an optional value), `=<V>` (value attached with =), `[default: a b]`, `[possible values: x, y]`
 * or a "Possible values:" list, sections per help heading, positionals as `[NAME]...`/`<NAME>`.
 * It does not show that a flag may be repeated when each occurrence takes one value (a Vec with
 * ArgAction::Append): the catalog supplies that.
 */
import { statSync } from 'node:fs';
import { outputTail, runCommand } from '../core/exec.js';

export interface HelpFlag {
  /** Long form (--slice-us); null for a short-only flag. */
  name: string | null;
  short: string | null;
  takes_value: boolean;
  value_name: string | null;
  optional_value: boolean;
  require_equals: boolean;
  multiple_values: boolean;
  /** `-v...`: a switch that counts its repetitions. */
  count: boolean;
  defaults: string[] | null;
  choices: string[] | null;
  description: string;
  heading: string;
}

export interface HelpPositional {
  name: string;
  required: boolean;
  repeatable: boolean;
}

export interface ParsedHelp {
  flags: HelpFlag[];
  positionals: HelpPositional[];
}

export interface BinaryInfo {
  path: string;
  version: string | null;
  help: ParsedHelp | null;
  /** Why --help could not be read, when it could not. */
  help_error: string | null;
}

const HEADING = /^([A-Z][\w ]*):\s*$/;
const ENTRY = /^ {2}(?: {4})?(?=[-[<])(.*)$/;

/** Parse clap's help output (long `--help` or short `-h` layout). */
export function parseClapHelp(text: string): ParsedHelp {
  const flags: HelpFlag[] = [];
  const positionals: HelpPositional[] = [];
  let heading = '';
  let current: { flag: HelpFlag | null; lines: string[] } | null = null;
  const finish = () => {
    if (current?.flag) describe(current.flag, current.lines);
    current = null;
  };
  for (const raw of text.replace(/\r/g, '').split('\n')) {
    const h = HEADING.exec(raw);
    if (h) {
      finish();
      heading = h[1];
      continue;
    }
    if (heading === 'Commands' || !heading) continue;
    const e = ENTRY.exec(raw);
    if (e) {
      finish();
      const [spec, inline] = splitInline(e[1]);
      const positional = /^([[<])([^\]>]+)[\]>](\.\.\.)?$/.exec(spec);
      if (positional) {
        positionals.push({ name: positional[2].toLowerCase(), required: positional[1] === '<', repeatable: Boolean(positional[3]) });
        current = { flag: null, lines: [] };
        continue;
      }
      const flag = parseSpec(spec, heading);
      if (flag) flags.push(flag);
      current = { flag, lines: inline ? [inline] : [] };
      continue;
    }
    current?.lines.push(raw.trim());
  }
  finish();
  return { flags, positionals };
}

/** "-s, --slice-us <SLICE_US>  Maximum ..." → ["-s, --slice-us <SLICE_US>", "Maximum ..."]. */
function splitInline(entry: string): [string, string] {
  const m = /^(\S+(?:,? \S+)*?)(?: {2,}(.*))?$/.exec(entry.trimEnd());
  return m ? [m[1], m[2] ?? ''] : [entry.trim(), ''];
}

function parseSpec(spec: string, heading: string): HelpFlag | null {
  const m = /^(?:(-[A-Za-z0-9])(?:, |$| (?=[<[])))?(?:(--[A-Za-z0-9][\w-]*))?(.*)$/.exec(spec);
  if (!m || (!m[1] && !m[2])) return null;
  const suffix = m[3].trim();
  const value = /(\[?)(=?)\[?=?<([^>]+)>(\.\.\.)?\]?/.exec(suffix);
  const optional = /^\[/.test(suffix) || /^\[=/.test(suffix);
  return {
    name: m[2] ?? null,
    short: m[1] ?? null,
    takes_value: Boolean(value),
    value_name: value?.[3] ?? null,
    optional_value: Boolean(value) && optional,
    require_equals: /^\[?=/.test(suffix),
    multiple_values: Boolean(value?.[4]),
    count: !value && suffix === '...',
    defaults: null,
    choices: null,
    description: '',
    heading,
  };
}

function describe(flag: HelpFlag, lines: string[]): void {
  const text = lines.join('\n');
  const flat = text.replace(/\s+/g, ' ');
  const def = /\[default: ([^\]]*)\]/.exec(flat);
  if (def) flag.defaults = splitDefaults(def[1]);
  const pv = /\[possible values: ([^\]]*)\]/.exec(flat);
  if (pv) flag.choices = pv[1].split(',').map((c) => c.trim()).filter(Boolean);
  const list = /Possible values:\n([\s\S]*)/.exec(text);
  if (!pv && list) flag.choices = [...list[1].matchAll(/^- ([^\s:]+)(?::|$)/gm)].map((x) => x[1]);
  const first = text.split(/\n\s*\n/)[0].replace(/\[(default|possible values): [^\]]*\]/g, '');
  flag.description = first.replace(/\s+/g, ' ').trim();
}

/** clap joins several defaults with spaces and quotes those containing whitespace. */
function splitDefaults(text: string): string[] {
  if (!text.trim()) return [''];
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
}

const cache = new Map<string, { stamp: string; info: BinaryInfo }>();

/** `--version` and `--help` of a binary, cached per path until its mtime or size changes. */
export async function inspectBinary(path: string): Promise<BinaryInfo> {
  let stamp: string;
  try {
    const st = statSync(path);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    return { path, version: null, help: null, help_error: `${path} is not readable` };
  }
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit.info;
  const [help, version] = await Promise.all([
    runCommand([path, '--help'], { timeoutMs: 10_000, maxOutputBytes: 256 * 1024 }),
    runCommand([path, '--version'], { timeoutMs: 10_000, maxOutputBytes: 16 * 1024 }),
  ]);
  const helpText = help.stdout || help.stderr;
  const parsed = help.ok ? parseClapHelp(helpText) : null;
  const usable = parsed && parsed.flags.length > 0 ? parsed : null;
  const info: BinaryInfo = {
    path,
    version: version.ok ? parseVersion(version.stdout || version.stderr) : null,
    help: usable,
    help_error: usable
      ? null
      : help.timedOut
        ? '--help timed out'
        : help.ok
          ? '--help printed no clap options'
          : `--help failed (exit ${help.exitCode}): ${outputTail(help)}`,
  };
  cache.set(path, { stamp, info });
  return info;
}

export function parseVersion(text: string): string | null {
  const first = text.trim().split('\n')[0] ?? '';
  return /\d+\.\d+(?:\.\d+)?[\w.+-]*/.exec(first)?.[0] ?? (first || null);
}
