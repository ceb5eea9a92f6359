/** The triton toolset: cases, profiling, and a verification that cannot be fooled easily. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { jobOutputSchema } from '../core/jobs.js';
import { READ_ONLY, defineTool, runAsJob, summarizeJob, waitSeconds } from '../core/tool.js';
import { findWorkload } from '../learn/workloads.js';
import { caseRoots, createCase, listCases, showCase, type CaseInfo } from './cases.js';
import { runProfile } from './profile.js';
import { ensureReference } from './reference.js';
import { profileSummarySchema, verifyResultSchema, type VerifyResult } from './schemas.js';
import { prepareRun, verifyCandidate } from './verify.js';
import { summarizeVerify, summarizeProfile } from './summaries.js';

const MAX_SOURCE_BYTES = 1 << 20;
const DTYPES = ['float32', 'float16', 'bfloat16', 'float64'];

const caseArg = z.string().describe('Case name, as listed by triton_cases {"action": "list"}.');
const casesDirArg = z.string().optional().describe('An extra folder of cases, searched first (after it: TUNELOOP_CASES, <data dir>/cases, the built-in examples).');
const candidateArg = z.string().optional().describe('The candidate module source: defines ModelNew (same constructor as the reference, same parameter names) or a function named by entry. Give this or candidate_path.');
const candidatePathArg = z.string().optional().describe('Path of a candidate .py file to read instead of candidate (e.g. a path listed by triton_cases show).');
const entryArg = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('ModelNew').describe('The class (built with the reference\'s init_kwargs, then given its weights) or function to call.');
const deviceArg = z.enum(['auto', 'cpu', 'cuda']).default('auto').describe('auto: the case\'s preference when available (cuda falls back to cpu, and says so).');
const interpretArg = z.boolean().default(false).describe('Run Triton kernels with TRITON_INTERPRET=1 on the CPU with the case\'s small shapes: correctness only, never timed. Needs triton installed.');
const seedsArg = z.number().int().min(2).max(16).default(5).describe('Input seeds (each a fresh draw; seeds cycle through the case\'s distributions).');

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
    'List the Triton verification cases (a PyTorch module + an input schema) or show one: its manifest, model source and shipped candidates. ' +
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
    'Create a case from a PyTorch module\'s source and a manifest (YAML or JSON: model {class, init_kwargs}, device, inputs {args, kwargs} with shape/dtype/distribution/layout, optional weights and tolerances; see triton_cases show for examples). ' +
    'The case is validated by running it once (import, build, synthesize inputs, forward) before it is saved to <data dir>/cases/<name>; then triton_verify and triton_profile can use it.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
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

const profileResultSchema = z.object({
  case: z.string(),
  device: z.enum(['cpu', 'cuda']),
  notes: z.array(z.string()),
  reference_cached: z.boolean(),
  profile: profileSummarySchema,
  table_preview: z.string().describe('The first lines of the operator table (the whole table is at profile.table_path).'),
});

export const tritonProfileTool = defineTool({
  name: 'triton_profile',
  toolset: 'triton',
  title: 'Profile a Triton case',
  description:
    'Profile a case\'s baseline (or a candidate) with torch.profiler on the case\'s inputs: returns the top operators by self time (device time on CUDA, CPU time otherwise) and where the Chrome trace is; ' +
    'the trace is also an MCP resource (tuneloop://triton/jobs/{job_id}/trace). A job: poll with job_status.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    case: caseArg,
    cases_dir: casesDirArg,
    candidate: candidateArg.describe('Profile this candidate source instead of the baseline.'),
    candidate_path: candidatePathArg,
    entry: entryArg,
    device: deviceArg,
    interpret: interpretArg,
    steps: z.number().int().min(1).max(50).default(5).describe('Profiled iterations (after 2 warmup and 2 schedule steps).'),
    row_limit: z.number().int().min(1).max(100).default(20).describe('Operators in the table and in top_operators.'),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(profileResultSchema),
  async handler(args, ctx) {
    const runtime = ctx.runtime;
    const source = candidateSource(args.candidate, args.candidate_path, false);
    const { probe, caseInfo, device, notes } = await prepareRun(runtime, { caseName: args.case, casesDir: args.cases_dir, source, device: args.device, interpret: args.interpret }, ctx.signal);
    const params = { ...args, candidate: source === null ? undefined : `<${Buffer.byteLength(source)} bytes>` };
    return runAsJob(ctx, 'triton_profile', params, args.wait_s, async (job) => {
      job.progress({ done: 0, total: 2, message: 'reference inputs' });
      const ref = await ensureReference(runtime, { caseInfo, seeds: 5, device, small: args.interpret, torchVersion: probe.torch!, signal: job.signal, logFile: job.logFile });
      let candidatePath: string | null = null;
      if (source !== null) {
        candidatePath = join(job.dir, 'experiment', 'candidate.py');
        writeCandidate(candidatePath, source);
      }
      job.progress({ done: 1, total: 2, message: `profiling the ${source === null ? 'baseline' : 'candidate'}` });
      const { summary, outcome } = await runProfile(runtime.config, {
        jobId: job.id,
        jobDir: job.dir,
        referenceDir: ref.dir,
        candidatePath,
        entry: args.entry,
        steps: args.steps,
        rowLimit: args.row_limit,
        interpret: args.interpret,
        timeoutMs: 600_000,
        signal: job.signal,
        logFile: job.logFile,
        transcriptDir: join(job.dir, 'experiment', 'harness'),
      });
      if (!summary) {
        const message = outcome.error?.message ?? (outcome.timedOut ? 'the profile phase timed out' : `the profile process ended without a result (exit ${outcome.exitCode ?? outcome.signal})`);
        throw new UserError(`Profiling failed: ${message}`, 'Run triton_verify on the candidate for the full error; the job log has the harness output.');
      }
      const table = readFileSync(summary.table_path, 'utf8').split('\n').slice(0, 40).join('\n');
      return { case: caseInfo.name, device, notes, reference_cached: ref.cached, profile: summary, table_preview: table };
    });
  },
  summarize: (v) => summarizeJob(v, summarizeProfile),
});

export const tritonVerifyTool = defineTool({
  name: 'triton_verify',
  toolset: 'triton',
  title: 'Verify and benchmark a Triton candidate',
  description:
    'Check a candidate implementation of a case honestly, then time it: the reference runs in its own process (cached), the candidate in a fresh one on poisoned memory over several seeds, ' +
    'and a third process that never imports the candidate judges shape/dtype/device, NaN/Inf positions, per-dtype tolerances, float16 downcasts, input mutation, determinism, ' +
    'sensitivity to the inputs, stale caches (new data in the same buffers) and late writes; a static scan and runtime observations flag cheats. ' +
    'Correct candidates are timed against the baseline interleaved (do_bench on CUDA, labelled CPU timings otherwise) with a noise-aware speedup; above 10x is flagged. ' +
    'Verdict: compile_error | incorrect | suspicious | correct_faster | correct_slower | correct (untimed). Records a run in history and archives the bundle. A job: poll with job_status.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    case: caseArg,
    cases_dir: casesDirArg,
    candidate: candidateArg,
    candidate_path: candidatePathArg,
    entry: entryArg,
    experiment: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/).optional().describe('Name in the archive folder and history (default: <case>-<candidate hash>).'),
    seeds: seedsArg,
    device: deviceArg,
    interpret: interpretArg,
    tolerances: z
      .record(z.string(), z.object({ atol: z.number().min(0).optional(), rtol: z.number().min(0).optional() }))
      .optional()
      .describe('Per-dtype overrides, e.g. {"float32": {"atol": 1e-4, "rtol": 1e-3}}. Defaults: float32 1e-5/1e-4, float16 1e-3/1e-2, bfloat16 1e-2/2e-2, float64 1e-8/1e-7.'),
    allow_nondeterminism: z.boolean().default(false).describe('Accept run-to-run differences within tolerance (e.g. atomics) instead of requiring bitwise-identical reruns.'),
    bench: z.boolean().default(true).describe('Time a correct candidate against the baseline.'),
    bench_rounds: z.number().int().min(3).max(30).default(7).describe('Interleaved timing rounds per variant (the samples of the noise test).'),
    warmup_ms: z.number().min(0).max(10_000).default(25).describe('Warmup per variant before timing.'),
    rep_ms: z.number().min(1).max(10_000).default(100).describe('Time spent measuring per round and variant.'),
    profile: z.boolean().default(false).describe('Also profile the candidate (torch.profiler trace + operator table, in the archive).'),
    launch_params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe('Launch parameters this candidate uses (block sizes, num_warps...), recorded in the run\'s config beside the candidate hash.'),
    workload: z.string().optional().describe('Workload (id or name) to record the run under (default: triton.<case>, created on first use).'),
    compile_timeout_s: z.number().int().min(5).max(1800).default(180).describe('Import plus first call (Triton compiles at first launch).'),
    check_timeout_s: z.number().int().min(10).max(3600).default(600).describe('The whole check process.'),
    bench_timeout_s: z.number().int().min(10).max(3600).default(600).describe('The bench (and profile) process.'),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(verifyResultSchema),
  async handler(args, ctx) {
    const source = candidateSource(args.candidate, args.candidate_path, true)!;
    const tolerances = args.tolerances ?? {};
    for (const key of Object.keys(tolerances)) {
      if (!DTYPES.includes(key)) throw new UserError(`tolerances.${key}: not a floating dtype.`, `Use keys among ${DTYPES.join(', ')}.`);
    }
    if (args.compile_timeout_s > args.check_timeout_s) {
      throw new UserError(`compile_timeout_s (${args.compile_timeout_s}) exceeds check_timeout_s (${args.check_timeout_s}).`, 'The compile stage is part of the check process: make check_timeout_s the larger.');
    }
    if (args.workload) findWorkload(ctx.runtime.store, args.workload);
    const prepared = await prepareRun(ctx.runtime, { caseName: args.case, casesDir: args.cases_dir, source, device: args.device, interpret: args.interpret }, ctx.signal);
    const params = { ...args, candidate: `<${Buffer.byteLength(source)} bytes>` };
    return runAsJob(ctx, 'triton_verify', params, args.wait_s, (job) =>
      verifyCandidate(ctx.runtime, job, {
        caseName: args.case,
        casesDir: args.cases_dir,
        source,
        entry: args.entry,
        experiment: args.experiment,
        seeds: args.seeds,
        device: args.device,
        interpret: args.interpret,
        tolerances,
        allowNondeterminism: args.allow_nondeterminism,
        bench: args.bench,
        benchRounds: args.bench_rounds,
        warmupMs: args.warmup_ms,
        repMs: args.rep_ms,
        profile: args.profile,
        launchParams: args.launch_params ?? {},
        workload: args.workload,
        compileTimeoutS: args.compile_timeout_s,
        checkTimeoutS: args.check_timeout_s,
        benchTimeoutS: args.bench_timeout_s,
      }, prepared),
    );
  },
  summarize: (v) => summarizeJob<VerifyResult>(v, summarizeVerify),
});

/** The candidate's text from exactly one of the two arguments (or none, when optional). */
function candidateSource(inline: string | undefined, path: string | undefined, required: boolean): string | null {
  if (inline !== undefined && path !== undefined) throw new UserError('Give candidate or candidate_path, not both.', 'Pass the source inline, or the path of a .py file.');
  if (inline === undefined && path === undefined) {
    if (required) throw new UserError('No candidate: pass candidate (source) or candidate_path.', 'triton_cases {"action": "show"} lists candidate files shipped with a case.');
    return null;
  }
  let source = inline;
  if (path !== undefined) {
    try {
      source = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UserError(`candidate_path ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Pass the path of a readable .py file, or the source as candidate.');
    }
  }
  if (Buffer.byteLength(source!) > MAX_SOURCE_BYTES) throw new UserError(`The candidate is larger than ${MAX_SOURCE_BYTES >> 10} KiB.`, 'A candidate is one module of kernels and a wrapper.');
  if (source!.trim() === '') throw new UserError('The candidate is empty.', 'Pass a module that defines ModelNew (or the function named by entry).');
  return source!;
}

function writeCandidate(path: string, source: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, source);
}

export const tritonTools = [tritonCasesTool, tritonCreateCaseTool, tritonProfileTool, tritonVerifyTool];
