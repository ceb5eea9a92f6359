/**
 * How NCCL reads NCCL_ALGO and NCCL_PROTO (parseList() in src/graph/tuning.cc).
 *
 * Since 2.24:
 *   value   := entry (';' entry)*          (strtok: empty entries are skipped)
 *   entry   := [collective ':'] ['^'] element (',' element)*
 * Matching is case-insensitive (strcasecmp). Only the first entry may omit the collective; later
 * entries replace the set for their collective. A leading '^' enables everything but the listed
 * elements. An unknown element or collective fails communicator init (ncclInvalidUsage), and no
 * algorithm falls back to Ring implicitly.
 *
 * Before 2.24: one comma list with an optional leading '^'; tokens NCCL does not know (typos,
 * algorithms of later releases, "allreduce:tree") are skipped without a word.
 */
import { atLeast, compareVersions } from './versions.js';
import { ProblemList, canonicalToken, closestMatch } from './problem.js';

export interface ListRule {
  /** Canonical collective name, or null for the entry that applies to all. */
  collective: string | null;
  negate: boolean;
  /** Canonical element names in the order given. */
  elements: string[];
}

export interface ParsedList {
  rules: ListRule[];
  /** The value with canonical spelling, '' when nothing valid was found. */
  normalized: string;
  /** Elements each collective may use once all rules are applied. */
  enabled: Record<string, string[]>;
}

export interface ListGrammar {
  variable: string;
  /** Canonical element spellings of every release (e.g. Tree, Ring ... or LL, LL128, Simple). */
  elements: string[];
  collectives: string[];
  /** Old or mistaken spellings NCCL does not accept, mapped to the current element. */
  legacy?: Record<string, string>;
  /** [first release, first release without it] of each element, when not every release has it. */
  elementWindow?: Record<string, [string | null, string | null]>;
  /** Release from which per-collective rules are read and unknown tokens fail init. */
  strictSince?: string;
  ncclVersion?: string;
}

/** The elements release `version` knows (all of them when no version is given). */
function elementsIn(g: ListGrammar): string[] {
  if (!g.ncclVersion) return g.elements.filter((e) => !g.elementWindow?.[e]?.[1]);
  return g.elements.filter((e) => {
    const [since, removed] = g.elementWindow?.[e] ?? [null, null];
    return atLeast(g.ncclVersion!, since) && !(removed && compareVersions(g.ncclVersion!, removed) >= 0);
  });
}

export function parseNcclList(value: string, g: ListGrammar, problems: ProblemList): ParsedList {
  if (value.trim() === '') problems.warn(g.variable, `${g.variable} is empty: NCCL ignores an empty list and keeps its defaults.`, { token: value });
  const strict = !g.ncclVersion || !g.strictSince || atLeast(g.ncclVersion, g.strictSince);
  const known = elementsIn(g);
  const rules = strict ? parseRules(value, g, known, problems) : parseLegacy(value, g, known, problems);
  return { rules, normalized: formatRules(rules), enabled: applyRules(rules, known, g.collectives) };
}

function parseRules(value: string, g: ListGrammar, known: string[], problems: ProblemList): ListRule[] {
  const v = g.variable;
  const rules: ListRule[] = [];
  const entries = value.split(';');
  if (value !== '' && entries.some((e) => e === '')) problems.warn(v, `Empty entry in ${v} (a stray ';'); NCCL skips it.`, { token: ';' });
  entries.forEach((raw, index) => {
    if (raw === '') return;
    const parts = raw.split(':').filter((part, i) => i === 0 || part !== '');
    let collective: string | null = null;
    let list = raw;
    if (parts.length > 2) {
      problems.error(v, `Entry "${raw}" has more than one ':': NCCL reads only "${parts[0]}:${parts[1]}" and drops the rest.`, { token: raw, suggestion: `${parts[0]}:${parts.slice(1).join(',')}` });
      return;
    }
    if (parts.length === 2) {
      const [prefix, rest] = parts;
      list = rest;
      const canonical = canonicalToken(prefix, g.collectives);
      if (!canonical) {
        const near = closestMatch(prefix, g.collectives);
        problems.error(v, `Unrecognized collective "${prefix}" in ${v}: NCCL fails at init (ncclInvalidUsage). Collectives: ${g.collectives.join(', ')}.`, {
          token: prefix,
          ...(near ? { suggestion: near } : {}),
        });
        return;
      }
      collective = canonical;
    } else if (index > 0 && entries.slice(0, index).some((e) => e !== '')) {
      problems.error(v, `Entry "${raw}" has no collective: in ${v} only the first entry may omit it ("All entries except the first must have a prefix"); NCCL fails at init.`, { token: raw });
      return;
    }
    const negate = list.startsWith('^');
    if (negate) list = list.slice(1);
    const elements: string[] = [];
    const raws = list.split(',');
    if (raws.some((t) => t === '') && list !== '') problems.warn(v, `Empty element in "${raw}" (a stray ','); NCCL skips it.`, { token: ',' });
    for (const token of raws.filter((t) => t !== '')) {
      const element = canonicalToken(token, known);
      if (element) {
        if (!elements.includes(element)) elements.push(element);
        continue;
      }
      problems.error(v, `${unknownElement(token, g, known)} NCCL${g.ncclVersion ? ` ${g.ncclVersion}` : ''} fails at init (ncclInvalidUsage).`, { token, ...suggest(token, g, known) });
    }
    rules.push({ collective, negate, elements });
  });
  return rules;
}

function parseLegacy(value: string, g: ListGrammar, known: string[], problems: ProblemList): ListRule[] {
  const v = g.variable;
  const negate = value.startsWith('^');
  const elements: string[] = [];
  for (const token of (negate ? value.slice(1) : value).split(',').filter((t) => t !== '')) {
    const element = canonicalToken(token, known);
    if (element) {
      if (!elements.includes(element)) elements.push(element);
      continue;
    }
    const perCollective = /[:;]/.test(token);
    const what = perCollective
      ? `"${token}" is a per-collective rule, which NCCL reads only from ${g.strictSince}.`
      : unknownElement(token, g, known);
    problems.error(v, `${what} NCCL ${g.ncclVersion} skips it without a word, so ${v} does not do what it says.`, { token, ...(perCollective ? {} : suggest(token, g, known)) });
  }
  return [{ collective: null, negate, elements }];
}

function unknownElement(token: string, g: ListGrammar, known: string[]): string {
  const trimmed = token.trim();
  if (trimmed !== token && canonicalToken(trimmed, known)) return `Element "${token}" in ${g.variable} contains whitespace; NCCL compares the token as written.`;
  const other = canonicalToken(trimmed, g.elements);
  if (other && g.ncclVersion) {
    const [since, removed] = g.elementWindow?.[other] ?? [null, null];
    return removed && compareVersions(g.ncclVersion, removed) >= 0
      ? `${other} is no longer an element of ${g.variable} in NCCL ${g.ncclVersion} (removed in ${removed}).`
      : `${other} needs NCCL >= ${since}; NCCL ${g.ncclVersion} does not know it.`;
  }
  if (other) return `${other} is not an element of ${g.variable} in current NCCL (it was until ${g.elementWindow?.[other]?.[1]}).`;
  return `Unrecognized element "${token}" in ${g.variable}. Valid${g.ncclVersion ? ` in ${g.ncclVersion}` : ''}: ${known.join(', ')}.`;
}

function suggest(token: string, g: ListGrammar, known: string[]): { suggestion?: string } {
  const trimmed = canonicalToken(token.trim(), known);
  const legacy = Object.entries(g.legacy ?? {}).find(([old]) => old.toLowerCase() === token.toLowerCase())?.[1];
  const near = trimmed ?? (legacy && known.includes(legacy) ? legacy : undefined) ?? closestMatch(token, known);
  return near ? { suggestion: near } : {};
}

/** Which elements each collective may use after the rules, starting from "all enabled". */
function applyRules(rules: ListRule[], elements: string[], collectives: string[]): Record<string, string[]> {
  const enabled: Record<string, string[]> = Object.fromEntries(collectives.map((c) => [c, [...elements]]));
  for (const rule of rules) {
    const set = rule.negate ? elements.filter((e) => !rule.elements.includes(e)) : [...rule.elements];
    for (const c of rule.collective ? [rule.collective] : collectives) enabled[c] = set;
  }
  return enabled;
}

function formatRules(rules: ListRule[]): string {
  return rules
    .filter((r) => r.elements.length > 0 || r.negate)
    .map((r) => `${r.collective ? `${r.collective}:` : ''}${r.negate ? '^' : ''}${r.elements.join(',')}`)
    .join(';');
}

/**
 * A value that pins exactly one element for every collective (e.g. "Ring" or "allreduce:ring" when
 * only all-reduce matters): the single element, else null. Used to express a config in NCCL's
 * tuner CSV, which needs one algorithm and one protocol.
 */
export function singleElementFor(parsed: ParsedList, collective: string): string | null {
  const set = parsed.enabled[collective];
  return set && set.length === 1 ? set[0] : null;
}
