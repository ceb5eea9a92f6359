/**
 * Rule contexts and how similar a situation is to one. A rule says "in context C, patch P beat the
 * baseline"; C is a set of conditions, a situation is a set of facts, and `matchContext` scores
 * the facts against the conditions by weighted fuzzy similarity:
 * - text (CPU/GPU model, kernel, host ...): 1 when equal (case-insensitive), else the better of
 *   token overlap ("AMD EPYC 7763" vs "AMD EPYC 7713": same family) and a shared version prefix
 *   ("6.12.3" vs "6.12.9");
 * - numeric ranges (nodes, ranks, CPUs, GPUs): 1 inside, falling by half per doubling outside;
 * - tags: the share of the rule's tags the situation has;
 * - a fact the situation does not state counts 0.3: unknown is neither a match nor a mismatch.
 * The score is the weight-averaged similarity over the rule's conditions; every condition
 * contributes one line to the reason.
 */
export const TEXT_KEYS = ['classification', 'workload', 'host', 'cpu_model', 'gpu_model', 'kernel', 'nccl_version', 'collective', 'scheduler', 'message_band'] as const;
export const RANGE_KEYS = ['nodes', 'ranks', 'cpus', 'gpus'] as const;
export type TextKey = (typeof TEXT_KEYS)[number];
export type RangeKey = (typeof RANGE_KEYS)[number];

export interface Range {
  min?: number;
  max?: number;
}

/** Conditions of a rule: every key optional; a rule without conditions applies everywhere, weakly. */
export type RuleContext = Partial<Record<TextKey, string>> & Partial<Record<RangeKey, Range>> & { tags?: string[] };

/** Facts about a situation. */
export type Situation = Partial<Record<TextKey, string>> & Partial<Record<RangeKey, number>> & { tags?: string[] };

/** How much each kind of condition counts: what most changes what works (GPU, workload class, scale) weighs most. */
export const WEIGHTS: Record<TextKey | RangeKey | 'tags', number> = {
  classification: 3,
  workload: 2,
  tags: 2,
  gpu_model: 3,
  cpu_model: 2,
  collective: 2,
  message_band: 3,
  scheduler: 2,
  nodes: 2,
  ranks: 2,
  gpus: 1,
  cpus: 1,
  kernel: 1,
  nccl_version: 1,
  host: 1,
};

const UNKNOWN = 0.3;
const GENERIC = 0.4;

export interface ContextMatch {
  score: number;
  reasons: string[];
}

export function matchContext(rule: RuleContext, facts: Situation): ContextMatch {
  let weighted = 0;
  let total = 0;
  const reasons: string[] = [];
  const add = (key: keyof typeof WEIGHTS, similarity: number, text: string) => {
    weighted += WEIGHTS[key] * similarity;
    total += WEIGHTS[key];
    reasons.push(`${key}: ${text} (${similarity.toFixed(2)})`);
  };
  for (const key of TEXT_KEYS) {
    const want = rule[key];
    if (want === undefined) continue;
    const have = facts[key];
    if (have === undefined) add(key, UNKNOWN, `rule wants "${want}", unknown here`);
    else {
      const s = textSimilarity(want, have);
      add(key, s, s === 1 ? `"${have}" matches` : `rule "${want}" vs "${have}"`);
    }
  }
  for (const key of RANGE_KEYS) {
    const range = rule[key];
    if (range === undefined) continue;
    const have = facts[key];
    const shown = formatRange(range);
    if (have === undefined) add(key, UNKNOWN, `rule wants ${shown}, unknown here`);
    else {
      const s = rangeSimilarity(range, have);
      add(key, s, s === 1 ? `${have} within ${shown}` : `${have} outside ${shown}`);
    }
  }
  if (rule.tags?.length) {
    const have = new Set((facts.tags ?? []).map((t) => t.toLowerCase()));
    const shared = rule.tags.filter((t) => have.has(t.toLowerCase()));
    add('tags', facts.tags === undefined ? UNKNOWN : shared.length / rule.tags.length, `${shared.length}/${rule.tags.length} of [${rule.tags.join(', ')}]`);
  }
  if (total === 0) return { score: GENERIC, reasons: ['no conditions: applies anywhere, weakly'] };
  return { score: weighted / total, reasons };
}

function tokens(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9.]+/).filter(Boolean);
}

export function textSimilarity(a: string, b: string): number {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x === y) return 1;
  const ta = new Set(tokens(x));
  const tb = new Set(tokens(y));
  const shared = [...ta].filter((t) => tb.has(t)).length;
  const jaccard = ta.size + tb.size - shared > 0 ? shared / (ta.size + tb.size - shared) : 0;
  return Math.max(0.9 * jaccard, versionSimilarity(x, y));
}

/** "6.12.3" vs "6.12.9": the share of leading version parts they agree on (at most 0.9: not equal). */
function versionSimilarity(a: string, b: string): number {
  const va = a.match(/^v?(\d+(?:\.\d+)*)/)?.[1]?.split('.');
  const vb = b.match(/^v?(\d+(?:\.\d+)*)/)?.[1]?.split('.');
  if (!va || !vb) return 0;
  let same = 0;
  while (same < Math.min(va.length, vb.length) && va[same] === vb[same]) same++;
  return (0.9 * same) / Math.max(va.length, vb.length);
}

export function rangeSimilarity(range: Range, x: number): number {
  const lo = range.min ?? -Infinity;
  const hi = range.max ?? Infinity;
  if (x >= lo && x <= hi) return 1;
  const edge = x < lo ? lo : hi;
  if (edge <= 0 || x <= 0) return 0;
  return Math.max(0, 1 - 0.5 * Math.abs(Math.log2(x / edge)));
}

function formatRange(r: Range): string {
  if (r.min !== undefined && r.min === r.max) return String(r.min);
  return `${r.min ?? ''}..${r.max ?? ''}`;
}
