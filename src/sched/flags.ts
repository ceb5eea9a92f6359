/**
 * Scheduler flags checked against the catalog before anything runs: known flag, right type, in
 * range, one of the choices, not twice, not two of a mutually exclusive group. Parsing follows
 * clap's rules (the scx binaries use clap): `--flag value`, `--flag=value`, `-s value`, `-vv`,
 * `--` ending the options.
 */
import { UserError } from '../core/errors.js';
import type { CatalogFlag, CatalogScheduler } from './catalog.js';

export interface FlagSpec {
  scheduler: string;
  flags: readonly CatalogFlag[];
  /** Common flags that make the binary not load a scheduler. */
  notRunnable: readonly string[];
  positional?: CatalogScheduler['positional'];
}

const VALUELESS = new Set(['bool', 'count']);

/** Validate `argv`; throws one UserError listing every problem. Returns argv unchanged when valid. */
export function validateFlags(spec: FlagSpec, argv: readonly string[], allowUnlisted: boolean): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const groups = new Map<string, string>();
  const byLong = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  let positionals = 0;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals += argv.length - i - 1;
      break;
    }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      positionals++;
      continue;
    }
    if (token === '--help' || token === '-h') {
      problems.push(`${token} prints help and exits; list_schedulers shows the flags.`);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    const inline = eq > 0 ? token.slice(eq + 1) : undefined;
    const repeatedShort = /^-([A-Za-z])\1+$/.exec(name);
    const flag = byLong.get(name) ?? byShort.get(repeatedShort ? `-${repeatedShort[1]}` : name);

    if (!flag) {
      if (!allowUnlisted) problems.push(unknownFlag(spec, name));
      // An unlisted flag's arity is unknown: a following non-flag token is taken as its value.
      else if (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith('-')) i++;
      continue;
    }
    if (spec.notRunnable.includes(flag.name)) {
      problems.push(`${flag.name} does not load a scheduler (${flag.description}); run_scheduler refuses it.`);
      continue;
    }
    if (repeatedShort && flag.type !== 'count') {
      problems.push(`${name}: only counting flags such as -vv may be repeated like this.`);
      continue;
    }
    const count = (seen.get(flag.name) ?? 0) + 1;
    seen.set(flag.name, count);
    if (count > 1 && flag.type !== 'count') problems.push(`${flag.name} is given ${count} times; give it once.`);
    if (flag.group) {
      const other = groups.get(flag.group);
      if (other && other !== flag.name) problems.push(`${flag.name} and ${other} are mutually exclusive (${flag.group}); choose one.`);
      groups.set(flag.group, flag.name);
    }
    if (VALUELESS.has(flag.type)) {
      if (inline !== undefined) problems.push(`${flag.name} takes no value (it is a switch); got "${inline}".`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && !/^-\d/.test(next))) {
        problems.push(`${flag.name} needs a value (${describeType(flag)}).`);
        continue;
      }
      value = next;
      i++;
    }
    const error = checkValue(flag, value);
    if (error) problems.push(error);
  }

  if (positionals > 0 && !spec.positional) {
    problems.push(`${spec.scheduler} takes no positional arguments, got ${positionals}; every argument must be a flag.`);
  }
  if (spec.positional?.required && positionals === 0) {
    problems.push(`${spec.scheduler} needs its ${spec.positional.name} argument: ${spec.positional.description}`);
  }
  if (problems.length) {
    throw new UserError(
      `Invalid flags for ${spec.scheduler}:\n- ${problems.join('\n- ')}`,
      allowUnlisted
        ? 'Fix the values; list_schedulers {"name": "' + spec.scheduler + '"} shows each flag with its type and range.'
        : `Fix the flags (list_schedulers {"name": "${spec.scheduler}"} shows them with types and ranges), or pass allow_unlisted_flags: true to pass flags the catalog does not know through unchecked.`,
    );
  }
  return [...argv];
}

function checkValue(flag: CatalogFlag, value: string): string | null {
  const expected = `${flag.name} expects ${describeType(flag)}, got "${value}"`;
  switch (flag.type) {
    case 'int': {
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) return `${expected}.`;
      return checkRange(flag, Number(value));
    }
    case 'float': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) return `${expected}.`;
      return checkRange(flag, n);
    }
    case 'enum':
      return flag.choices!.includes(value) ? null : `${expected}.`;
    case 'int_list':
      return /^\d+(,\d+)*$/.test(value) ? null : `${expected}.`;
    case 'string':
      return value.length > 0 ? null : `${expected}.`;
    default:
      return null;
  }
}

function checkRange(flag: CatalogFlag, n: number): string | null {
  if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max)) {
    return `${flag.name}=${n} is out of range: ${rangeText(flag)}.`;
  }
  return null;
}

function rangeText(flag: CatalogFlag): string {
  const unit = flag.unit ? ` ${flag.unit}` : '';
  if (flag.min !== undefined && flag.max !== undefined) return `${flag.min} to ${flag.max}${unit}`;
  if (flag.min !== undefined) return `at least ${flag.min}${unit}`;
  return `at most ${flag.max}${unit}`;
}

export function describeType(flag: CatalogFlag): string {
  switch (flag.type) {
    case 'int':
      return `an integer${flag.min !== undefined || flag.max !== undefined ? ` (${rangeText(flag)})` : ''}`;
    case 'float':
      return `a number${flag.min !== undefined || flag.max !== undefined ? ` (${rangeText(flag)})` : ''}`;
    case 'enum':
      return `one of ${flag.choices!.join(', ')}`;
    case 'int_list':
      return 'comma-separated integers, e.g. 500,2500,5000';
    case 'string':
      return 'a non-empty string';
    default:
      return 'no value';
  }
}

function unknownFlag(spec: FlagSpec, name: string): string {
  const names = spec.flags.map((f) => f.name);
  const near = names.map((n) => ({ n, d: editDistance(n, name) })).sort((a, b) => a.d - b.d)[0];
  const hint = near && near.d <= 3 ? ` Did you mean ${near.n}?` : '';
  return `${name} is not a flag of ${spec.scheduler} in the catalog.${hint}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length];
}
