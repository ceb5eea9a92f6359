/**
 * Required literals of a regular expression: strings of which at least one occurs in every line the
 * regex can match. They let the analyzer skip the regex engine for most lines (one literal scan per
 * byte, see scanner.ts) without changing what matches: a line none of whose literals occur cannot
 * match. Works on the JavaScript syntax the catalog uses (groups, classes, escapes, quantifiers,
 * alternation); anything it does not understand ends a literal run, which is always safe.
 */

interface Atom {
  /** A literal character, or null for anything else (class, dot, escape class, assertion). */
  char: string | null;
  /** Alternatives of a group, each a sequence. */
  group?: Atom[][];
  min: number;
  max: number;
  /** Zero-width (\b, ^, $, lookarounds): consumes nothing, so it ends a run but requires nothing. */
  zeroWidth?: boolean;
}

/** At least one of the returned strings occurs in any match; null when no literal is required. */
export function requiredLiterals(source: string): string[] | null {
  const { alts } = parseAlternatives(source, 0, false);
  return bestOfAlternatives(alts);
}

/** The shortest string in a requirement: how selective it is. */
export function selectivity(literals: string[] | null): number {
  return literals ? Math.min(...literals.map((l) => l.length)) : 0;
}

function parseAlternatives(src: string, pos: number, inGroup: boolean): { alts: Atom[][]; end: number } {
  const alts: Atom[][] = [[]];
  let i = pos;
  while (i < src.length) {
    const c = src[i];
    if (c === ')' && inGroup) return { alts, end: i + 1 };
    if (c === '|') {
      alts.push([]);
      i++;
      continue;
    }
    let atom: Atom;
    if (c === '(') {
      let body = i + 1;
      let zeroWidth = false;
      if (src.startsWith('?:', body)) body += 2;
      else if (src.startsWith('?<', body) && src[body + 2] !== '=' && src[body + 2] !== '!') body = src.indexOf('>', body) + 1;
      else if (src[body] === '?') {
        zeroWidth = true; // lookahead/lookbehind: requires nothing we can use
        body += src[body + 1] === '<' ? 3 : 2;
      }
      const inner = parseAlternatives(src, body, true);
      atom = zeroWidth ? { char: null, min: 1, max: 1, zeroWidth: true } : { char: null, group: inner.alts, min: 1, max: 1 };
      i = inner.end;
    } else if (c === '[') {
      i = classEnd(src, i);
      atom = { char: null, min: 1, max: 1 };
    } else if (c === '\\') {
      const e = src[i + 1];
      i += 2;
      if ('bB'.includes(e)) atom = { char: null, min: 1, max: 1, zeroWidth: true };
      else if ('dDwWsSpPuxck0123456789'.includes(e)) {
        if (e === 'x') i += 2;
        else if (e === 'u') i += src[i] === '{' ? src.indexOf('}', i) + 1 - i : 4;
        else if ((e === 'p' || e === 'P') && src[i] === '{') i = src.indexOf('}', i) + 1;
        else if (e === 'c') i += 1;
        atom = { char: null, min: 1, max: 1 };
      } else atom = { char: e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' || e === 'v' ? null : e, min: 1, max: 1 };
    } else if (c === '^' || c === '$') {
      i++;
      atom = { char: null, min: 1, max: 1, zeroWidth: true };
    } else {
      i++;
      atom = { char: c === '.' ? null : c, min: 1, max: 1 };
    }
    i = quantifier(src, i, atom);
    alts[alts.length - 1].push(atom);
  }
  return { alts, end: i };
}

function classEnd(src: string, start: number): number {
  let i = start + 1;
  if (src[i] === '^') i++;
  if (src[i] === ']') i++;
  while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
  return i + 1;
}

function quantifier(src: string, i: number, atom: Atom): number {
  const q = src[i];
  if (q === '*' || q === '+' || q === '?') {
    atom.min = q === '+' ? 1 : 0;
    atom.max = q === '?' ? 1 : Infinity;
    i++;
  } else if (q === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 24));
    if (!m) return i;
    atom.min = Number(m[1]);
    atom.max = m[2] === undefined ? atom.min : m[3] === '' ? Infinity : Number(m[3]);
    i += m[0].length;
  } else return i;
  if (src[i] === '?') i++; // lazy
  return i;
}

function bestOfAlternatives(alts: Atom[][]): string[] | null {
  const each = alts.map(bestOfSequence);
  if (each.some((r) => r === null)) return null;
  return [...new Set(each.flat() as string[])];
}

/** The most selective requirement of a sequence: a literal run, or a required group's alternatives. */
function bestOfSequence(atoms: Atom[]): string[] | null {
  const candidates: string[][] = [];
  let run = '';
  const endRun = () => {
    if (run) candidates.push([run]);
    run = '';
  };
  const walk = (seq: Atom[]) => {
    for (const atom of seq) {
      if (atom.zeroWidth) endRun();
      else if (atom.group) {
        if (atom.min >= 1 && atom.max === 1 && atom.group.length === 1) walk(atom.group[0]);
        else {
          endRun();
          if (atom.min >= 1) {
            const inner = bestOfAlternatives(atom.group);
            if (inner) candidates.push(inner);
          }
        }
      } else if (atom.char !== null && atom.min >= 1) {
        run += atom.char.repeat(Math.min(atom.min, 1));
        if (atom.max !== 1) endRun();
      } else endRun();
    }
  };
  walk(atoms);
  endRun();
  if (candidates.length === 0) return null;
  return candidates.sort((a, b) => selectivity(b) - selectivity(a) || a.length - b.length)[0];
}
