/**
 * Workloads like a given one, so what worked there can be tried first here. Similarity is a
 * weighted mix of:
 * - text (name, description, tags, command words): IDF-weighted overlap of word sets, so shared
 *   rare words ("ffmpeg", "allreduce") count more than common ones ("run", "test");
 * - command: the same program (argv[0] basename) counts 1, plus half the overlap of the arguments;
 * - classification: equal or not;
 * - tags: overlap.
 * Components the target does not state are left out of the average.
 */
import { basename } from 'node:path';
import type { Store } from '../core/store.js';
import { configAggregates, type ConfigAggregate } from './runs.js';
import { listWorkloads, type Workload } from './workloads.js';

export interface WorkloadProfile {
  name?: string;
  description?: string;
  command?: string[] | null;
  classification?: string | null;
  tags?: string[];
}

export interface SimilarWorkload {
  workload: Workload;
  similarity: number;
  reasons: string[];
  /** The best config per metric/domain recorded for it (best first, at most 3). */
  best: ConfigAggregate[];
}

const WEIGHTS = { text: 0.4, command: 0.25, classification: 0.2, tags: 0.15 };
const MAX_WORKLOADS = 5000;

function words(p: WorkloadProfile): Set<string> {
  const text = [p.name ?? '', p.description ?? '', ...(p.tags ?? []), ...(p.command ?? []).map((a) => basename(a))].join(' ').toLowerCase();
  return new Set((text.match(/[\p{L}\p{N}]{2,}/gu) ?? []).filter((w) => !/^\d+$/.test(w)));
}

function overlap(a: Set<string>, b: Set<string>, weight: (w: string) => number = () => 1): number {
  let shared = 0;
  let union = 0;
  for (const w of new Set([...a, ...b])) {
    union += weight(w);
    if (a.has(w) && b.has(w)) shared += weight(w);
  }
  return union > 0 ? shared / union : 0;
}

export function similarWorkloads(store: Store, target: WorkloadProfile, options: { excludeId?: number; limit: number }): SimilarWorkload[] {
  const all = listWorkloads(store, { limit: MAX_WORKLOADS, offset: 0 }).filter((w) => w.id !== options.excludeId);
  const docs = all.map((w) => words(w));
  const df = new Map<string, number>();
  for (const d of docs) for (const w of d) df.set(w, (df.get(w) ?? 0) + 1);
  const idf = (w: string) => Math.log(1 + (all.length + 1) / ((df.get(w) ?? 0) + 1));
  const targetWords = words(target);
  const program = target.command?.length ? basename(target.command[0]) : null;

  const scored = all.map((w, i) => {
    const parts: { key: keyof typeof WEIGHTS; value: number; reason: string }[] = [];
    if (targetWords.size) {
      const t = overlap(targetWords, docs[i], idf);
      parts.push({ key: 'text', value: t, reason: `text ${t.toFixed(2)}` });
    }
    if (program) {
      const same = w.command?.length ? basename(w.command[0]) === program : false;
      const args = overlap(new Set(target.command!.slice(1)), new Set(w.command?.slice(1) ?? []));
      const c = same ? Math.min(1, 0.5 + 0.5 * args) : 0;
      parts.push({ key: 'command', value: c, reason: same ? `same program ${program}` : 'different program' });
    }
    if (target.classification) {
      const c = w.classification === target.classification ? 1 : 0;
      parts.push({ key: 'classification', value: c, reason: c ? `both ${w.classification}` : `${w.classification ?? 'unclassified'} vs ${target.classification}` });
    }
    if (target.tags?.length) {
      const t = overlap(new Set(target.tags.map((x) => x.toLowerCase())), new Set(w.tags.map((x) => x.toLowerCase())));
      parts.push({ key: 'tags', value: t, reason: `tags ${t.toFixed(2)}` });
    }
    const total = parts.reduce((s, p) => s + WEIGHTS[p.key], 0);
    const similarity = total > 0 ? parts.reduce((s, p) => s + WEIGHTS[p.key] * p.value, 0) / total : 0;
    return { workload: w, similarity: Number(similarity.toFixed(3)), reasons: parts.map((p) => p.reason) };
  });
  return scored
    .filter((s) => s.similarity > 0)
    .sort((a, b) => b.similarity - a.similarity || a.workload.id - b.workload.id)
    .slice(0, options.limit)
    .map((s) => ({ ...s, best: bestPerMetric(store, s.workload.id) }));
}

/** The best config of each (domain, metric) the workload has runs for. */
function bestPerMetric(store: Store, workloadId: number): ConfigAggregate[] {
  const seen = new Set<string>();
  const out: ConfigAggregate[] = [];
  for (const a of configAggregates(store, { workload_id: workloadId }, 200)) {
    const key = `${a.domain}|${a.primary_metric}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
    if (out.length === 3) break;
  }
  return out;
}
