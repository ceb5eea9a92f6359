/**
 * The grammar NCCL's parseList() reads NCCL_ALGO and NCCL_PROTO with (src/graph/tuning.cc):
 *
 *   value   := entry (';' entry)*
 *   entry   := [collective ':'] ['^'] element (',' element)*
 *
 * Matching is case-insensitive (strcasecmp). Only the first entry may omit the collective; an
 * entry without one applies to every collective, later entries replace the set for theirs. A
 * leading '^' enables everything except the listed elements. An unknown element or collective is
 * ncclInvalidUsage at init. Per-collective entries exist since NCCL 2.24; before, the value was a
 * single comma list.
 */
import { compareVersions } from './table.js';
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
  /** Canonical element spellings (e.g. Tree, Ring ... or LL, LL128, Simple). */
  elements: string[];
  collectives: string[];
  /** Old or mistaken spellings NCCL does not accept, mapped to the current element. */
  legacy?: Record<string, string>;
  /** Release that introduced each element, when later than the variable itself. */
  elementSince?: Record<string, string | null>;
  perCollectiveSince?: string;
  ncclVersion?: string;
}

export function parseNcclList(value: string, g: ListGrammar, problems: ProblemList): ParsedList {
  const v = g.variable;
  const rules: ListRule[] = [];
  if (value.trim() === '') {
    problems.warn(v, `${v} is empty: NCCL ignores an empty list and keeps its defaults.`, { token: value });
  }
  const entries = value.split(';');
  entries.forEach((raw, index) => {
    if (raw === '') {
      if (value !== '') problems.warn(v, `Empty entry in ${v} (a stray ';'); NCCL skips it.`, { token: ';' });
      return;
    }
    const parts = raw.split(':');
    if (parts.length > 2) {
      problems.error(v, `Entry "${raw}" has more than one ':'; NCCL reads only "collective:elements".`, { token: raw });
      return;
    }
    let collective: string | null = null;
    let list = raw;
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
      if (g.perCollectiveSince && g.ncclVersion && compareVersions(g.ncclVersion, g.perCollectiveSince) < 0) {
        problems.error(v, `Per-collective rules ("${raw}") need NCCL >= ${g.perCollectiveSince}; NCCL ${g.ncclVersion} reads the whole value as one list and rejects "${prefix}:".`, {
          token: raw,
        });
      }
    } else if (index > 0 && entries.slice(0, index).some((e) => e !== '')) {
      problems.error(v, `Entry "${raw}" has no collective: in ${v} only the first entry may omit it ("All entries except the first must have a prefix").`, {
        token: raw,
      });
      return;
    }
    const negate = list.startsWith('^');
    if (negate) list = list.slice(1);
    const elements: string[] = [];
    for (const token of list.split(',')) {
      if (token === '') {
        problems.warn(v, `Empty element in "${raw}" (a stray ','); NCCL skips it.`, { token: ',' });
        continue;
      }
      const element = checkElement(token, g, problems);
      if (element && !elements.includes(element)) elements.push(element);
    }
    rules.push({ collective, negate, elements });
  });
  return { rules, normalized: formatRules(rules), enabled: applyRules(rules, g) };
}

function checkElement(token: string, g: ListGrammar, problems: ProblemList): string | undefined {
  const v = g.variable;
  if (/\s/.test(token)) {
    const trimmed = token.trim();
    problems.error(v, `Element "${token}" contains whitespace; NCCL compares the token as written and rejects it.`, {
      token,
      ...(canonicalToken(trimmed, g.elements) ? { suggestion: canonicalToken(trimmed, g.elements) } : {}),
    });
    return canonicalToken(trimmed, g.elements);
  }
  const canonical = canonicalToken(token, g.elements);
  if (!canonical) {
    const legacy = Object.entries(g.legacy ?? {}).find(([old]) => old.toLowerCase() === token.toLowerCase())?.[1];
    const near = legacy ?? closestMatch(token, g.elements);
    problems.error(v, `Unrecognized element "${token}" in ${v}: NCCL fails at init (ncclInvalidUsage). Valid: ${g.elements.join(', ')}.`, {
      token,
      ...(near ? { suggestion: near } : {}),
    });
    return undefined;
  }
  const since = g.elementSince?.[canonical];
  if (since && g.ncclVersion && compareVersions(g.ncclVersion, since) < 0) {
    problems.error(v, `${canonical} needs NCCL >= ${since}; NCCL ${g.ncclVersion} does not know it.`, { token });
  }
  return canonical;
}

/** Which elements each collective may use after the rules, starting from "all enabled". */
function applyRules(rules: ListRule[], g: ListGrammar): Record<string, string[]> {
  const enabled: Record<string, string[]> = Object.fromEntries(g.collectives.map((c) => [c, [...g.elements]]));
  for (const rule of rules) {
    const set = rule.negate ? g.elements.filter((e) => !rule.elements.includes(e)) : [...rule.elements];
    for (const c of rule.collective ? [rule.collective] : g.collectives) enabled[c] = set;
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
