/** nccl_params: the NCCL parameter space, and validation of a proposed config against it. */
import { z } from 'zod';
import { READ_ONLY, defineTool } from '../../core/tool.js';
import { PARAM_TYPES, RISKS, filterParams, paramStatus, paramTable, type ParamSpec } from '../params/table.js';
import { problemSchema } from '../schemas.js';
import { validateNcclEnv } from '../params/validate.js';

const paramSchema = z.object({
  name: z.string(),
  type: z.enum(PARAM_TYPES),
  category: z.string(),
  risk: z.enum(RISKS),
  status: z.enum(['current', 'deprecated', 'removed']),
  default: z.string().nullable().describe("NCCL's default; null when NCCL decides at runtime."),
  values: z.array(z.string()).optional(),
  range: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  allowed: z.array(z.number()).optional(),
  since: z.string().nullable().describe('First NCCL release with it; null: older than this table tracks, or not recorded.'),
  deprecated_since: z.string().nullable().optional(),
  replaced_by: z.string().optional(),
  description: z.string(),
  notes: z.string().optional(),
});

export const validationSchema = z.object({
  ok: z.boolean().describe('No errors (warnings may remain).'),
  normalized: z.record(z.string(), z.string()).describe('The config to apply: canonical spelling, deprecated names renamed, removed ones dropped.'),
  errors: z.array(problemSchema),
  warnings: z.array(problemSchema),
  variables: z.array(
    z.object({
      name: z.string(),
      value: z.string(),
      risk: z.enum(RISKS).nullable(),
      status: z.enum(['current', 'deprecated', 'removed', 'unknown', 'not-nccl']),
    }),
  ),
});

export const ncclParamsTool = defineTool({
  name: 'nccl_params',
  toolset: 'nccl',
  title: 'NCCL parameter space',
  description:
    'Describe NCCL\'s tuning variables, or validate a proposed NCCL config. ' +
    'describe: every variable (or those matching names, risk class, category or text) with type, allowed values or range, default, the release that introduced or replaced it, and its risk class (tuning, debug-only, may-corrupt-data, dangerous). ' +
    'validate: the NCCL_ALGO/NCCL_PROTO grammar (lists, ^ exclusion, per-collective rules), ranges, deprecated and removed names, typos in names (with suggestions), rules across variables; returns the normalized config, warnings and errors, each with the offending token.',
  annotations: READ_ONLY,
  input: z.object({
    action: z.enum(['describe', 'validate']).default('describe').describe('describe the parameter space, or validate config.'),
    names: z.array(z.string()).optional().describe('describe: only these variables, e.g. ["NCCL_ALGO","NCCL_PROTO"].'),
    risk: z.enum(RISKS).optional().describe('describe: only this risk class.'),
    category: z.string().optional().describe('describe: only this category (algorithm, resources, transport, network, plugin, config, debug).'),
    query: z.string().optional().describe('describe: substring of name or description.'),
    config: z.record(z.string(), z.string()).optional().describe('validate: the variables to check, e.g. {"NCCL_ALGO":"ring,tree;allreduce:nvls"}.'),
    nccl_version: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional().describe('validate: the NCCL release it is for (e.g. "2.21.5"); default: current NCCL.'),
  }),
  output: z.object({
    action: z.enum(['describe', 'validate']),
    covers: z.string(),
    params: z.array(paramSchema).optional(),
    validation: validationSchema.optional(),
  }),
  async handler(args) {
    const covers = paramTable().covers;
    if (args.action === 'validate') {
      return { action: 'validate' as const, covers, validation: validateNcclEnv(args.config ?? {}, { ncclVersion: args.nccl_version }) };
    }
    const params = filterParams({ names: args.names, risk: args.risk, category: args.category, query: args.query }).map(describeParam);
    return { action: 'describe' as const, covers, params };
  },
  summarize(r) {
    if (r.validation) {
      const v = r.validation;
      const head = v.ok ? `Valid (${v.warnings.length} warning(s)).` : `${v.errors.length} error(s), ${v.warnings.length} warning(s).`;
      const problems = [...v.errors.map((e) => `ERROR ${e.message}`), ...v.warnings.map((w) => `warn ${w.message}`)].slice(0, 8);
      return [head, ...problems, `Normalized: ${JSON.stringify(v.normalized)}`].join('\n');
    }
    return `${r.params!.length} parameter(s): ${r.params!.map((p) => `${p.name} [${p.risk}${p.status !== 'current' ? `, ${p.status}` : ''}]`).join(', ')}`;
  },
});

function describeParam(p: ParamSpec): z.infer<typeof paramSchema> {
  return {
    name: p.name,
    type: p.type,
    category: p.category,
    risk: p.risk,
    status: paramStatus(p),
    default: p.default,
    ...(p.values ? { values: p.values } : {}),
    ...(p.min !== undefined || p.max !== undefined ? { range: { min: p.min, max: p.max } } : {}),
    ...(p.allowed ? { allowed: p.allowed } : {}),
    since: p.since,
    ...(p.deprecated_since !== undefined ? { deprecated_since: p.deprecated_since } : {}),
    ...(p.replaced_by ? { replaced_by: p.replaced_by } : {}),
    description: p.description,
    ...(p.notes ? { notes: p.notes } : {}),
  };
}
