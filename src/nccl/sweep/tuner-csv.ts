/**
 * A sweep's result in the two forms a training job can use:
 * - the per-size winners as the CSV NCCL's example tuner plugin reads (NCCL_TUNER_CONFIG_FILE):
 *   collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff
 *   (inclusive byte ranges, lower-case names, -1 = any / NCCL's default channel count);
 * - the single overall winner as an nccl.conf.
 *
 * A config can go into the CSV only when the CSV can say everything it changes: one algorithm and
 * one protocol for the collective (from NCCL_ALGO/NCCL_PROTO, or from what NCCL logged it chose
 * under NCCL_DEBUG_SUBSYS=TUNING) and optionally a pinned channel count. A config that also sets,
 * say, NCCL_BUFFSIZE is left out: the plugin could not reproduce what was measured.
 */
import { parseNcclList, singleElementFor } from '../params/grammar.js';
import { grammarFor } from '../params/lists.js';
import { findParam } from '../params/table.js';
import { ProblemList } from '../params/problem.js';
import type { PlannedConfig } from './plan.js';
import type { SizeStanding, Trial } from './ranking.js';
import { LOGGING_VARS } from '../run/env.js';

export const TUNER_CSV_HEADER = 'collective,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,regBuff';
const MAX_BYTES = 4294967295;
const EXPRESSIBLE = ['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_MIN_CTAS', 'NCCL_MAX_CTAS', 'NCCL_MIN_NCHANNELS', 'NCCL_MAX_NCHANNELS'];
const CSV_ALGORITHM: Record<string, string> = {
  Tree: 'tree',
  Ring: 'ring',
  CollnetDirect: 'collnet_direct',
  CollnetChain: 'collnet_chain',
  NVLS: 'nvls',
  NVLSTree: 'nvls_tree',
  PAT: 'pat',
};

export interface TunerChoice {
  algorithm: string;
  protocol: string;
  channels: number;
}

/**
 * What the CSV would pin for `config` at `size`, or null when the CSV cannot express the config.
 * Channels: a forced count (NCCL_MIN_CTAS = NCCL_MAX_CTAS); with only a bound set, the count NCCL
 * logged it used; with no channel variable, -1 (NCCL's default).
 */
export function tunerChoice(config: PlannedConfig, collective: string, trials: Trial[], size: number): TunerChoice | null {
  const tuned = Object.keys(config.settings).filter((k) => !LOGGING_VARS.includes(k) && k.startsWith('NCCL_'));
  if (config.isDefault || tuned.some((k) => !EXPRESSIBLE.includes(k))) return null;
  const observed = trials.find((t) => t.config === config.index && t.status === 'ok' && t.choices.has(size))?.choices.get(size);
  const algorithm = pinned(config.env.NCCL_ALGO, 'NCCL_ALGO', collective) ?? observed?.algorithm ?? null;
  const protocol = pinned(config.env.NCCL_PROTO, 'NCCL_PROTO', collective) ?? observed?.protocol ?? null;
  if (!algorithm || !protocol || !CSV_ALGORITHM[algorithm]) return null;
  const min = config.env.NCCL_MIN_CTAS ?? config.env.NCCL_MIN_NCHANNELS;
  const max = config.env.NCCL_MAX_CTAS ?? config.env.NCCL_MAX_NCHANNELS;
  let channels: number | null = -1;
  if (min !== undefined && min === max) channels = Number(min);
  else if (min !== undefined || max !== undefined) channels = observed?.channels ?? null;
  return channels === null ? null : { algorithm, protocol, channels };
}

function pinned(value: string | undefined, variable: string, collective: string): string | null {
  return value === undefined ? null : singleElementFor(parseNcclList(value, grammarFor(findParam(variable)!), new ProblemList()), collective);
}

export interface CsvRange {
  min_bytes: number;
  max_bytes: number;
  choice: TunerChoice;
  winner: string;
  margin_vs_default: number | null;
}

/**
 * Inclusive byte ranges from per-size winners: a measured size s_i covers (s_{i-1}, s_i]; the
 * smallest covers from 0 and the largest up to 4294967295. Neighbouring sizes with the same choice
 * merge. Sizes the default wins get no line: NCCL then decides as usual.
 */
export function csvRanges(sizes: number[], winners: Map<number, { choice: TunerChoice; standing: SizeStanding }>): CsvRange[] {
  const ranges: CsvRange[] = [];
  sizes.forEach((size, i) => {
    const w = winners.get(size);
    if (!w) return;
    const min = i === 0 ? 0 : sizes[i - 1] + 1;
    const max = i === sizes.length - 1 ? MAX_BYTES : size;
    const last = ranges.at(-1);
    if (last && last.max_bytes + 1 === min && sameChoice(last.choice, w.choice)) {
      last.max_bytes = max;
      last.margin_vs_default = Math.min(last.margin_vs_default ?? Infinity, w.standing.margin_vs_default ?? Infinity);
      return;
    }
    ranges.push({ min_bytes: min, max_bytes: max, choice: w.choice, winner: w.standing.winner, margin_vs_default: w.standing.margin_vs_default });
  });
  return ranges;
}

export function tunerCsv(collective: string, ranges: CsvRange[], topology: { nodes: number | null; ranks: number | null }, header: string): string {
  const lines = header.split('\n').map((l) => `# ${l}`);
  lines.push(`# ${TUNER_CSV_HEADER}`);
  for (const r of ranges) {
    lines.push(
      [collective.toLowerCase(), r.min_bytes, r.max_bytes, CSV_ALGORITHM[r.choice.algorithm], r.choice.protocol.toLowerCase(), r.choice.channels, topology.nodes ?? -1, topology.ranks ?? -1, -1, -1].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function sameChoice(a: TunerChoice, b: TunerChoice): boolean {
  return a.algorithm === b.algorithm && a.protocol === b.protocol && a.channels === b.channels;
}
