/**
 * What an installed scheduler binary says about itself (`--help`, `--version`), and where that
 * differs from the catalog. The binary is the truth: drift shows stale catalog metadata instead of
 * letting it mislead the client.
 */
import { statSync } from 'node:fs';
import { runCommand, outputTail } from '../core/exec.js';
import type { CatalogFlag } from './catalog.js';

export interface HelpFlag {
  name: string;
  short: string | null;
  takes_value: boolean;
  default: string | null;
  choices: string[] | null;
}

export interface FlagDrift {
  /** In the catalog, absent from the binary's --help (renamed or removed upstream). */
  missing_in_binary: string[];
  /** Offered by the binary, unknown to the catalog. */
  missing_in_catalog: string[];
  /** Same flag, different facts: "--slice-us default: catalog 1000, binary 5000". */
  mismatches: string[];
}

export interface BinaryInfo {
  version: string | null;
  help_flags: HelpFlag[] | null;
  /** Why --help could not be read, when it could not. */
  help_error: string | null;
}

const FLAG_LINE = /^\s{1,8}(?:(-[A-Za-z]),\s+)?(--[a-z0-9][a-z0-9-]*)(?:[ =]<([^>]+)>|[ =]\[<([^>]+)>\])?(\.\.\.)?/;
const SHORT_ONLY_LINE = /^\s{1,8}(-[A-Za-z])(?:\s+<([^>]+)>)?(\.\.\.)?(\s|$)/;
const BUILTIN = new Set(['--help', '--version']);

/** Parse clap's help output (long `--help` or short `-h` layout). */
export function parseClapHelp(text: string): HelpFlag[] {
  const flags: HelpFlag[] = [];
  let current: HelpFlag | null = null;
  for (const line of text.split('\n')) {
    const m = FLAG_LINE.exec(line);
    if (m) {
      current = { name: m[2], short: m[1] ?? null, takes_value: Boolean(m[3] || m[4]), default: null, choices: null };
      flags.push(current);
    } else if (SHORT_ONLY_LINE.test(line) && !line.trim().startsWith('--')) {
      current = null; // a short-only flag: nothing in the catalog can refer to it
    }
    if (!current) continue;
    const def = /\[default: ([^\]]*)\]/.exec(line);
    if (def) current.default = def[1].trim();
    const choices = /\[possible values: ([^\]]*)\]/.exec(line);
    if (choices) current.choices = choices[1].split(',').map((c) => c.trim()).filter(Boolean);
  }
  return flags;
}

export function detectDrift(catalogFlags: readonly CatalogFlag[], help: readonly HelpFlag[]): FlagDrift {
  const byName = new Map(help.map((h) => [h.name, h]));
  const known = new Set(catalogFlags.map((f) => f.name));
  const drift: FlagDrift = { missing_in_binary: [], missing_in_catalog: [], mismatches: [] };
  for (const flag of catalogFlags) {
    const h = byName.get(flag.name);
    if (!h) {
      drift.missing_in_binary.push(flag.name);
      continue;
    }
    const catalogTakesValue = flag.type !== 'bool' && flag.type !== 'count';
    if (catalogTakesValue !== h.takes_value) {
      drift.mismatches.push(`${flag.name}: catalog says it ${catalogTakesValue ? 'takes a value' : 'is a switch'}, the binary says it ${h.takes_value ? 'takes a value' : 'is a switch'}`);
    }
    if (flag.default !== undefined && h.default !== null && !sameValue(flag.default, h.default)) {
      drift.mismatches.push(`${flag.name} default: catalog ${flag.default}, binary ${h.default}`);
    }
    if (flag.default !== undefined && h.default === null && h.takes_value) {
      drift.mismatches.push(`${flag.name} default: catalog ${flag.default}, the binary shows none`);
    }
    if (flag.short && h.short && flag.short !== h.short) drift.mismatches.push(`${flag.name} short form: catalog ${flag.short}, binary ${h.short}`);
    if (flag.choices && h.choices && [...flag.choices].sort().join() !== [...h.choices].sort().join()) {
      drift.mismatches.push(`${flag.name} choices: catalog ${flag.choices.join('|')}, binary ${h.choices.join('|')}`);
    }
  }
  for (const h of help) if (!known.has(h.name) && !BUILTIN.has(h.name)) drift.missing_in_catalog.push(h.name);
  return drift;
}

function sameValue(catalog: string | number | boolean, binary: string): boolean {
  if (typeof catalog === 'number') return Number(binary) === catalog;
  return String(catalog) === binary.replace(/^"|"$/g, '');
}

export function hasDrift(d: FlagDrift): boolean {
  return d.missing_in_binary.length + d.missing_in_catalog.length + d.mismatches.length > 0;
}

const cache = new Map<string, { stamp: string; info: BinaryInfo }>();

/** `--version` and `--help` of a binary, cached until the file changes. */
export async function inspectBinary(path: string): Promise<BinaryInfo> {
  let stamp = '';
  try {
    const st = statSync(path);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    return { version: null, help_flags: null, help_error: `${path} is not readable` };
  }
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit.info;
  const [help, version] = await Promise.all([
    runCommand([path, '--help'], { timeoutMs: 10_000, maxOutputBytes: 256 * 1024 }),
    runCommand([path, '--version'], { timeoutMs: 10_000, maxOutputBytes: 16 * 1024 }),
  ]);
  const helpText = help.stdout || help.stderr;
  const info: BinaryInfo = {
    version: version.ok ? parseVersion(version.stdout || version.stderr) : null,
    help_flags: help.ok || /--[a-z]/.test(helpText) ? parseClapHelp(helpText) : null,
    help_error: help.ok ? null : help.timedOut ? '--help timed out' : `--help failed (exit ${help.exitCode}): ${outputTail(help)}`,
  };
  cache.set(path, { stamp, info });
  return info;
}

export function parseVersion(text: string): string | null {
  const first = text.trim().split('\n')[0] ?? '';
  return /\d+\.\d+(?:\.\d+)?[\w.+-]*/.exec(first)?.[0] ?? (first || null);
}
