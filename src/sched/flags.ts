/**
 * Scheduler flags checked before anything runs, the way clap (the scx binaries' parser) will read
 * them: `--flag value`, `--flag=value`, `-s value`, `-s5000`, clusters of short switches (`-pk`),
 * counted switches (`-vv`), several values after one flag where it takes them, `--` ending the
 * options, a trailing command (scx_chaos). Checks: known flag, value present or absent, type
 * and range, choices, repeats, flags required together or refused together, and flags that
 * would not load a scheduler at all.
 */
import { distance } from 'fastest-levenshtein';
import { UserError } from '../core/errors.js';
import type { FlagSpec, SpecFlag } from './flag-spec.js';

/** Exact integer bounds of Rust's integer types (u64 and i64 exceed JavaScript's safe integers). */
export const INT_BOUNDS: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n], u16: [0n, 65535n], u32: [0n, 4294967295n], u64: [0n, 18446744073709551615n], usize: [0n, 18446744073709551615n],
  i8: [-128n, 127n], i16: [-32768n, 32767n], i32: [-2147483648n, 2147483647n], i64: [-9223372036854775808n, 9223372036854775807n],
};

/** Validate `argv`; throws one UserError listing every problem. Returns argv unchanged when valid. */
export function validateFlags(spec: FlagSpec, argv: readonly string[], allowUnlisted: boolean): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const byLong = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  let positionals = 0;

  const use = (flag: SpecFlag, value: string | undefined, shown: string) => {
    if (flag.exits_without_loading) {
      problems.push(`${shown} does not load a scheduler (${flag.description || 'it prints or monitors and exits'}); run_scheduler refuses it.`);
      return;
    }
    counts.set(flag.name, (counts.get(flag.name) ?? 0) + 1);
    if (value !== undefined) {
      const error = checkValue(flag, value);
      if (error) problems.push(error);
    }
  };
  /** Values for a flag that takes them, starting at argv[next]; returns how many tokens it used. */
  const takeValues = (flag: SpecFlag, next: number, shown: string): number => {
    if (flag.require_equals) {
      if (!flag.optional_value) problems.push(`${shown} needs its value attached: ${flag.name}=<value>.`);
      else use(flag, undefined, shown);
      return 0;
    }
    const looksLikeValue = (t: string | undefined) => t !== undefined && (!t.startsWith('-') || t === '-' || (flag.allow_negative && /^-\d/.test(t)));
    if (!looksLikeValue(argv[next])) {
      if (flag.optional_value) use(flag, undefined, shown);
      else problems.push(`${shown} needs a value (${describeType(flag)}).`);
      return 0;
    }
    let used = 0;
    do {
      use(flag, argv[next + used], shown);
      used++;
    } while (flag.multiple_values && looksLikeValue(argv[next + used]));
    return used;
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals += argv.length - i - 1;
      break;
    }
    if (token === '--help' || token === '-h') {
      problems.push(`${token} prints help and exits; list_schedulers shows the flags.`);
      continue;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals++;
      if (spec.positional?.trailing) {
        positionals += argv.length - i - 1; // the command to run and its own arguments
        break;
      }
      continue;
    }
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq > 0 ? token.slice(0, eq) : token;
      const flag = byLong.get(name);
      if (!flag) {
        if (!allowUnlisted) problems.push(unknownFlag(spec, name));
        // Its arity is unknown: a following non-flag token is taken as its value, not a positional.
        if (eq < 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) i++;
        continue;
      }
      if (eq > 0) {
        if (!flag.takes_value) problems.push(`${name} takes no value (it is a switch); got "${token.slice(eq + 1)}".`);
        else use(flag, token.slice(eq + 1), name);
      } else if (flag.takes_value) i += takeValues(flag, i + 1, name);
      else use(flag, undefined, name);
      continue;
    }
    // A cluster of short flags: -p, -vv, -pk, -s5000, -s=5000, -ps 5000.
    for (let j = 1; j < token.length; j++) {
      const short = `-${token[j]}`;
      const flag = byShort.get(short);
      if (!flag) {
        if (!allowUnlisted) problems.push(unknownFlag(spec, j === 1 ? token : short));
        break;
      }
      if (!flag.takes_value) {
        use(flag, undefined, short);
        continue;
      }
      const rest = token.slice(j + 1).replace(/^=/, '');
      if (rest) use(flag, rest, short);
      else i += takeValues(flag, i + 1, short);
      break;
    }
  }

  for (const [name, n] of counts) {
    const flag = byLong.get(name)!;
    if (n > 1 && !flag.repeatable) problems.push(`${name} is given ${n} times; ${spec.scheduler} accepts it once.`);
  }
  const given = new Set(counts.keys());
  const reported = new Set<string>();
  for (const name of given) {
    const flag = byLong.get(name)!;
    for (const other of flag.conflicts) {
      const key = [name, other].sort().join(' ');
      if ((given.has(other) || (other === spec.positional?.name && positionals > 0)) && !reported.has(key)) {
        reported.add(key);
        problems.push(`${name} and ${other} cannot be used together.`);
      }
    }
    for (const needed of flag.requires) {
      const present = needed === spec.positional?.name ? positionals > 0 : given.has(needed);
      if (!present) problems.push(`${name} requires ${needed === spec.positional?.name ? `the ${needed} argument` : needed}.`);
    }
  }
  for (const flag of spec.flags) {
    if (flag.required_unless && !given.has(flag.name) && !flag.required_unless.some((u) => given.has(u))) {
      problems.push(`${spec.scheduler} needs ${flag.name} (${flag.description}).`);
    }
  }
  if (positionals > 0 && !spec.positional) {
    problems.push(`${spec.scheduler} takes no positional arguments, got ${positionals}; every argument must be a flag.`);
  }
  if (spec.positional?.required && positionals === 0) problems.push(`${spec.scheduler} needs its ${spec.positional.name} argument.`);
  if (problems.length) {
    throw new UserError(
      `Invalid flags for ${spec.scheduler} (checked against ${spec.source}):\n- ${problems.join('\n- ')}`,
      allowUnlisted
        ? `Fix the values; list_schedulers {"name": "${spec.scheduler}"} shows each flag with its type and range.`
        : `Fix the flags (list_schedulers {"name": "${spec.scheduler}"} shows them with types and ranges), or pass allow_unlisted_flags: true to pass flags ${spec.fromBinary ? 'its --help does not list' : 'the catalog does not know'} through unchecked.`,
    );
  }
  return [...argv];
}

function checkValue(flag: SpecFlag, value: string): string | null {
  const expected = `${flag.name} expects ${describeType(flag)}, got "${value}"`;
  if (flag.choices) return flag.choices.includes(value) ? null : `${expected}.`;
  if (flag.value_delimiter) return null;
  switch (flag.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(value)) return `${expected}.`;
      const n = BigInt(value);
      const bounds = flag.rust_type ? INT_BOUNDS[flag.rust_type] : undefined;
      if (bounds && (n < bounds[0] || n > bounds[1])) return `${flag.name}=${value} is out of range: ${bounds[0]} to ${bounds[1]} (${flag.rust_type}).`;
      return checkRange(flag, Number(value));
    }
    case 'float': {
      const n = Number(value);
      // Rust also parses "inf" and "NaN"; neither is a meaningful setting, so they are refused here.
      if (value.trim() === '' || !Number.isFinite(n)) return `${expected}.`;
      return checkRange(flag, n);
    }
    default:
      return null;
  }
}

function checkRange(flag: SpecFlag, n: number): string | null {
  if ((flag.min !== null && n < flag.min) || (flag.max !== null && n > flag.max)) return `${flag.name}=${n} is out of range: ${rangeText(flag)}.`;
  return null;
}

function rangeText(flag: SpecFlag): string {
  if (flag.min !== null && flag.max !== null) return `${flag.min} to ${flag.max}`;
  if (flag.min !== null) return `at least ${flag.min}`;
  return `at most ${flag.max}`;
}

export function describeType(flag: SpecFlag): string {
  const range = flag.min !== null || flag.max !== null ? ` (${rangeText(flag)})` : '';
  const several = flag.repeatable ? '; repeat the flag for several values' : '';
  if (flag.choices) return `one of ${flag.choices.join(', ')}${several}`;
  switch (flag.type) {
    case 'int':
      return `an integer${range}${several}`;
    case 'float':
      return `a number${range}${several}`;
    case 'string':
      return `a value${several}`;
    case null:
      return 'a value';
    default:
      return 'no value';
  }
}

function unknownFlag(spec: FlagSpec, name: string): string {
  const names = spec.flags.map((f) => f.name).filter((n) => n.startsWith('--'));
  const near = names.map((n) => ({ n, d: distance(n, name) })).sort((a, b) => a.d - b.d)[0];
  const hint = near && near.d <= 3 ? ` Did you mean ${near.n}?` : '';
  return `${name} is not a flag of ${spec.scheduler} according to ${spec.source}.${hint}`;
}
