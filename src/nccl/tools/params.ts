/** nccl_params: the NCCL parameter space, and validation of a proposed config against it. */
import { z } from 'zod';
import { READ_ONLY, defineTool } from '../../core/tool.js';
import { describeParams } from '../params/space.js';
import { PARAM_TYPES, RISKS, paramTable } from '../params/table.js';
import { VARIABLE_STATUSES, validateNcclEnv } from '../params/validate.js';
import { problemSchema } from '../schemas.js';

const version = z.string().regex(/^\d+\.\d+(\.\d+)?$/);

const paramSchema = z.object({
  name: z.string(),
  type: z.enum(PARAM_TYPES),
  category: z.string(),
  risk: z.enum(RISKS),
  documented: z.boolean().describe("In NCCL's environment-variable documentation; false: only NCCL's sources read it."),
  status: z.enum(['current', 'deprecated', 'removed']),
  default: z.string().nullable().describe("NCCL's default in that release; null when NCCL decides at runtime."),
  values: z.array(z.string()).optional().describe('Accepted words (or elements of a list) in that release.'),
  range: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  allowed: z.array(z.number()).optional(),
  since: z.string().nullable().describe('First NCCL release that reads it; null: older than 2.3.5, the oldest release scanned.'),
  removed_in: z.string().nullable().describe('First release that no longer reads it; null: the newest still does.'),
  deprecated_since: z.string().optional(),
  replaced_by: z.string().optional(),
  description: z.string(),
  notes: z.string().optional(),
});

export const validationSchema = z.object({
  ok: z.boolean().describe('No errors (warnings may remain): NCCL would apply every value as written.'),
  nccl_version: z.string().describe('The release the verdict is for.'),
  normalized: z.record(z.string(), z.string()).describe('The config to apply: the same variables, values in canonical spelling (or the value NCCL would really use).'),
  errors: z.array(problemSchema),
  warnings: z.array(problemSchema),
  variables: z.array(
    z.object({
      name: z.string(),
      value: z.string(),
      risk: z.enum(RISKS).nullable(),
      status: z.enum(VARIABLE_STATUSES),
    }),
  ),
});

export const ncclParamsTool = defineTool({
  name: 'nccl_params',
  toolset: 'nccl',
  title: 'NCCL parameter space',
  description:
    "Describe NCCL's environment variables, or validate a proposed NCCL config for a given NCCL release. " +
    'describe: every documented variable (or those matching names, risk class, category or text; undocumented ones read by NCCL\'s sources on request) with type, values or range, default, the releases that read it, and its risk class (tuning, debug-only, may-corrupt-data, dangerous). ' +
    'validate: each value the way that release parses it (NCCL_ALGO/NCCL_PROTO grammar, strtoll integers, case-sensitive levels, device lists), variables the release does not read, typos in names, rules across variables; returns the normalized config, warnings and errors, each with the offending token.',
  annotations: READ_ONLY,
  input: z.object({
    action: z.enum(['describe', 'validate']).default('describe').describe('describe the parameter space, or validate config.'),
    names: z.array(z.string()).optional().describe('describe: only these variables, e.g. ["NCCL_ALGO","NCCL_PROTO"].'),
    risk: z.enum(RISKS).optional().describe('describe: only this risk class.'),
    category: z.string().optional().describe('describe: only this category (algorithm, resources, transport, network, memory, runtime, init, plugin, config, debug, ras, undocumented).'),
    query: z.string().optional().describe('describe: substring of name or description.'),
    undocumented: z.boolean().default(false).describe('describe: include variables NCCL reads without documenting them.'),
    config: z.record(z.string(), z.string()).optional().describe('validate: the variables to check, e.g. {"NCCL_ALGO":"ring,tree;allreduce:nvls"}.'),
    nccl_version: version.optional().describe('The NCCL release (e.g. "2.21.5"): validate for it, or describe only what it reads, with its defaults. Default: the newest release the table knows.'),
  }),
  output: z.object({
    action: z.enum(['describe', 'validate']),
    covers: z.string(),
    nccl_version: z.string(),
    params: z.array(paramSchema).optional(),
    validation: validationSchema.optional(),
  }),
  async handler(args) {
    const { covers, newest } = paramTable();
    const ncclVersion = args.nccl_version ?? newest;
    if (args.action === 'validate') {
      return { action: 'validate' as const, covers, nccl_version: ncclVersion, validation: validateNcclEnv(args.config ?? {}, { ncclVersion }) };
    }
    const params = describeParams({
      names: args.names,
      risk: args.risk,
      category: args.category,
      query: args.query,
      undocumented: args.undocumented,
      ncclVersion: args.nccl_version,
    });
    return { action: 'describe' as const, covers, nccl_version: ncclVersion, params };
  },
  summarize(r) {
    if (r.validation) {
      const v = r.validation;
      const head = `NCCL ${v.nccl_version}: ${v.ok ? `valid (${v.warnings.length} warning(s)).` : `${v.errors.length} error(s), ${v.warnings.length} warning(s).`}`;
      const problems = [...v.errors.map((e) => `ERROR ${e.message}`), ...v.warnings.map((w) => `warn ${w.message}`)].slice(0, 8);
      return [head, ...problems, `Normalized: ${JSON.stringify(v.normalized)}`].join('\n');
    }
    return `${r.params!.length} parameter(s) for NCCL ${r.nccl_version}: ${r.params!.map((p) => `${p.name} [${p.risk}${p.status !== 'current' ? `, ${p.status}` : ''}]`).join(', ')}`;
  },
});
