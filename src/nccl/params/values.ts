/**
 * Checks of single values by type: integers the way NCCL reads them (strtoll base 0: decimal,
 * 0x hex, and a leading 0 means octal), enumerations, and the small list grammars of
 * NCCL_DEBUG_SUBSYS, NCCL_SOCKET_IFNAME and NCCL_IB_HCA. Each returns the normalized value, or
 * undefined when the value is unusable.
 */
import { compareVersions, type ParamSpec } from './table.js';
import { ProblemList, canonicalToken, closestMatch } from './problem.js';

const SIZE_SUFFIX = /^(\d+(?:\.\d+)?)\s*([KMGT])(i?B)?$/i;

/** An integer as NCCL's strtoll(value, &end, 0) reads it, or null when NCCL would reject it. */
export function parseNcclInt(text: string): number | null {
  const t = text.trim();
  if (t !== text || t === '') return null;
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.replace(/^([+-]?)0x/i, '$1'), 16);
  if (/^[+-]?0[0-7]+$/.test(t)) return Number.parseInt(t, 8);
  if (/^[+-]?(0|[1-9]\d*)$/.test(t)) return Number.parseInt(t, 10);
  return null;
}

export function checkInt(p: ParamSpec, value: string, problems: ProblemList, ncclVersion?: string): string | undefined {
  const n = parseNcclInt(value);
  if (n === null) {
    const size = SIZE_SUFFIX.exec(value.trim());
    const bytes = size ? Math.round(Number(size[1]) * 1024 ** ' KMGT'.indexOf(size[2].toUpperCase())) : null;
    problems.error(p.name, `${p.name}="${value}" is not an integer NCCL can read: NCCL logs "Invalid value" at INFO level and silently keeps its default.`, {
      token: value,
      ...(bytes !== null ? { suggestion: String(bytes) } : {}),
    });
    return undefined;
  }
  if (/^[+-]?0[0-7]+$/.test(value)) {
    problems.warn(p.name, `${p.name}="${value}" has a leading 0: NCCL reads it as octal (${n}).`, { token: value, suggestion: String(n) });
  }
  let max = p.max;
  if (p.max_before && ncclVersion && compareVersions(ncclVersion, p.max_before.version) < 0) max = p.max_before.max;
  if (p.min !== undefined && n < p.min) {
    problems.error(p.name, `${p.name}=${n} is below the minimum ${p.min}.`, { token: value, suggestion: String(p.min) });
    return undefined;
  }
  if (max !== undefined && n > max) {
    const why = max !== p.max ? ` for NCCL ${ncclVersion} (the limit became ${p.max} in ${p.max_before!.version})` : '';
    problems.error(p.name, `${p.name}=${n} is above the maximum ${max}${why}.`, { token: value, suggestion: String(max) });
    return undefined;
  }
  if (p.allowed && !p.allowed.includes(n)) {
    problems.warn(p.name, `${p.name}=${n} is not one of ${p.allowed.join(', ')}: NCCL silently uses ${nthreadsReplacement(n, p.allowed)} instead.`, {
      token: value,
      suggestion: String(nthreadsReplacement(n, p.allowed)),
    });
    return String(nthreadsReplacement(n, p.allowed));
  }
  if (p.power_of_two && (n & (n - 1)) !== 0) {
    problems.warn(p.name, `${p.name}=${n} is not a power of two; NCCL's buffers and chunking assume one.`, { token: value });
  }
  return String(n);
}

/** What NCCL's getNthreads() does with an out-of-list thread count. */
function nthreadsReplacement(n: number, allowed: number[]): number {
  const max = Math.max(...allowed);
  const min = Math.min(...allowed);
  if (n % 32 !== 0 || n > max) return max;
  if (n < min) return min;
  return n; // a multiple of 32 inside the range: NCCL uses it as given
}

export function checkBool(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const n = parseNcclInt(value);
  if (n === null) {
    problems.error(p.name, `${p.name}="${value}" is not 0 or 1 (NCCL reads an integer and ignores anything else).`, {
      token: value,
      ...(/^(true|yes|on)$/i.test(value) ? { suggestion: '1' } : /^(false|no|off)$/i.test(value) ? { suggestion: '0' } : {}),
    });
    return undefined;
  }
  if (n !== 0 && n !== 1) problems.warn(p.name, `${p.name}=${n}: any non-zero value means 1.`, { token: value, suggestion: '1' });
  return n === 0 ? '0' : '1';
}

export function checkEnum(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const values = p.values ?? [];
  if (values.includes(value)) {
    const note = p.deprecated_values?.[value];
    if (note) problems.warn(p.name, `${p.name}=${value}: ${note}.`, { token: value });
    return value;
  }
  const legacy = p.legacy_values?.[value.trim()];
  if (legacy) {
    problems.warn(p.name, `${p.name}=${value} is a legacy integer level; it means ${legacy}.`, { token: value, suggestion: legacy });
    return legacy;
  }
  const canonical = canonicalToken(value, values);
  if (canonical) {
    if (!p.case_insensitive) {
      problems.warn(p.name, `${p.name}="${value}": NCCL compares these names case-sensitively in some releases; normalized to ${canonical}.`, {
        token: value,
        suggestion: canonical,
      });
    }
    return canonical;
  }
  const near = closestMatch(value, values);
  problems.error(p.name, `${p.name}="${value}" is not one of ${values.join(', ')}.`, { token: value, ...(near ? { suggestion: near } : {}) });
  return undefined;
}

/** NCCL_DEBUG_SUBSYS: [^]name,name...; NCCL ignores names it does not know. */
export function checkSubsysList(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const values = p.values ?? [];
  const negate = value.startsWith('^');
  const names: string[] = [];
  for (const token of (negate ? value.slice(1) : value).split(',')) {
    if (token === '') continue;
    const canonical = canonicalToken(token, values);
    if (canonical) names.push(canonical);
    else {
      const near = closestMatch(token, values);
      problems.warn(p.name, `Unknown subsystem "${token}" in ${p.name}: NCCL ignores it. Known: ${values.join(', ')}.`, {
        token,
        ...(near ? { suggestion: near } : {}),
      });
    }
  }
  return `${negate ? '^' : ''}${names.join(',')}`;
}

/** NCCL_SOCKET_IFNAME: [^][=]prefix,prefix... */
export function checkIfnameList(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const body = value.replace(/^\^?=?/, '');
  const tokens = body.split(',');
  let ok = true;
  for (const token of tokens) {
    if (token === '' || /\s/.test(token)) {
      problems.error(p.name, `Interface "${token}" in ${p.name} is empty or contains whitespace.`, { token });
      ok = false;
    }
  }
  if (!value.includes('=') && tokens.some((t) => /^(lo|docker|virbr|veth)$/.test(t)) && !value.startsWith('^')) {
    problems.warn(p.name, `${p.name}="${value}" selects a loopback or virtual interface; inter-node traffic will fail or crawl over it.`, { token: value });
  }
  return ok ? value : undefined;
}

/** NCCL_IB_HCA: [^][=]hca[:port],... Without '=', names are prefixes (mlx5_1 also matches mlx5_10). */
export function checkHcaList(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const exact = /^\^?=/.test(value);
  const body = value.replace(/^\^?=?/, '');
  let ok = true;
  for (const token of body.split(',')) {
    const [name, port, extra] = token.split(':');
    if (!name || /\s/.test(token) || extra !== undefined || (port !== undefined && !/^[1-9]\d*$/.test(port))) {
      problems.error(p.name, `Device "${token}" in ${p.name} is not "hca" or "hca:port" (port a positive integer).`, { token });
      ok = false;
      continue;
    }
    if (!exact && /\d$/.test(name)) {
      problems.warn(p.name, `"${name}" without '=' is a prefix: it also matches ${name}0, ${name}1 ... Prefix the list with '=' for exact names.`, {
        token,
        suggestion: `${value.startsWith('^') ? '^' : ''}=${body}`,
      });
    }
  }
  return ok ? value : undefined;
}

export function checkText(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  if (value.trim() === '') {
    problems.error(p.name, `${p.name} is empty.`, { token: value });
    return undefined;
  }
  if (p.name === 'NCCL_DEBUG_FILE' && !value.includes('%p') && !value.includes('%h')) {
    problems.warn(p.name, `${p.name} has no %h or %p: every process writes the same file.`, { token: value, suggestion: `${value}.%h.%p` });
  }
  return value;
}
