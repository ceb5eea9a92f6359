/** Rules in the store: add, list, get, delete, and the upsert that derivation uses. */
import { UserError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { canonicalJson, configKey } from '../canonical.js';
import type { Direction } from '../stats.js';
import type { Domain } from '../runs.js';
import { matchContext, type RuleContext, type Situation } from './context.js';

export interface RuleInput {
  domain: Domain;
  context: RuleContext;
  /** The config change that helped: keys and values to set on top of the baseline. */
  patch: Record<string, unknown>;
  metric?: string | null;
  direction?: Direction | null;
  /** Relative improvement over the baseline (0.12 = 12% better, honouring direction). */
  gain?: number | null;
  confidence: number;
  evidence?: number[];
  source: 'manual' | 'derived';
  note?: string | null;
  workload_id?: number | null;
}

export interface Rule extends Required<Omit<RuleInput, 'evidence'>> {
  id: number;
  evidence: number[];
  created_at: string;
  updated_at: string;
}

interface RuleRow {
  id: number;
  domain: Domain;
  context: string;
  patch: string;
  metric: string | null;
  direction: Direction | null;
  gain: number | null;
  confidence: number;
  evidence: string;
  source: 'manual' | 'derived';
  note: string | null;
  workload_id: number | null;
  created_ms: number;
  updated_ms: number;
}

const MAX_EVIDENCE = 200;

function toRule(r: RuleRow): Rule {
  return {
    id: r.id,
    domain: r.domain,
    context: JSON.parse(r.context) as RuleContext,
    patch: JSON.parse(r.patch) as Record<string, unknown>,
    metric: r.metric,
    direction: r.direction,
    gain: r.gain,
    confidence: r.confidence,
    evidence: JSON.parse(r.evidence) as number[],
    source: r.source,
    note: r.note,
    workload_id: r.workload_id,
    created_at: new Date(r.created_ms).toISOString(),
    updated_at: new Date(r.updated_ms).toISOString(),
  };
}

/**
 * Insert a rule, or, when one with the same domain, patch, context and metric exists, refresh it
 * (gain, confidence, evidence, note): deriving twice from the same history gives the same rules.
 */
export function saveRule(store: Store, input: RuleInput): { rule: Rule; created: boolean } {
  if (Object.keys(input.patch).length === 0) throw new UserError('The rule has an empty patch.', 'Give the config change that helped, e.g. {"NCCL_PROTO": "LL128"}.');
  const evidence = [...new Set(input.evidence ?? [])].slice(0, MAX_EVIDENCE);
  return store.write((db) => {
    if (evidence.length) {
      const found = db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE id IN (${evidence.map((id) => Math.trunc(id)).join(',')})`).get() as { n: number };
      if (found.n !== evidence.length) throw new UserError('Some evidence run ids do not exist.', 'Use run ids from get_history.');
    }
    const now = Date.now();
    const context = canonicalJson(input.context);
    const patch = canonicalJson(input.patch);
    const existing = db
      .prepare(`SELECT id FROM rules WHERE domain = ? AND patch_key = ? AND context = ? AND COALESCE(metric, '') = ?`)
      .get(input.domain, configKey(input.patch), context, input.metric ?? '') as { id: number } | undefined;
    if (existing) {
      db.prepare('UPDATE rules SET gain = ?, confidence = ?, evidence = ?, note = COALESCE(?, note), direction = COALESCE(?, direction), updated_ms = ? WHERE id = ?').run(
        input.gain ?? null,
        input.confidence,
        JSON.stringify(evidence),
        input.note ?? null,
        input.direction ?? null,
        now,
        existing.id,
      );
      return { rule: toRule(db.prepare('SELECT * FROM rules WHERE id = ?').get(existing.id) as RuleRow), created: false };
    }
    const info = db
      .prepare(
        `INSERT INTO rules (domain, context, patch, patch_key, metric, direction, gain, confidence, evidence, source, note, workload_id, created_ms, updated_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(input.domain, context, patch, configKey(input.patch), input.metric ?? null, input.direction ?? null, input.gain ?? null, input.confidence, JSON.stringify(evidence), input.source, input.note ?? null, input.workload_id ?? null, now, now);
    return { rule: toRule(db.prepare('SELECT * FROM rules WHERE id = ?').get(info.lastInsertRowid) as RuleRow), created: true };
  });
}

export function listRules(store: Store, filter: { domain?: Domain; limit: number; offset: number }): { rules: Rule[]; total: number } {
  const where = filter.domain ? 'WHERE domain = @domain' : '';
  const rows = store.db.prepare(`SELECT * FROM rules ${where} ORDER BY confidence DESC, id LIMIT @limit OFFSET @offset`).all({ domain: filter.domain, limit: filter.limit, offset: filter.offset }) as RuleRow[];
  const total = (store.db.prepare(`SELECT COUNT(*) AS n FROM rules ${where}`).get({ domain: filter.domain }) as { n: number }).n;
  return { rules: rows.map(toRule), total };
}

export function getRule(store: Store, id: number): Rule {
  const row = store.db.prepare('SELECT * FROM rules WHERE id = ?').get(id) as RuleRow | undefined;
  if (!row) throw new UserError(`No rule ${id}.`, 'List rules with rules {"action": "list"}.');
  return toRule(row);
}

export function deleteRule(store: Store, id: number): Rule {
  return store.write((db) => {
    const rule = getRule(store, id);
    db.prepare('DELETE FROM rules WHERE id = ?').run(id);
    return rule;
  });
}

export interface RuleMatch {
  rule: Rule;
  /** Context similarity, 0..1. */
  similarity: number;
  /** similarity x confidence: the ranking key. */
  score: number;
  reason: string;
}

/** Rules ranked by how well their context fits the situation, weighted by their confidence. */
export function matchRules(store: Store, facts: Situation, filter: { domain?: Domain; minScore?: number; limit: number }): RuleMatch[] {
  const where = filter.domain ? 'WHERE domain = ?' : '';
  const rows = store.db.prepare(`SELECT * FROM rules ${where} ORDER BY id LIMIT 5000`).all(...(filter.domain ? [filter.domain] : [])) as RuleRow[];
  return rows
    .map(toRule)
    .map((rule) => {
      const m = matchContext(rule.context, facts);
      return { rule, similarity: round(m.score), score: round(m.score * rule.confidence), reason: m.reasons.join('; ') };
    })
    .filter((m) => m.score >= (filter.minScore ?? 0))
    .sort((a, b) => b.score - a.score || b.rule.confidence - a.rule.confidence || a.rule.id - b.rule.id)
    .slice(0, filter.limit);
}

/** A fingerprint that changes whenever any rule changes (for caches such as the knowledge index). */
export function rulesVersion(store: Store): string {
  const r = store.db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(updated_ms), 0) AS t, COALESCE(SUM(id), 0) AS s FROM rules').get() as { n: number; t: number; s: number };
  return `${r.n}:${r.t}:${r.s}`;
}

function round(x: number): number {
  return Number(x.toFixed(3));
}
