/**
 * Validates a proposed NCCL environment for one NCCL release (default: the newest the table
 * knows): names (unknown ones get typo suggestions), whether that release reads each variable,
 * each value the way NCCL parses it, and the rules that involve several variables.
 *
 * The verdict follows NCCL: an error when NCCL would fail, or would not apply the value as written
 * (it reads "banana" as 0, ignores "sys", voids a subsystem list); a warning when NCCL applies it
 * with an adjustment (a clamp, a replacement), when the variable is not read by that release
 * (NCCL ignores unknown variables), or when it is risky. Names are never changed and nothing the
 * caller set is dropped: `normalized` is the same variables with canonical values.
 */
import { checkCrossRules } from './cross-rules.js';
import { checkHcaList, checkIfnameList } from './devices.js';
import { parseNcclList, type ParsedList } from './grammar.js';
import { grammarFor } from './lists.js';
import { checkBool, checkInt } from './numbers.js';
import { ProblemList, closestMatch, type Problem } from './problem.js';
import { findParam, knownNames, paramStatus, paramTable, presence, type ParamSpec, type Risk } from './table.js';
import { checkBitset, checkCtaPolicy, checkEnum, checkLevel, checkNetdevsPolicy, checkText } from './values.js';
import { atLeast } from './versions.js';

export type NcclEnv = Record<string, string>;

export const VARIABLE_STATUSES = ['current', 'deprecated', 'removed', 'not-yet', 'unknown', 'not-nccl'] as const;

export interface VariableReport {
  name: string;
  value: string;
  /** null for names outside the table. */
  risk: Risk | null;
  /** removed / not-yet: the release validated for does not read it. */
  status: (typeof VARIABLE_STATUSES)[number];
}

export interface ValidationResult {
  ok: boolean;
  /** The release the verdict is for. */
  nccl_version: string;
  /** The config to apply: the same variables, values in NCCL's canonical spelling. */
  normalized: NcclEnv;
  errors: Problem[];
  warnings: Problem[];
  variables: VariableReport[];
}

export interface ValidateOptions {
  /** The NCCL release the config is for (e.g. "2.21.5"); default: the newest in the table. */
  ncclVersion?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateNcclEnv(env: NcclEnv, options: ValidateOptions = {}): ValidationResult {
  const version = options.ncclVersion ?? paramTable().newest;
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
    variables.push({ name, value, risk: spec.risk, status: statusIn(spec, version) });
    warnPresence(spec, version, problems);
    const checked = checkValue(spec, value, problems, version, lists);
    if (checked === undefined) continue;
    normalized[name] = checked;
    warnRisk(spec, version, problems, lists);
  }
  checkCrossRules(env, normalized, version, problems, lists);
  return { ok: problems.errors.length === 0, nccl_version: version, normalized: sortKeys(normalized), errors: problems.errors, warnings: problems.warnings, variables };
}

function statusIn(spec: ParamSpec, version: string): VariableReport['status'] {
  const p = presence(spec, version);
  if (p === 'not-yet') return 'not-yet';
  return paramStatus(spec, version);
}

function checkUnknownName(name: string, problems: ProblemList): VariableReport['status'] {
  const known = knownNames();
  if (known.includes(name)) return 'current';
  const upper = name.toUpperCase();
  if (upper.startsWith('NCCL_')) {
    if (known.includes(upper)) {
      problems.error(name, `${name}: environment names are case-sensitive and NCCL reads ${upper}.`, { token: name, suggestion: upper });
      return 'unknown';
    }
    const near = closestMatch(upper, known);
    problems.warn(name, `${name} is not read by any NCCL release from 2.3.5 to ${paramTable().newest}${near ? ` (did you mean ${near}?)` : ''}: NCCL ignores it. Kept as given.`, {
      token: name,
      ...(near ? { suggestion: near } : {}),
    });
    return 'unknown';
  }
  // A name one or two edits from an NCCL variable ("CCL_NET_GDR_LEVEL") is most likely a typo of it.
  const meant = known.includes(`NCCL_${upper}`) ? `NCCL_${upper}` : closestMatch(upper, known, 2);
  if (meant) problems.warn(name, `${name} is not an NCCL variable; did you mean ${meant}? NCCL ignores ${name}. Kept as given.`, { token: name, suggestion: meant });
  return 'not-nccl';
}

/** A variable the release does not read: NCCL ignores it (a warning; the value is still checked). */
function warnPresence(spec: ParamSpec, version: string, problems: ProblemList): void {
  const p = presence(spec, version);
  const instead = spec.replaced_by ? ` Use ${spec.replaced_by} instead.` : '';
  if (p === 'not-yet') {
    problems.warn(spec.name, `NCCL ${version} does not read ${spec.name} (it appeared in ${spec.since ?? 'a later release'}): the setting has no effect on that release.`, { token: spec.name });
  } else if (p === 'removed') {
    problems.warn(spec.name, `NCCL ${version} does not read ${spec.name} (no release reads it since ${spec.removed_in}): the setting has no effect.${instead} Kept as given.`, {
      token: spec.name,
      ...(spec.replaced_by ? { suggestion: spec.replaced_by } : {}),
    });
  } else if (spec.deprecated_since && atLeast(version, spec.deprecated_since)) {
    const alias = spec.alias_of ? ` NCCL still reads it as an alias of ${spec.alias_of} (ignored when ${spec.alias_of} is set).` : ' NCCL still reads it.';
    problems.warn(spec.name, `${spec.name} is deprecated since NCCL ${spec.deprecated_since}.${alias}${instead}`, {
      token: spec.name,
      ...(spec.replaced_by ? { suggestion: spec.replaced_by } : {}),
    });
  }
  if (spec.read_by === 'plugin') {
    problems.warn(spec.name, `${spec.name} is read by NCCL's example tuner plugin, not by NCCL: it only matters with NCCL_TUNER_PLUGIN pointing at that plugin.`, { token: spec.name });
  }
}

function checkValue(spec: ParamSpec, value: string, problems: ProblemList, version: string, lists: Record<string, ParsedList>): string | undefined {
  switch (spec.type) {
    case 'algo-list':
    case 'proto-list': {
      const before = problems.errors.length;
      const parsed = parseNcclList(value, grammarFor(spec, version), problems);
      if (problems.errors.length > before) return undefined;
      lists[spec.name] = parsed;
      return parsed.normalized;
    }
    case 'int':
    case 'bytes':
      return checkInt(spec, value, problems, version);
    case 'bool':
      return checkBool(spec, value, problems, version);
    case 'enum':
      return checkEnum(spec, value, problems);
    case 'level':
      return checkLevel(spec, value, problems, version);
    case 'bitset':
      return checkBitset(spec, value, problems, version);
    case 'cta-policy':
      return checkCtaPolicy(spec, value, problems, version);
    case 'netdevs-policy':
      return checkNetdevsPolicy(spec, value, problems);
    case 'ifname-list':
      return checkIfnameList(spec, value, problems);
    case 'hca-list':
      return checkHcaList(spec, value, problems, version);
    case 'string':
    case 'path':
    case 'plugin':
    case 'cidr':
    case 'host-port':
      return checkText(spec, value, problems);
  }
}

function warnRisk(spec: ParamSpec, version: string, problems: ProblemList, lists: Record<string, ParsedList>): void {
  if (presence(spec, version) !== 'read') return;
  if (spec.risk === 'debug-only') {
    problems.warn(spec.name, `${spec.name} is debug-only: useful for diagnosis, not to keep in production.`, { token: spec.name });
  } else if (spec.risk === 'dangerous') {
    problems.warn(spec.name, `${spec.name} is classed dangerous: ${spec.notes ?? spec.description}`, { token: spec.name });
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

function sortKeys(env: NcclEnv): NcclEnv {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}
