/**
 * The parameter space as other code consumes it: one flat record per variable a given NCCL
 * release reads, with the values or range that release accepts and its default there. nccl_params
 * describes variables with it, and learn builds its "nccl" search space on ncclParameters() and
 * ncclAlgorithms().
 */
import { defaultFor, filterParams, maxFor, paramStatus, paramTable, presence, type ParamFilter, type ParamSpec, type ParamType, type Risk } from './table.js';
import { atLeast, compareVersions } from './versions.js';

export interface ParameterInfo {
  name: string;
  type: ParamType;
  category: string;
  risk: Risk;
  documented: boolean;
  status: 'current' | 'deprecated' | 'removed';
  /** NCCL's default in the release asked for; null when NCCL decides at runtime. */
  default: string | null;
  /** The words or numbers the release accepts (enumerations, levels, lists' elements, booleans). */
  values?: string[];
  /** Integer bounds in the release asked for. */
  range?: { min?: number; max?: number };
  /** The documented integer values, when NCCL documents a set rather than a range. */
  allowed?: number[];
  since: string | null;
  removed_in: string | null;
  deprecated_since?: string;
  replaced_by?: string;
  description: string;
  notes?: string;
}

/**
 * Every variable release `version` reads (default: the newest in the table), documented ones
 * only unless `options.undocumented`.
 */
export function ncclParameters(version?: string, options: { undocumented?: boolean } = {}): ParameterInfo[] {
  return filterParams({ ncclVersion: version ?? paramTable().newest, undocumented: options.undocumented }).map((p) => describeParam(p, version));
}

/** Parameters matching a filter, described for `filter.ncclVersion` (or the newest release). */
export function describeParams(filter: ParamFilter): ParameterInfo[] {
  return filterParams(filter).map((p) => describeParam(p, filter.ncclVersion));
}

export function describeParam(p: ParamSpec, version?: string): ParameterInfo {
  const v = version ?? paramTable().newest;
  const values = valuesIn(p, v);
  const max = maxFor(p, v);
  return {
    name: p.name,
    type: p.type,
    category: p.category,
    risk: p.risk,
    documented: p.documented,
    status: presence(p, v) === 'not-yet' ? 'current' : paramStatus(p, v),
    default: defaultFor(p, v),
    ...(values ? { values } : {}),
    ...(p.min !== undefined || max !== undefined ? { range: { ...(p.min !== undefined ? { min: p.min } : {}), ...(max !== undefined ? { max } : {}) } } : {}),
    ...(p.allowed ? { allowed: p.allowed } : {}),
    since: p.since,
    removed_in: p.removed_in,
    ...(p.deprecated_since ? { deprecated_since: p.deprecated_since } : {}),
    ...(p.replaced_by ? { replaced_by: p.replaced_by } : {}),
    description: p.description,
    ...(p.notes ? { notes: p.notes } : {}),
  };
}

export interface AlgorithmInfo {
  name: string;
  /** NCCL collectives it implements (AllReduce, AllGather ...). */
  collectives: string[];
  /** Protocols it runs with. */
  protocols: string[];
}

/** The NCCL_ALGO elements release `version` (default: the newest) knows, with what each implements. */
export function ncclAlgorithms(version?: string): AlgorithmInfo[] {
  const t = paramTable();
  const v = version ?? t.newest;
  return Object.entries(t.algorithms)
    .filter(([, a]) => atLeast(v, a.since) && !(a.removed_in && compareVersions(v, a.removed_in) >= 0))
    .map(([name, a]) => ({ name, collectives: a.collectives, protocols: a.protocols }));
}

function valuesIn(p: ParamSpec, version: string): string[] | undefined {
  const t = paramTable();
  switch (p.type) {
    case 'algo-list':
      return ncclAlgorithms(version).map((a) => a.name);
    case 'proto-list':
      return t.protocols;
    case 'bool':
      return ['0', '1'];
    case 'bitset':
      return p.values?.filter((name) => atLeast(version, p.value_since?.[name]));
    case 'level':
      return p.values;
    case 'cta-policy':
      return atLeast(version, p.names_since) ? p.values : Object.keys(p.legacy_values ?? {});
    default:
      return p.values;
  }
}
