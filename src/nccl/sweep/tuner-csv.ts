/**
 * A sweep's per-size choices as the CSV NCCL's example tuner plugin reads (NCCL_TUNER_CONFIG_FILE;
 * NVIDIA/nccl plugins/tuner/example/plugin.c, ext-tuner/example in 2.27.5-2.28):
 *   collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff
 *
 * What the plugin does with it decides what must be written:
 * - it sets nChannels = 1 before looking for a line, and only a matching line with channels other
 *   than -1 changes that; NCCL then runs the collective on that many channels. So every line
 *   carries the channel count that was in force when the size was measured (logged by NCCL with
 *   NCCL_DEBUG_SUBSYS=TUNING, or pinned by NCCL_MIN_CTAS = NCCL_MAX_CTAS), never -1, and sizes the
 *   untuned default wins get a line with the default's own choice: a size without a line would run
 *   on one channel;
 * - sizes are size_t compared inclusively (nBytes >= min && nBytes <= max), read with strtoull:
 *   ranges are 64-bit, contiguous, never empty or inverted, from 0 to 2^64-1;
 * - names are compared case-sensitively in lower case; an unknown name silently becomes allreduce,
 *   ring or simple, so only names the plugin knows are written.
 *
 * A config can be written only when the CSV says everything it changes: a config that also sets,
 * say, NCCL_BUFFSIZE is left out, since the plugin could not reproduce what was measured.
 */
import { LOGGING_VARS } from '../run/env.js';
import { parseNcclList, singleElementFor } from '../params/grammar.js';
import { grammarFor } from '../params/lists.js';
import { ProblemList } from '../params/problem.js';
import { findParam } from '../params/table.js';
import { parseNcclInt } from '../params/numbers.js';
import type { PlannedConfig } from './plan.js';
import type { Trial } from './ranking.js';

export const TUNER_CSV_HEADER = 'collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff';
/** SIZE_MAX on 64-bit: the largest size the plugin can compare against. */
export const SIZE_MAX = 2n ** 64n - 1n;

const EXPRESSIBLE = ['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_MIN_CTAS', 'NCCL_MAX_CTAS', 'NCCL_MIN_NCHANNELS', 'NCCL_MAX_NCHANNELS', 'NCCL_MIN_NRINGS', 'NCCL_MAX_NRINGS'];
/** The plugin's parseAlgorithm() names. */
export const CSV_ALGORITHM: Record<string, string> = {
  Tree: 'tree',
  Ring: 'ring',
  CollnetDirect: 'collnet_direct',
  CollnetChain: 'collnet_chain',
  NVLS: 'nvls',
  NVLSTree: 'nvls_tree',
  PAT: 'pat',
};
/** The plugin's parseCollType() names. */
export const CSV_COLLECTIVE: Record<string, string> = {
  Broadcast: 'broadcast',
  Reduce: 'reduce',
  AllGather: 'allgather',
  ReduceScatter: 'reducescatter',
  AllReduce: 'allreduce',
};

export interface TunerChoice {
  algorithm: string;
  protocol: string;
  channels: number;
}

/**
 * What a line must pin for `config` at `size` to reproduce its measurement, or null when the CSV
 * cannot: the config changes something else, or the algorithm, protocol or channel count that was
 * in force is not known (neither pinned by the config nor logged by NCCL).
 */
export function tunerChoice(config: PlannedConfig, collective: string, trials: Trial[], size: number): TunerChoice | null {
  const tuned = Object.keys(config.settings).filter((k) => !LOGGING_VARS.includes(k) && k.startsWith('NCCL_'));
  if (tuned.some((k) => !EXPRESSIBLE.includes(k))) return null;
  const observed = loggedChoice(trials.filter((t) => t.config === config.index && t.status === 'ok'), size);
  const algorithm = pinned(config.env.NCCL_ALGO, 'NCCL_ALGO', collective) ?? observed?.algorithm ?? null;
  const protocol = pinned(config.env.NCCL_PROTO, 'NCCL_PROTO', collective) ?? observed?.protocol ?? null;
  const channels = observed?.channels ?? pinnedChannels(config.env);
  if (!algorithm || !protocol || channels === null || !CSV_ALGORITHM[algorithm]) return null;
  return { algorithm, protocol, channels };
}

/** The choice most of the trials logged at `size` (they normally agree). */
function loggedChoice(trials: Trial[], size: number): { algorithm: string; protocol: string; channels: number | null } | null {
  const votes = new Map<string, { choice: { algorithm: string; protocol: string; channels: number | null }; n: number }>();
  for (const t of trials) {
    const c = t.choices.get(size);
    if (!c) continue;
    const key = `${c.algorithm}/${c.protocol}/${c.channels}`;
    votes.set(key, { choice: c, n: (votes.get(key)?.n ?? 0) + 1 });
  }
  return [...votes.values()].sort((a, b) => b.n - a.n)[0]?.choice ?? null;
}

function pinned(value: string | undefined, variable: string, collective: string): string | null {
  return value === undefined ? null : singleElementFor(parseNcclList(value, grammarFor(findParam(variable)!), new ProblemList()), collective);
}

/** MIN = MAX forces the count (NCCL_MIN_CTAS/NCCL_MAX_CTAS or the older names). */
function pinnedChannels(env: Record<string, string>): number | null {
  const min = env.NCCL_MIN_CTAS ?? env.NCCL_MIN_NCHANNELS ?? env.NCCL_MIN_NRINGS;
  const max = env.NCCL_MAX_CTAS ?? env.NCCL_MAX_NCHANNELS ?? env.NCCL_MAX_NRINGS;
  const n = min !== undefined && min === max ? parseNcclInt(min) : null;
  return n !== null && n > 0 ? n : null;
}

export interface SizeLine {
  size: number;
  choice: TunerChoice;
  /** The config whose measurement the line reproduces ("default" for the untuned one). */
  source: string;
  margin_vs_default: number | null;
}

export interface CsvRange {
  min_bytes: bigint;
  max_bytes: bigint;
  choice: TunerChoice;
  sources: string[];
}

/**
 * Inclusive 64-bit ranges from per-size lines: measured size s_i covers (s_{i-1}, s_i], the
 * smallest from 0 and the largest up to SIZE_MAX. Neighbours with the same choice merge; a size
 * without a line leaves a gap (reported by the caller).
 */
export function csvRanges(sizes: readonly number[], lines: ReadonlyMap<number, SizeLine>): CsvRange[] {
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  const ranges: CsvRange[] = [];
  sorted.forEach((size, i) => {
    const line = lines.get(size);
    if (!line) return;
    const min = i === 0 ? 0n : BigInt(sorted[i - 1]) + 1n;
    const max = i === sorted.length - 1 ? SIZE_MAX : BigInt(size);
    const last = ranges.at(-1);
    if (last && last.max_bytes + 1n === min && sameChoice(last.choice, line.choice)) {
      last.max_bytes = max;
      if (!last.sources.includes(line.source)) last.sources.push(line.source);
      return;
    }
    ranges.push({ min_bytes: min, max_bytes: max, choice: line.choice, sources: [line.source] });
  });
  return ranges;
}

export function tunerCsv(collective: string, ranges: CsvRange[], topology: { nodes: number | null; ranks: number | null }, header: string): string {
  const lines = header.split('\n').map((l) => `# ${l}`);
  lines.push(`# ${TUNER_CSV_HEADER}`);
  for (const r of ranges) {
    if (r.min_bytes > r.max_bytes) throw new Error(`bug: inverted tuner range ${r.min_bytes}-${r.max_bytes}`);
    const row = [CSV_COLLECTIVE[collective], r.min_bytes, r.max_bytes, CSV_ALGORITHM[r.choice.algorithm], r.choice.protocol.toLowerCase(), r.choice.channels, topology.nodes ?? -1, topology.ranks ?? -1, -1, -1];
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function sameChoice(a: TunerChoice, b: TunerChoice): boolean {
  return a.algorithm === b.algorithm && a.protocol === b.protocol && a.channels === b.channels;
}

/**
 * The nccl-tests row size (= the plugin's nBytes, the larger of send and receive) of a logged
 * choice. NCCL 2.24+ logs count x type size, the per-rank count, in the line that also names the
 * channels: for AllGather and ReduceScatter that is the row size divided by the ranks. Earlier
 * releases (2.20-2.23) log nBytes itself.
 */
export function rowSizeOfLogged(choice: { bytes: number; collective: string | null; channels: number | null }, ranks: number | null): number | null {
  if (choice.channels === null) return choice.bytes;
  if (choice.collective === 'AllGather' || choice.collective === 'ReduceScatter') return ranks ? choice.bytes * ranks : null;
  return choice.bytes;
}
