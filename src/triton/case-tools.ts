/** triton_cases and triton_create_case: what can be verified, and adding to it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { READ_ONLY, RUNS_CLIENT_CODE, defineTool } from '../core/tool.js';
import { caseArg, casesDirArg } from './args.js';
import { caseRoots, createCase, listCases, showCase, type CaseInfo } from './cases.js';

const caseSummarySchema = z.object({
  name: z.string(),
  root: z.string(),
  path: z.string(),
  valid: z.boolean(),
  error: z.string().nullable(),
  description: z.string().nullable(),
  device: z.string().nullable(),
  inputs: z.array(z.record(z.string(), z.unknown())),
  candidates: z.array(z.string()).describe('Candidate files shipped with the case (pass one as candidate_path).'),
  shadowed_by: z.string().nullable().describe('Set when a case of the same name in an earlier root hides this one.'),
});

function caseSummary(c: CaseInfo) {
  return {
    name: c.name,
    root: c.root,
    path: c.path,
    valid: c.valid,
    error: c.error,
    description: c.description ?? null,
    device: c.device ?? null,
    inputs: (c.inputs ?? []) as unknown as Record<string, unknown>[],
    candidates: c.candidates,
    shadowed_by: c.shadowed_by ?? null,
  };
}

export const tritonCasesTool = defineTool({
  name: 'triton_cases',
  toolset: 'triton',
  title: 'List or show Triton cases',
  description:
    'List the Triton verification cases (a PyTorch module + an input schema) or show one. Show gives its manifest, model source and shipped candidates. ' +
    'Use show before writing a candidate: it must match the reference\'s constructor and parameter names. Add a case with triton_create_case; verify with triton_verify.',
  annotations: READ_ONLY,
  input: z.object({
    action: z.enum(['list', 'show']).describe('list every case, or show one.'),
    case: caseArg.optional().describe('show: the case name.'),
    cases_dir: casesDirArg,
  }),
  output: z.object({
    action: z.enum(['list', 'show']),
    roots: z.array(z.string()).describe('Where cases are searched, in order.'),
    cases: z.array(caseSummarySchema).optional(),
    case: caseSummarySchema
      .extend({
        model: z.record(z.string(), z.unknown()),
        tolerances: z.record(z.string(), z.unknown()),
        weights: z.record(z.string(), z.unknown()),
        manifest_yaml: z.string(),
        model_source: z.string(),
      })
      .optional(),
  }),
  async handler(args, { runtime, signal }) {
    const roots = caseRoots(runtime, args.cases_dir);
    if (args.action === 'list') {
      if (args.case) throw new UserError('list takes no case.', 'Use action "show" with case, or drop case.');
      const cases = await listCases(runtime, args.cases_dir, signal);
      return { action: 'list' as const, roots, cases: cases.map(caseSummary) };
    }
    if (!args.case) throw new UserError('show needs case.', 'List the names with triton_cases {"action": "list"}.');
    const info = await showCase(runtime, args.case, args.cases_dir, signal);
    return {
      action: 'show' as const,
      roots,
      case: {
        ...caseSummary(info),
        model: (info.model ?? {}) as Record<string, unknown>,
        tolerances: info.tolerances ?? {},
        weights: (info.weights ?? {}) as Record<string, unknown>,
        manifest_yaml: readFileSync(join(info.path, 'manifest.yaml'), 'utf8'),
        model_source: readFileSync(join(info.path, info.model?.file ?? 'model.py'), 'utf8'),
      },
    };
  },
  summarize(r) {
    if (r.cases) return `${r.cases.length} case(s): ${r.cases.map((c) => `${c.name}${c.valid ? '' : ' (invalid)'}${c.shadowed_by ? ' (shadowed)' : ''}`).join(', ') || 'none'}`;
    const c = r.case!;
    return `${c.name} (${c.path}): ${c.description ?? ''}\ninputs: ${c.inputs.map((i) => `${i.name} ${JSON.stringify(i.shape ?? i.value)} ${i.dtype ?? ''}`).join('; ')}\ncandidates: ${c.candidates.join(', ') || 'none'}`;
  },
});

export const tritonCreateCaseTool = defineTool({
  name: 'triton_create_case',
  toolset: 'triton',
  title: 'Create a Triton case',
  description:
    'Create a Triton case from a PyTorch module\'s source and a manifest. It is validated by running it once (import, build, synthesize inputs, forward) before it is saved to <data dir>/cases/<name>. ' +
    'The manifest (YAML or JSON) gives model {class, init_kwargs}, device, inputs {args, kwargs} with shape/dtype/distribution/layout, and optional weights and tolerances; triton_cases show prints examples. ' +
    'Then triton_verify and triton_profile can use the case.',
  annotations: RUNS_CLIENT_CODE,
  input: z.object({
    name: z.string().describe('Case name: 1-64 letters, digits, ".", "_" or "-".'),
    model_source: z.string().describe('model.py: an unmodified torch.nn.Module with a pure forward (and an optional weights initializer function).'),
    manifest: z.string().describe('manifest.yaml text (JSON is valid YAML).'),
    replace: z.boolean().default(false).describe('Replace a case of this name created earlier (the old one moves to <data dir>/cases-backup/).'),
  }),
  output: z.object({
    name: z.string(),
    path: z.string(),
    replaced_backup: z.string().nullable(),
    validation: z.record(z.string(), z.unknown()).describe('What the harness saw running it once: device, output shapes/dtypes, inputs, parameter count, forward time.'),
  }),
  async handler(args, { runtime, signal }) {
    return createCase(runtime, { name: args.name, modelSource: args.model_source, manifest: args.manifest, replace: args.replace, signal });
  },
  summarize(r) {
    const v = r.validation as { device?: string; structure?: string; forward_seconds?: number };
    return `Case ${r.name} saved to ${r.path}${r.replaced_backup ? ` (previous version: ${r.replaced_backup})` : ''}: forward returns ${v.structure} on ${v.device} in ${v.forward_seconds}s.`;
  },
});
