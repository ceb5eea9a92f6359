/** The rules tool: what worked where, kept with its evidence, matched to new situations by similarity. */
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { defineTool } from '../../core/tool.js';
import { DOMAINS } from '../runs.js';
import { directionSchema } from '../schemas.js';
import { findWorkload, type Workload } from '../workloads.js';
import type { RuleContext, Situation } from './context.js';
import { situationFor } from './situation.js';
import { deriveRuleCandidates } from './derive.js';
import { ruleCandidateSchema, ruleContextSchema, ruleMatchSchema, ruleSchema, situationSchema } from './schemas.js';
import { deleteRule, listRules, matchRules, saveRule } from './store.js';

const ACTIONS = ['add', 'list', 'match', 'delete', 'derive'] as const;

export const rulesTool = defineTool({
  name: 'rules',
  toolset: 'history',
  title: 'Tuning rules: what worked where',
  description:
    'Keep and apply tuning rules: "in context C, config patch P beat the baseline by X", with evidence run ids and a confidence. ' +
    'add: record one (context conditions: workload class/tags, host, CPU/GPU model, kernel, nodes/ranks ranges, message band, scheduler...). ' +
    'match: rules ranked by weighted fuzzy similarity of their context to a situation (this host, a workload, facts you give) times confidence, each with the reason. ' +
    'derive: propose rules from history, one per config that beats its baseline significantly (the compare_runs test); save: true stores them. list, delete.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    action: z.enum(ACTIONS).describe('add | list | match | delete | derive.'),
    domain: z.enum(DOMAINS).optional().describe('add: the rule\'s domain (required). list/match/derive: only this domain.'),
    context: ruleContextSchema.optional().describe('add: where the rule applies (conditions; missing keys mean any).'),
    patch: z.record(z.string(), z.unknown()).optional().describe('add: the config change that helped, e.g. {"NCCL_PROTO": "LL128"} or {"scheduler": "scx_lavd", "flags": ["--performance"]}.'),
    metric: z.string().max(100).optional().describe('add: the metric it improved.'),
    direction: directionSchema.optional().describe('add: the metric\'s direction.'),
    gain: z.number().min(-10).max(100).optional().describe('add: relative improvement over the baseline, 0.12 = 12% better.'),
    confidence: z.number().min(0).max(1).default(0.5).describe('add: how sure, 0..1 (derived rules: 1 - p, lower with few runs).'),
    evidence: z.array(z.number().int()).max(200).optional().describe('add: run ids behind the rule.'),
    note: z.string().max(2000).optional().describe('add: free text.'),
    id: z.number().int().optional().describe('delete: the rule id.'),
    situation: situationSchema.optional().describe('match: facts about the situation.'),
    workload: z.string().optional().describe('match: take class, tags and name from this workload. derive: only this workload.'),
    from_host: z.boolean().default(true).describe('match: fill host, kernel, CPU model and CPU count from this host where not given.'),
    min_score: z.number().min(0).max(1).default(0).describe('match: leave out rules scoring below this.'),
    baseline_config_key: z.string().optional().describe('derive: the baseline config (default: the untuned default, else the first config measured).'),
    alpha: z.number().gt(0).lt(0.5).default(0.05).describe('derive: significance level.'),
    min_runs: z.number().int().min(2).max(100).default(3).describe('derive: runs each side needs.'),
    save: z.boolean().default(false).describe('derive: store the candidates as rules (same patch and context: refreshed, not duplicated).'),
    limit: z.number().int().min(1).max(200).default(20).describe('list/match/derive: how many.'),
    offset: z.number().int().min(0).default(0).describe('list: page offset.'),
  }),
  output: z.object({
    action: z.enum(ACTIONS),
    rule: ruleSchema.optional(),
    created: z.boolean().optional(),
    rules: z.array(ruleSchema).optional(),
    total: z.number().int().optional(),
    situation: z.record(z.string(), z.unknown()).optional().describe('match: the facts used.'),
    matches: z.array(ruleMatchSchema).optional(),
    candidates: z.array(ruleCandidateSchema).optional(),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    switch (args.action) {
      case 'add': {
        if (!args.domain || !args.patch) throw new UserError('add needs domain and patch.', 'Pass domain, patch, and context (where it applies); metric, gain, confidence and evidence are optional.');
        const workload = args.workload ? findWorkload(store, args.workload) : undefined;
        const { rule, created } = saveRule(store, {
          domain: args.domain,
          context: (args.context ?? {}) as RuleContext,
          patch: args.patch,
          metric: args.metric,
          direction: args.direction,
          gain: args.gain,
          confidence: args.confidence,
          evidence: args.evidence,
          source: 'manual',
          note: args.note,
          workload_id: workload?.id,
        });
        return { action: args.action, rule, created };
      }
      case 'list': {
        const { rules, total } = listRules(store, { domain: args.domain, limit: args.limit, offset: args.offset });
        return { action: args.action, rules, total };
      }
      case 'delete': {
        if (args.id === undefined) throw new UserError('delete needs id.', 'Find rule ids with rules {"action": "list"}.');
        return { action: args.action, rule: deleteRule(store, args.id) };
      }
      case 'match': {
        const situation = situationFor(store, (args.situation ?? {}) as Situation, args.workload, args.from_host);
        const matches = matchRules(store, situation, { domain: args.domain, minScore: args.min_score, limit: args.limit });
        return { action: args.action, situation, matches };
      }
      case 'derive': {
        const workload = args.workload ? findWorkload(store, args.workload) : undefined;
        const cache = new Map<number, Workload | undefined>();
        const byId = (id: number) => {
          if (!cache.has(id)) cache.set(id, findWorkloadOrUndefined(store, id));
          return cache.get(id);
        };
        const found = deriveRuleCandidates(store, { workload, domain: args.domain, baselineConfigKey: args.baseline_config_key, alpha: args.alpha, minRuns: args.min_runs }, byId).slice(0, args.limit);
        const candidates = found.map((c) => ({ ...c, saved_rule_id: args.save ? saveRule(store, c).rule.id : null }));
        return { action: args.action, candidates };
      }
    }
  },
  summarize(r) {
    if (r.action === 'add') return `${r.created ? 'Added' : 'Refreshed'} rule ${r.rule!.id}: ${JSON.stringify(r.rule!.patch)} (confidence ${r.rule!.confidence})`;
    if (r.action === 'delete') return `Deleted rule ${r.rule!.id}: ${JSON.stringify(r.rule!.patch)}`;
    if (r.action === 'list') return `${r.rules!.length} of ${r.total} rule(s)${r.rules!.map((x) => `\n  ${x.id} [${x.domain}] ${JSON.stringify(x.patch)} gain ${fmtGain(x.gain)} confidence ${x.confidence}`).join('')}`;
    if (r.action === 'match') return `${r.matches!.length} matching rule(s)${r.matches!.map((m) => `\n  ${m.rule.id} score ${m.score} (similarity ${m.similarity}): ${JSON.stringify(m.rule.patch)} gain ${fmtGain(m.rule.gain)}`).join('')}`;
    const c = r.candidates!;
    return `${c.length} rule candidate(s)${c.map((x) => `\n  ${JSON.stringify(x.patch)} gain ${fmtGain(x.gain ?? null)} confidence ${x.confidence}${x.saved_rule_id !== null ? ` -> rule ${x.saved_rule_id}` : ''}`).join('')}${c.length && c[0].saved_rule_id === null ? '\nNot saved: pass save: true to keep them.' : ''}`;
  },
});

function findWorkloadOrUndefined(store: Store, id: number): Workload | undefined {
  try {
    return findWorkload(store, id);
  } catch {
    return undefined;
  }
}

function fmtGain(g: number | null): string {
  return g === null ? 'n/a' : `${(g * 100).toFixed(1)}%`;
}
