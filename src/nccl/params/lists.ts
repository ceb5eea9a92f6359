/** The list grammars of NCCL_ALGO and NCCL_PROTO, built from the parameter table. */
import type { ListGrammar } from './grammar.js';
import { paramTable, type ParamSpec } from './table.js';

export function grammarFor(spec: ParamSpec, ncclVersion?: string): ListGrammar {
  const t = paramTable();
  const isAlgo = spec.type === 'algo-list';
  return {
    variable: spec.name,
    elements: isAlgo ? Object.keys(t.algorithms) : t.protocols,
    collectives: t.collectives,
    legacy: t.legacy_tokens[spec.name],
    elementWindow: isAlgo ? Object.fromEntries(Object.entries(t.algorithms).map(([name, a]) => [name, [a.since, a.removed_in ?? null]])) : undefined,
    strictSince: spec.strict_since,
    ncclVersion,
  };
}

/** Canonical NCCL collective name for an nccl-tests collective (all_reduce -> AllReduce), if NCCL tunes it. */
export function ncclCollectiveOf(testCollective: string): string | null {
  const map: Record<string, string> = {
    all_reduce: 'AllReduce',
    all_gather: 'AllGather',
    reduce_scatter: 'ReduceScatter',
    broadcast: 'Broadcast',
    reduce: 'Reduce',
  };
  return map[testCollective] ?? null;
}
