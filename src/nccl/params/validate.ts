/**
 * Validates a proposed NCCL environment against the parameter table: names (unknown ones get typo
 * suggestions), deprecated and removed names, each value by its type and grammar, and the rules
 * that involve several variables. Returns every problem with the offending token, plus the
 * normalized config to apply.
 */
import { grammarFor } from './lists.js';
import { parseNcclList, type ParsedList } from './grammar.js';
import { compareVersions, findParam, knownNames, paramStatus, paramTable, type ParamSpec, type Risk } from './table.js';
import { ProblemList, closestMatch, type Problem } from './problem.js';
import { checkBool, checkEnum, checkHcaList, checkIfnameList, checkInt, checkSubsysList, checkText, parseNcclInt } from './values.js';

export type NcclEnv = Record<string, string>;

export interface VariableReport {
  name: string;
  value: string;
  /** null for names outside the table. */
  risk: Risk | null;
  status: 'current' | 'deprecated' | 'removed' | 'unknown' | 'not-nccl';
}

export interface ValidationResult {
  ok: boolean;
  /** The config to apply: canonical spelling, deprecated names renamed, removed ones dropped. */
  normalized: NcclEnv;
  errors: Problem[];
  warnings: Problem[];
  variables: VariableReport[];
}

export interface ValidateOptions {
  /** The NCCL release the config is for (e.g. "2.21.5"); without it, current NCCL is assumed. */
  ncclVersion?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateNcclEnv(env: NcclEnv, options: ValidateOptions = {}): ValidationResult {
  const problems = new ProblemList();
  const normalized: NcclEnv = {};
  const variables: VariableReport[] = [];
  const lists: Record<string, ParsedList> = {};

  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!ENV_NAME.test(name)) {
      problems.error(name, `"${name}" is not a valid environment variable name.`, { token: name });
      continue;
    }
    if (/[\n\r\0]/.test(value)) {
      problems.error(name, `${name}'s value contains a newline or NUL, which neither the environment nor nccl.conf can carry.`, { token: value });
      continue;
    }
    const spec = findParam(name);
    if (!spec) {
      variables.push({ name, value, risk: null, status: checkUnknownName(name, problems) });
      normalized[name] = value;
      continue;
    }
    variables.push({ name, value, risk: spec.risk, status: paramStatus(spec) });
    const checked = checkValue(spec, value, problems, options, lists);
    if (checked === undefined) continue;
    const target = renameTarget(spec, problems, options);
    if (target === null) continue;
    normalized[target] = checked;
    warnRisk(spec, checked, problems, lists);
  }
  checkCrossRules(env, normalized, problems, lists);
  return { ok: problems.errors.length === 0, normalized: sortKeys(normalized), errors: problems.errors, warnings: problems.warnings, variables };
}

function checkUnknownName(name: string, problems: ProblemList): VariableReport['status'] {
  const known = knownNames();
  if (known.includes(name)) return 'current';
  const upper = name.toUpperCase();
  if (name.startsWith('NCCL_') || upper.startsWith('NCCL_')) {
    if (known.includes(upper)) {
      problems.error(name, `${name}: environment names are case-sensitive and NCCL reads ${upper}.`, { token: name, suggestion: upper });
      return 'unknown';
    }
    const near = closestMatch(upper, known);
    problems.warn(name, `${name} is not a known NCCL variable${near ? ` (did you mean ${near}?)` : ''}: NCCL will ignore it unless your release reads it. Kept as given.`, {
      token: name,
      ...(near ? { suggestion: near } : {}),
    });
    return 'unknown';
  }
  if (known.includes(`NCCL_${upper}`)) {
    problems.warn(name, `${name} is not an NCCL variable; did you mean NCCL_${upper}? Kept as given.`, { token: name, suggestion: `NCCL_${upper}` });
  }
  return 'not-nccl';
}

function checkValue(spec: ParamSpec, value: string, problems: ProblemList, options: ValidateOptions, lists: Record<string, ParsedList>): string | undefined {
  switch (spec.type) {
    case 'algo-list':
    case 'proto-list': {
      const before = problems.errors.length;
      const parsed = parseNcclList(value, grammarFor(spec, options.ncclVersion), problems);
      lists[spec.name] = parsed;
      return problems.errors.length > before ? undefined : parsed.normalized;
    }
    case 'int':
    case 'bytes':
      return checkInt(spec, value, problems, options.ncclVersion);
    case 'bool':
      return checkBool(spec, value, problems);
    case 'enum':
      return checkEnum(spec, value, problems);
    case 'subsys-list':
      return checkSubsysList(spec, value, problems);
    case 'ifname-list':
      return checkIfnameList(spec, value, problems);
    case 'hca-list':
      return checkHcaList(spec, value, problems);
    case 'string':
    case 'path':
      return checkText(spec, value, problems);
  }
}

/**
 * Where a valid value goes in the normalized config: its own name, the replacement's name for a
 * deprecated variable the target release already replaced, or nowhere (null) for a removed one.
 */
function renameTarget(spec: ParamSpec, problems: ProblemList, options: ValidateOptions): string | null {
  if (spec.removed) {
    problems.warn(spec.name, `${spec.name} was removed from NCCL and has no effect; dropped from the normalized config.${spec.replaced_by ? ` Use ${spec.replaced_by} instead.` : ''}`, {
      token: spec.name,
      ...(spec.replaced_by ? { suggestion: spec.replaced_by } : {}),
    });
    return null;
  }
  const replacement = spec.replaced_by ? findParam(spec.replaced_by) : undefined;
  if (!replacement) return spec.name;
  const supported = !replacement.since || !options.ncclVersion || compareVersions(options.ncclVersion, replacement.since) >= 0;
  if (!supported) {
    problems.warn(spec.name, `${spec.name} is deprecated in newer NCCL (replaced by ${replacement.name} in ${replacement.since}); kept for NCCL ${options.ncclVersion}.`, {
      token: spec.name,
    });
    return spec.name;
  }
  problems.warn(spec.name, `${spec.name} is deprecated${spec.deprecated_since ? ` since NCCL ${spec.deprecated_since}` : ''}; normalized to ${replacement.name}.`, {
    token: spec.name,
    suggestion: replacement.name,
  });
  return replacement.name;
}

function warnRisk(spec: ParamSpec, value: string, problems: ProblemList, lists: Record<string, ParsedList>): void {
  if (spec.risk === 'debug-only') {
    problems.warn(spec.name, `${spec.name} is debug-only: useful for diagnosis, not to keep in production.`, { token: spec.name });
  } else if (spec.risk === 'dangerous') {
    problems.warn(spec.name, `${spec.name} is classed dangerous: ${spec.notes ?? 'a wrong value can hang or fail jobs'}`, { token: value });
  } else if (spec.name === 'NCCL_PROTO') {
    // NCCL enables LL128 only where validated ("auto"); any rule that names it, or excludes others
    // with '^', turns that into an explicit enable.
    const forcesLl128 = lists.NCCL_PROTO?.rules.some((r) => (r.negate ? !r.elements.includes('LL128') : r.elements.includes('LL128')));
    if (forcesLl128) {
      problems.warn(spec.name, 'NCCL_PROTO explicitly enables LL128: on platforms where NCCL does not enable it by default this can silently corrupt data (risk: may-corrupt-data).', {
        token: 'LL128',
      });
    }
  }
}

/** Rules that involve several variables, checked on the normalized config. */
function checkCrossRules(given: NcclEnv, normalized: NcclEnv, problems: ProblemList, lists: Record<string, ParsedList>): void {
  for (const spec of paramTable().params) {
    if (spec.replaced_by && given[spec.name] !== undefined && given[spec.replaced_by] !== undefined && given[spec.name] !== given[spec.replaced_by]) {
      problems.error(`${spec.name}/${spec.replaced_by}`, `Both ${spec.name}=${given[spec.name]} and its replacement ${spec.replaced_by}=${given[spec.replaced_by]} are set, with different values.`, {
        token: spec.name,
        suggestion: `remove ${spec.name}`,
      });
    }
  }
  const min = intOf(normalized.NCCL_MIN_CTAS ?? normalized.NCCL_MIN_NCHANNELS);
  const max = intOf(normalized.NCCL_MAX_CTAS ?? normalized.NCCL_MAX_NCHANNELS);
  if (min !== null && max !== null && min > max) {
    problems.error('NCCL_MIN_CTAS/NCCL_MAX_CTAS', `The minimum channel count (${min}) is above the maximum (${max}).`, { token: String(min) });
  }
  const threads = intOf(normalized.NCCL_SOCKET_NTHREADS);
  const socks = intOf(normalized.NCCL_NSOCKS_PERTHREAD);
  if (threads !== null && socks !== null && threads * socks > 64) {
    problems.error('NCCL_SOCKET_NTHREADS/NCCL_NSOCKS_PERTHREAD', `NCCL_SOCKET_NTHREADS x NCCL_NSOCKS_PERTHREAD = ${threads * socks} exceeds 64.`, { token: `${threads}x${socks}` });
  }
  checkAlgoProtoCombinations(lists, problems);
}

/**
 * A collective left with no (algorithm, protocol) pair it implements makes NCCL fail when it runs
 * ("no algorithm/protocol available"): e.g. NCCL_ALGO=Tree leaves Broadcast nothing.
 */
function checkAlgoProtoCombinations(lists: Record<string, ParsedList>, problems: ProblemList): void {
  if (!lists.NCCL_ALGO && !lists.NCCL_PROTO) return;
  const t = paramTable();
  const stranded: string[] = [];
  for (const c of t.collectives) {
    const algos = lists.NCCL_ALGO?.enabled[c] ?? Object.keys(t.algorithms);
    const protos = lists.NCCL_PROTO?.enabled[c] ?? t.protocols;
    const usable = algos.some((a) => t.algorithms[a]?.collectives.includes(c) && t.algorithms[a].protocols.some((p) => protos.includes(p)));
    if (!usable) stranded.push(c);
  }
  if (stranded.length === 0) return;
  const value = [lists.NCCL_ALGO && `NCCL_ALGO=${lists.NCCL_ALGO.normalized}`, lists.NCCL_PROTO && `NCCL_PROTO=${lists.NCCL_PROTO.normalized}`].filter(Boolean).join(' ');
  problems.warn(
    lists.NCCL_ALGO ? 'NCCL_ALGO' : 'NCCL_PROTO',
    `${value} leaves no supported algorithm/protocol for ${stranded.join(', ')}: NCCL fails ("no algorithm/protocol available") when the program calls ${stranded.length > 1 ? 'them' : 'it'}. Scope the setting with a per-collective rule (e.g. "allreduce:tree", NCCL >= 2.24).`,
    { token: value },
  );
}

function intOf(value: string | undefined): number | null {
  return value === undefined ? null : parseNcclInt(value);
}

function sortKeys(env: NcclEnv): NcclEnv {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}
