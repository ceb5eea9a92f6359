/**
 * The NCCL parameter table (knowledge/nccl/params.json): every tuning-relevant variable with its
 * type, allowed values or range, default, the release that introduced or replaced it, and a risk
 * class. Loaded once; the validator and nccl_params read it from here.
 */
import { readFileSync } from 'node:fs';

export const RISKS = ['tuning', 'debug-only', 'may-corrupt-data', 'dangerous'] as const;
export type Risk = (typeof RISKS)[number];

export const PARAM_TYPES = ['algo-list', 'proto-list', 'int', 'bytes', 'enum', 'bool', 'string', 'path', 'subsys-list', 'ifname-list', 'hca-list'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  name: string;
  type: ParamType;
  category: string;
  risk: Risk;
  /** NCCL's default as NCCL prints it; null when NCCL decides at runtime. */
  default: string | null;
  description: string;
  notes?: string;
  /** First NCCL release with the variable; null when older than the table tracks or unrecorded. */
  since: string | null;
  per_collective_since?: string;
  deprecated?: boolean;
  deprecated_since?: string | null;
  /** Current NCCL ignores it. */
  removed?: boolean;
  replaced_by?: string;
  replaces?: string;
  values?: string[];
  legacy_values?: Record<string, string>;
  deprecated_values?: Record<string, string>;
  case_insensitive?: boolean;
  allowed?: number[];
  min?: number;
  max?: number;
  max_before?: { version: string; max: number };
  power_of_two?: boolean;
}

export interface AlgorithmSpec {
  since: string | null;
  collectives: string[];
  protocols: string[];
}

export interface ParamTable {
  covers: string;
  collectives: string[];
  algorithms: Record<string, AlgorithmSpec>;
  protocols: string[];
  legacy_tokens: Record<string, Record<string, string>>;
  params: ParamSpec[];
  other_known: string[];
  nccl_tests_vars: Record<string, string>;
}

let cached: (ParamTable & { byName: Map<string, ParamSpec> }) | undefined;

/** The table, parsed once. Its path is fixed relative to this module (src/ or dist/ alike). */
export function paramTable(): ParamTable & { byName: Map<string, ParamSpec> } {
  if (!cached) {
    const url = new URL('../../../knowledge/nccl/params.json', import.meta.url);
    const table = JSON.parse(readFileSync(url, 'utf8')) as ParamTable;
    cached = { ...table, byName: new Map(table.params.map((p) => [p.name, p])) };
  }
  return cached;
}

export function findParam(name: string): ParamSpec | undefined {
  return paramTable().byName.get(name);
}

/** Whether a variable is deprecated or removed, and what replaces it. */
export function paramStatus(p: ParamSpec): 'current' | 'deprecated' | 'removed' {
  if (p.removed) return 'removed';
  if (p.deprecated || p.deprecated_since) return 'deprecated';
  return 'current';
}

/** Every name NCCL (or nccl-tests) is known to read: typo suggestions draw from these. */
export function knownNames(): string[] {
  const t = paramTable();
  return [...t.params.map((p) => p.name), ...t.other_known, ...Object.keys(t.nccl_tests_vars)];
}

/** "2.21.5" vs "2.17": negative, zero or positive like a comparator; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface ParamFilter {
  names?: string[];
  risk?: Risk;
  category?: string;
  query?: string;
}

/** Parameters matching a filter: exact names, a risk class, a category, or a substring of name/description. */
export function filterParams(filter: ParamFilter): ParamSpec[] {
  const wanted = filter.names?.map((n) => n.toUpperCase());
  const q = filter.query?.toLowerCase();
  return paramTable().params.filter(
    (p) =>
      (!wanted || wanted.includes(p.name)) &&
      (!filter.risk || p.risk === filter.risk) &&
      (!filter.category || p.category === filter.category) &&
      (!q || p.name.toLowerCase().includes(q) || p.description.toLowerCase().includes(q)),
  );
}
