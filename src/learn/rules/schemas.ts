/** Zod schemas of rules, their conditions and situations, shared by the rules and suggest_config tools. */
import { z } from 'zod';
import { DOMAINS } from '../runs.js';
import { comparisonSchema, directionSchema } from '../schemas.js';

const text = (what: string) => z.string().min(1).max(200).describe(what);
const range = z.strictObject({ min: z.number().optional(), max: z.number().optional() }).describe('Inclusive range; either end may be open.');

const TEXT_FIELDS = {
  classification: text('Workload classification (latency-sensitive, throughput, batch, interactive, mixed, other).'),
  workload: text('Workload name.'),
  host: text('Host name.'),
  cpu_model: text('CPU model, e.g. "AMD EPYC 7763 64-Core Processor".'),
  gpu_model: text('GPU model, e.g. "NVIDIA H100 80GB HBM3".'),
  kernel: text('Kernel release, e.g. "6.12.9".'),
  nccl_version: text('NCCL version, e.g. "2.21.5".'),
  collective: text('Collective, e.g. "all_reduce".'),
  scheduler: text('Scheduler in use, e.g. "scx_lavd" or "default".'),
  message_band: z.enum(['small', 'medium', 'large']).describe('Message-size band: small < 64 KiB <= medium < 16 MiB <= large.'),
};

/** A rule's conditions: only what matters for it; a missing key means "any". */
export const ruleContextSchema = z
  .strictObject({
    ...Object.fromEntries(Object.entries(TEXT_FIELDS).map(([k, v]) => [k, v.optional()])),
    tags: z.array(z.string().max(100)).max(20).optional().describe('Workload tags the rule applies to.'),
    nodes: range.optional().describe('Node count range.'),
    ranks: range.optional().describe('Rank count range.'),
    gpus: range.optional().describe('GPU count range.'),
    cpus: range.optional().describe('CPU count range.'),
  })
  .describe('Where the rule applies.');

/** Facts about the situation a client wants rules for. */
export const situationSchema = z
  .strictObject({
    ...Object.fromEntries(Object.entries(TEXT_FIELDS).map(([k, v]) => [k, v.optional()])),
    tags: z.array(z.string().max(100)).max(20).optional().describe('Workload tags.'),
    nodes: z.number().optional().describe('Nodes.'),
    ranks: z.number().optional().describe('Ranks.'),
    gpus: z.number().optional().describe('GPUs.'),
    cpus: z.number().optional().describe('CPUs.'),
  })
  .describe('Facts about the situation; missing facts count as unknown, neither match nor mismatch.');

export const ruleSchema = z.object({
  id: z.number().int(),
  domain: z.enum(DOMAINS),
  context: z.record(z.string(), z.unknown()),
  patch: z.record(z.string(), z.unknown()).describe('The config change that helped.'),
  metric: z.string().nullable(),
  direction: directionSchema.nullable(),
  gain: z.number().nullable().describe('Relative improvement over the baseline (0.12 = 12% better).'),
  confidence: z.number(),
  evidence: z.array(z.number().int()).describe('Run ids behind the rule.'),
  source: z.enum(['manual', 'derived']),
  note: z.string().nullable(),
  workload_id: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const ruleMatchSchema = z.object({
  rule: ruleSchema,
  similarity: z.number().describe('How well the context fits, 0..1.'),
  score: z.number().describe('similarity x confidence: the ranking key.'),
  reason: z.string(),
});

export const ruleCandidateSchema = z.object({
  domain: z.enum(DOMAINS),
  context: z.record(z.string(), z.unknown()),
  patch: z.record(z.string(), z.unknown()),
  metric: z.string().nullable().optional(),
  direction: directionSchema.nullable().optional(),
  gain: z.number().nullable().optional(),
  confidence: z.number(),
  evidence: z.array(z.number().int()).optional(),
  source: z.enum(['manual', 'derived']),
  note: z.string().nullable().optional(),
  workload_id: z.number().int().nullable().optional(),
  baseline_config_key: z.string(),
  config_key: z.string(),
  comparison: comparisonSchema,
  saved_rule_id: z.number().int().nullable(),
});
