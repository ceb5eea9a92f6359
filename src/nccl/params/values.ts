/**
 * Checks of single values that are words: enumerations (strcmp or strcasecmp), the path levels of
 * NCCL_P2P_LEVEL / NCCL_NET_GDR_LEVEL (ncclGetLevel), bit sets (NCCL_DEBUG_SUBSYS), the CTA and
 * net-device policies, and free text (paths, plugins, addresses). Each returns the normalized
 * value, or undefined when NCCL would not apply the value as written (an error is recorded).
 */
import { atLeast } from './versions.js';
import type { ParamSpec } from './table.js';
import { ProblemList, canonicalToken, closestMatch } from './problem.js';

/** What NCCL does with a word it does not know, for the message. */
function ignoredBy(p: ParamSpec): string {
  return p.on_unknown === 'ignored' ? 'NCCL ignores it and keeps its default' : 'NCCL does not accept it';
}

export function checkEnum(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const values = p.values ?? [];
  const exact = values.find((v) => v === value);
  const canonical = exact ?? (p.case_insensitive ? canonicalToken(value, values) : undefined);
  if (canonical) {
    const note = p.deprecated_values?.[canonical];
    if (note) problems.warn(p.name, `${p.name}=${value}: ${note}.`, { token: value });
    return canonical;
  }
  const other = canonicalToken(value.trim(), values);
  if (other) {
    const why = value.trim() !== value ? 'has blanks around it' : 'is compared case-sensitively (strcmp)';
    problems.error(p.name, `${p.name}="${value}" ${why}: ${ignoredBy(p)}.`, { token: value, suggestion: other });
    return undefined;
  }
  const near = closestMatch(value, values);
  problems.error(p.name, `${p.name}="${value}" is not one of ${values.join(', ')}: ${ignoredBy(p)}.`, { token: value, ...(near ? { suggestion: near } : {}) });
  return undefined;
}

/**
 * ncclGetLevel(): the path names compared with strcmp (so "sys" is ignored), else a value starting
 * with a digit is a legacy level read with strtol, anything above the last legacy level meaning SYS.
 */
export function checkLevel(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  const documented = p.values ?? [];
  if (!atLeast(version ?? '99', p.names_since)) {
    if (/^\s*[0-9]/.test(value)) return value.trim();
    problems.error(p.name, `${p.name}="${value}": NCCL ${version} reads the level as an integer (names need NCCL >= ${p.names_since}), so it gets 0 (LOC).`, { token: value });
    return undefined;
  }
  const extra = Object.entries(p.extra_values ?? {}).filter(([, since]) => atLeast(version ?? '99', since)).map(([v]) => v);
  if (documented.includes(value)) return value;
  if (extra.includes(value)) {
    problems.warn(p.name, `${p.name}=${value}: NCCL ${version ?? ''} accepts this path type, but its documentation does not list it for ${p.name} (${documented.join(', ')}).`.replace('  ', ' '), { token: value });
    return value;
  }
  if (/^[0-9]/.test(value)) {
    const level = Number.parseInt(value, 10);
    const keys = Object.keys(p.legacy_values ?? {}).map(Number);
    const mapped = p.legacy_values?.[String(Math.min(level, Math.max(...keys)))] ?? p.legacy_max;
    const above = level > Math.max(...keys);
    problems.warn(p.name, `${p.name}=${value} is a legacy integer level${above ? ` above ${Math.max(...keys)}, which NCCL reads as ${p.legacy_max}` : `: it means ${mapped}`}. Use the name; the numbers changed meaning over time.`, {
      token: value,
      suggestion: mapped,
    });
    return mapped;
  }
  const near = canonicalToken(value.trim(), [...documented, ...extra]) ?? closestMatch(value, documented);
  problems.error(p.name, `${p.name}="${value}" is not a path type NCCL knows (${documented.join(', ')}; compared case-sensitively): NCCL ignores it and decides the level itself.`, {
    token: value,
    ...(near ? { suggestion: near } : {}),
  });
  return undefined;
}

/**
 * A comma list of names, ^ negating the whole list (NCCL_DEBUG_SUBSYS, NCCL_DEBUG_TIMESTAMP_LEVELS).
 * Before `strict_since` NCCL skips names it does not know; from it (the 2.30 parser) one unknown
 * name voids the whole value. Unknown names are kept in the normalized value either way: the run
 * gets what the caller wrote, and the report says what NCCL will make of it.
 */
export function checkBitset(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  if (value === '' && p.allow_empty) return value;
  const v = version ?? '99';
  const known = (p.values ?? []).filter((name) => atLeast(v, p.value_since?.[name]));
  const strict = !!p.strict_since && atLeast(v, p.strict_since);
  const negate = value.startsWith('^');
  const out: string[] = [];
  const unknown: string[] = [];
  for (const raw of (negate ? value.slice(1) : value).split(',')) {
    const token = strict ? raw.trim() : raw;
    if (token === '') continue;
    const canonical = canonicalToken(token, known);
    out.push(canonical ?? token);
    if (!canonical) unknown.push(token);
  }
  for (const token of unknown) {
    const later = canonicalToken(token.trim(), p.values ?? []);
    const why = later && p.value_since?.[later] ? `${later} needs NCCL >= ${p.value_since[later]}` : `not a name NCCL ${version ?? ''} knows`.replace('  ', ' ');
    const near = later ?? closestMatch(token, known);
    const extra = { token, ...(near && near !== token ? { suggestion: near } : {}) };
    if (strict) {
      problems.error(p.name, `"${token}" in ${p.name} is ${why}: NCCL ${version ?? ''} then ignores the whole value and uses its default (${p.default ?? 'none'}).`.replace('  ', ' '), extra);
    } else {
      problems.warn(p.name, `"${token}" in ${p.name} is ${why}: NCCL skips it and applies the other names. Kept as given.`, extra);
    }
  }
  return strict && unknown.length ? undefined : `${negate ? '^' : ''}${out.join(',')}`;
}

/** NCCL_CTA_POLICY: a leading digit is the legacy form (0, 1, 2 by the first character); since 2.29 names joined by '|'. */
export function checkCtaPolicy(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  const v = version ?? '99';
  if (/^[0-9]/.test(value)) {
    const policy = p.legacy_values?.[value[0]];
    if (!policy) {
      problems.error(p.name, `${p.name}="${value}": the legacy form only knows 0 (DEFAULT), 1 (EFFICIENCY) and 2 (ZERO); NCCL uses DEFAULT.`, { token: value, suggestion: '0' });
      return undefined;
    }
    if (value.length > 1) problems.warn(p.name, `${p.name}="${value}": NCCL reads only the first digit (${value[0]} = ${policy}).`, { token: value, suggestion: value[0] });
    return value[0];
  }
  if (!atLeast(v, p.names_since)) {
    problems.error(p.name, `${p.name}="${value}": policy names need NCCL >= ${p.names_since}; NCCL ${version} reads the value as a number (0, DEFAULT).`, { token: value, suggestion: '0, 1 or 2' });
    return undefined;
  }
  const names: string[] = [];
  for (const token of value.split('|').filter(Boolean)) {
    const canonical = canonicalToken(token, p.values ?? []);
    if (canonical) names.push(canonical);
    else {
      const near = closestMatch(token, p.values ?? []);
      problems.error(p.name, `Unknown CTA policy "${token}" in ${p.name}: NCCL ignores it.`, { token, ...(near ? { suggestion: near } : {}) });
    }
  }
  return names.length && names.length === value.split('|').filter(Boolean).length ? names.join('|') : undefined;
}

/** NCCL_NETDEVS_POLICY: AUTO, ALL or MAX:<n> with n > 0 (case-insensitive); anything else means AUTO. */
export function checkNetdevsPolicy(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  if (/^(auto|all)$/i.test(value)) return value.toUpperCase();
  const max = /^max:(.*)$/i.exec(value);
  if (max && Number.parseInt(max[1], 10) > 0) return `MAX:${Number.parseInt(max[1], 10)}`;
  problems.error(p.name, `${p.name}="${value}" is not AUTO, ALL or MAX:<n> with n > 0: NCCL ignores it and uses AUTO.`, { token: value, suggestion: max ? 'MAX:1' : 'AUTO' });
  return undefined;
}

/** Free text: paths, plugin names, addresses. */
export function checkText(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  if (value.trim() === '') {
    if (p.allow_empty) return value;
    problems.warn(p.name, `${p.name} is empty: NCCL treats it as unset.`, { token: value });
    return value;
  }
  if (p.type === 'path' && value.includes('~') && p.read_by !== 'plugin') {
    problems.error(p.name, `${p.name}="${value}": NCCL does not expand "~" in paths, so it looks for a file literally named so.`, { token: value, suggestion: value.replace(/^~/, '$HOME') });
    return undefined;
  }
  if (p.name === 'NCCL_DEBUG_FILE' && !value.includes('%p') && !value.includes('%h') && !/^\/dev\/std(out|err)$/.test(value)) {
    problems.warn(p.name, `${p.name} has no %h or %p: every process writes the same file.`, { token: value, suggestion: `${value}.%h.%p` });
  }
  if (p.type === 'cidr' && !/^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(value)) {
    problems.error(p.name, `${p.name}="${value}" is not an address range in CIDR form (e.g. 10.0.0.0/8, fd00::/8): NCCL ignores what it cannot parse.`, { token: value });
    return undefined;
  }
  if (p.type === 'host-port' && !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(value)) {
    problems.error(p.name, `${p.name}="${value}" is not host:port (IPv6 addresses in brackets, e.g. [::1]:28028).`, { token: value, suggestion: 'localhost:28028' });
    return undefined;
  }
  return value;
}
