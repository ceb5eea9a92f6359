/**
 * Integers and booleans the way NCCL reads them. NCCL_PARAM() calls strtoll(value, NULL, 0)
 * (src/misc/param.cc): leading blanks are skipped, 0x means hex and a leading 0 octal, and the
 * conversion stops at the first character that does not fit, with no check of what is left. So
 * "banana" and "true" read as 0, "4M" as 4 and "08" as 0, all without a word from NCCL; only an
 * overflow makes it keep its default (logged at INFO). Such values are errors here: NCCL would not
 * do what the text says.
 */
import { atLeast } from './versions.js';
import { maxFor, type OutOfRange, type ParamSpec } from './table.js';
import type { ProblemList } from './problem.js';

export interface StrtollResult {
  /** The value strtoll returns (0 when no digit was read). */
  value: number;
  /** At least one digit was converted. */
  digits: boolean;
  /** What follows the number (strtoll's endptr), blanks trimmed. */
  rest: string;
  /** Out of the int64 range: NCCL keeps its default. */
  overflow: boolean;
  /** The digits were read as octal (leading 0). */
  octal: boolean;
}

const INT64_MAX = 2n ** 63n - 1n;

/** strtoll(text, &end, 0), as glibc does it. */
export function strtoll(text: string): StrtollResult {
  let i = 0;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i])) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') negative = text[i++] === '-';
  let base = 10;
  if (text[i] === '0' && /[xX]/.test(text[i + 1] ?? '') && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (text[i] === '0') base = 8;
  const start = i;
  let value = 0n;
  for (; i < text.length; i++) {
    const d = Number.parseInt(text[i], base);
    if (Number.isNaN(d)) break;
    value = value * BigInt(base) + BigInt(d);
  }
  const digits = i > start;
  const overflow = value > INT64_MAX + (negative ? 1n : 0n);
  return { value: digits && !overflow ? Number(negative ? -value : value) : 0, digits, rest: text.slice(digits ? i : 0).trim(), overflow, octal: base === 8 && i - start > 1 };
}

/** An integer NCCL reads exactly as written (nothing left over, no overflow), or null. */
export function parseNcclInt(text: string): number | null {
  const r = strtoll(text);
  return r.digits && r.rest === '' && !r.overflow ? r.value : null;
}

const SIZE_SUFFIX = /^(\d+(?:\.\d+)?)\s*([KMGT])(i?B)?$/i;

/** The integer NCCL reads, or undefined (with an error) when it is not what the text says. */
function readInt(p: ParamSpec, value: string, problems: ProblemList, suggestion?: string): number | undefined {
  const r = strtoll(value);
  if (r.overflow) {
    problems.error(p.name, `${p.name}="${value}" overflows a 64-bit integer: NCCL ignores it and keeps its default.`, { token: value });
    return undefined;
  }
  if (!r.digits || r.rest !== '') {
    const size = SIZE_SUFFIX.exec(value.trim());
    const fix = suggestion ?? (size ? String(Math.round(Number(size[1]) * 1024 ** ' KMGT'.indexOf(size[2].toUpperCase()))) : undefined);
    problems.error(
      p.name,
      `${p.name}="${value}" is not an integer: NCCL reads it with strtoll, which stops at the first character that is not a digit, so it silently gets ${r.value}${r.octal || /^\s*0\d/.test(value) ? ' (a leading 0 means octal)' : ''}.`,
      { token: value, ...(fix !== undefined ? { suggestion: fix } : {}) },
    );
    return undefined;
  }
  if (r.octal) problems.warn(p.name, `${p.name}="${value}" has a leading 0: NCCL reads it as octal (${r.value}).`, { token: value, suggestion: String(r.value) });
  return r.value;
}

export function checkInt(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  if (value.trim() === '') {
    problems.warn(p.name, `${p.name} is empty: NCCL ignores an empty value and uses its default.`, { token: value });
    return value;
  }
  const n = readInt(p, value, problems);
  if (n === undefined) return undefined;
  if (p.nthreads) return checkThreads(p, n, value, problems);
  const max = maxFor(p, version);
  if (p.min !== undefined && n < p.min && !outOfRange(p, p.below_min ?? p.on_out_of_range, n, p.min, `below the minimum ${p.min}`, value, problems)) return undefined;
  if (max !== undefined && n > max) {
    const why = max !== p.max ? ` for NCCL ${version} (${p.max} since ${p.max_before!.version})` : '';
    if (!outOfRange(p, p.on_out_of_range, n, max, `above the maximum ${max}${why}`, value, problems)) return undefined;
    if (p.on_out_of_range === 'clamp') return String(max);
  }
  if (p.min !== undefined && n < p.min && (p.below_min ?? p.on_out_of_range) === 'clamp') return String(p.min);
  if (p.allowed && !p.allowed.includes(n) && (p.min === undefined || n >= p.min) && (max === undefined || n <= max)) {
    problems.warn(p.name, `${p.name}=${n} is not one of the documented values ${p.allowed.join(', ')}.`, { token: value });
  }
  if (p.power_of_two && n > 0 && (n & (n - 1)) !== 0) {
    if (p.power_of_two === 'required') {
      problems.error(p.name, `${p.name}=${n} is not a power of two: NCCL ignores it and uses its default.`, { token: value, suggestion: String(2 ** Math.round(Math.log2(n))) });
      return undefined;
    }
    problems.warn(p.name, `${p.name}=${n} is not a power of two, which NCCL's documentation recommends.`, { token: value });
  }
  const note = p.warn_values?.[String(n)];
  if (note) problems.warn(p.name, `${p.name}=${n}: ${note}`, { token: value });
  return String(n);
}

/** false when the value is unusable (an error was recorded); true when it goes on (maybe with a warning). */
function outOfRange(p: ParamSpec, behaviour: OutOfRange | undefined, n: number, bound: number, what: string, token: string, problems: ProblemList): boolean {
  switch (behaviour) {
    case 'clamp':
      problems.warn(p.name, `${p.name}=${n} is ${what}: NCCL uses ${bound} instead.`, { token, suggestion: String(bound) });
      return true;
    case 'warn':
      problems.warn(p.name, `${p.name}=${n} is ${what} of the documented range.`, { token, suggestion: String(bound) });
      return true;
    case 'ignored':
      problems.error(p.name, `${p.name}=${n} is ${what}: NCCL ignores it and keeps its default.`, { token, suggestion: String(bound) });
      return false;
    default:
      problems.error(p.name, `${p.name}=${n} is ${what}: ${p.range_note ?? 'NCCL does not check it and the result is not what the value says'}.`, { token, suggestion: String(bound) });
      return false;
  }
}

/** NCCL's getNthreads(): not a multiple of 32 or above max -> max, below min -> min. */
function checkThreads(p: ParamSpec, n: number, token: string, problems: ProblemList): string {
  const { min, max } = p.nthreads!;
  if (n <= 0) {
    problems.warn(p.name, `${p.name}=${n}: NCCL treats values <= 0 as unset and uses its default.`, { token });
    return String(n);
  }
  const used = n % 32 !== 0 || n > max ? max : n < min ? min : n;
  if (used !== n) {
    problems.warn(p.name, `${p.name}=${n} is not a multiple of 32 within ${min}-${max}: NCCL silently uses ${used} instead.`, { token, suggestion: String(used) });
  } else if (p.allowed && !p.allowed.includes(n)) {
    problems.warn(p.name, `${p.name}=${n} is a multiple of 32 NCCL accepts, but not one of the documented values ${p.allowed.join(', ')}.`, { token });
  }
  return String(used);
}

const TRUE_WORDS = /^(true|yes|on|t|y|enabled?)$/i;
const FALSE_WORDS = /^(false|no|off|f|n|disabled?)$/i;

export function checkBool(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  if (value.trim() === '') {
    problems.warn(p.name, `${p.name} is empty: NCCL ignores an empty value and uses its default.`, { token: value });
    return value;
  }
  const word = TRUE_WORDS.test(value.trim()) ? '1' : FALSE_WORDS.test(value.trim()) ? '0' : undefined;
  if (p.words_since && atLeast(version ?? '99', p.words_since)) {
    if (/^(1|t|true)$/i.test(value)) return '1';
    if (/^(0|f|false)$/i.test(value)) return '0';
    problems.error(p.name, `${p.name}="${value}" is not a boolean NCCL ${version ?? ''} accepts (1/T/TRUE or 0/F/FALSE): it ignores the value and keeps its default.`.replace('  ', ' '), {
      token: value,
      ...(word ? { suggestion: word } : {}),
    });
    return undefined;
  }
  const n = readInt(p, value, problems, word);
  if (n === undefined) return undefined;
  if (n === 0 || n === 1) return String(n);
  if (p.only_one) {
    problems.error(p.name, `${p.name}=${n}: NCCL acts only on the value 1, so this has no effect.`, { token: value, suggestion: '1' });
    return undefined;
  }
  if (p.strict_bool) {
    problems.error(p.name, `${p.name}=${n} is not 0 or 1: NCCL ignores it ("not valid, leaving it set").`, { token: value, suggestion: '1' });
    return undefined;
  }
  problems.warn(p.name, `${p.name}=${n}: the documented values are 0 and 1; NCCL reads any other non-zero value as enabled.`, { token: value, suggestion: '1' });
  return String(n);
}
