/**
 * Rules that involve several variables, checked on the normalized config for one release. NCCL
 * resolves most conflicts itself (src/init.cc, src/graph/connect.cc, src/transport/net_socket.cc),
 * so they are warnings saying what it will do; a collective left with no usable algorithm is a
 * warning too, since NCCL fails only when the program calls that collective.
 */
import type { ParsedList } from './grammar.js';
import { parseNcclInt } from './numbers.js';
import type { ProblemList } from './problem.js';
import { paramTable, presence, findParam } from './table.js';

type Env = Record<string, string>;

export function checkCrossRules(given: Env, normalized: Env, version: string, problems: ProblemList, lists: Record<string, ParsedList>): void {
  const has = (name: string) => normalized[name] !== undefined && presence(findParam(name)!, version) === 'read';
  const int = (name: string) => (has(name) ? parseNcclInt(normalized[name]) : null);

  for (const [alias, primary] of [['NCCL_MIN_NRINGS', 'NCCL_MIN_NCHANNELS'], ['NCCL_MAX_NRINGS', 'NCCL_MAX_NCHANNELS']]) {
    if (has(alias) && has(primary)) {
      problems.warn(`${alias}/${primary}`, `${alias}=${given[alias]} is ignored: ${primary} is set and takes precedence.`, { token: alias, suggestion: `remove ${alias}` });
    }
  }
  const pairs: [string, string, 'higher' | 'lower'][] = [['NCCL_MIN_NCHANNELS', 'NCCL_MIN_CTAS', 'higher'], ['NCCL_MAX_NCHANNELS', 'NCCL_MAX_CTAS', 'lower']];
  for (const [old, current, wins] of pairs) {
    if (has(old) && has(current) && int(old) !== int(current)) {
      problems.warn(`${old}/${current}`, `Both ${old}=${given[old]} and ${current}=${given[current]} are set: NCCL uses the more restrictive (the ${wins}) value.`, { token: old, suggestion: `remove ${old}` });
    }
  }
  const min = Math.max(int('NCCL_MIN_CTAS') ?? -1, int('NCCL_MIN_NCHANNELS') ?? int('NCCL_MIN_NRINGS') ?? -1);
  const maxes = [int('NCCL_MAX_CTAS'), int('NCCL_MAX_NCHANNELS') ?? int('NCCL_MAX_NRINGS')].filter((x): x is number => x !== null && x > 0);
  const max = maxes.length ? Math.min(...maxes) : null;
  if (min > 0 && max !== null && min > max) {
    problems.warn('NCCL_MIN_CTAS/NCCL_MAX_CTAS', `The minimum channel count (${min}) is above the maximum (${max}): NCCL sets both to ${max}.`, { token: String(min), suggestion: String(max) });
  }
  const threads = int('NCCL_SOCKET_NTHREADS');
  const socks = int('NCCL_NSOCKS_PERTHREAD');
  if (threads !== null && socks !== null && threads > 0 && socks > 0 && threads * socks > 64) {
    problems.warn('NCCL_SOCKET_NTHREADS/NCCL_NSOCKS_PERTHREAD', `NCCL_SOCKET_NTHREADS x NCCL_NSOCKS_PERTHREAD = ${threads * socks} exceeds 64: NCCL lowers the sockets per thread to ${Math.floor(64 / threads)}.`, {
      token: `${threads}x${socks}`,
      suggestion: String(Math.floor(64 / threads)),
    });
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
