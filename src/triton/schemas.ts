/** Output schemas of the Triton tools (the types the modules return are inferred from them). */
import { z } from 'zod';
import { VERDICTS } from './verdict.js';

const num = z.number().nullable();

export const checkSchema = z.object({
  name: z.string(),
  passed: z.boolean().nullable().describe('null: not run (the candidate produced no output, or the check does not apply).'),
  detail: z.string(),
});

export const flagSchema = z.object({
  code: z.string(),
  severity: z.enum(['suspicious', 'warning']).describe('suspicious: a correct candidate becomes "suspicious"; warning: reported only.'),
  source: z
    .enum(['static', 'runtime', 'bench', 'isolation'])
    .describe('static: the source scan; runtime: observed in the candidate\'s process (its own word: flags, not proofs); bench: the timing cross-checks; isolation: how the candidate was contained.'),
  detail: z.string(),
});

export const errorSchema = z.object({
  phase: z.string(),
  stage: z.string().nullable().describe('import, construct, call, timeout, crash.'),
  type: z.string(),
  message: z.string().describe('Verbatim (Triton compile errors carry "at L:C:" and the source line).'),
  location: z.object({ file: z.string().nullable(), line: z.number().nullable(), column: z.number().nullable() }).nullable(),
  traceback: z.string().nullable(),
});

export const outputErrorSchema = z.object({
  index: z.number().int(),
  path: z.string(),
  shape: z.array(z.number()).nullable(),
  dtype: z.string().nullable(),
  max_abs_error: num,
  max_rel_error: num.describe('max |got - expected| / (|expected| + atol).'),
  mismatches: num,
  elements: num,
  atol: num,
  rtol: num,
  worst_call: z.string().nullable(),
});

const variantTimingSchema = z.object({
  n: z.number(),
  mean: num,
  median: num.describe('Median over rounds of each round\'s median call time, ms.'),
  stdev: num,
  cv: num,
  min: num,
  max: num,
  rounds_ms: z.array(z.number()).describe('Each round\'s median call time, ms (the samples of the noise test).'),
  wall_ms: z.array(z.number()).describe('Each round\'s wall time as the server saw it, ms (calls plus the untimed input writes and checks).'),
  calls_per_s: num,
});

export const timingSchema = z.object({
  device: z.string(),
  method: z.string(),
  label: z.string().describe('What the numbers are; CPU timings say so.'),
  rounds: z.number().int(),
  calls_per_round: z.number().int(),
  baseline: variantTimingSchema.describe('Timed in the trusted process (never where the candidate runs).'),
  candidate: variantTimingSchema.describe('Timed in the candidate\'s sandbox, rounds alternating with the baseline\'s.'),
  speedup: z.number().describe('median(baseline) / median(candidate).'),
  verdict: z.enum(['faster', 'slower', 'no significant difference']),
  p_value: num,
  ci95_ms: z.tuple([z.number(), z.number()]).nullable(),
  explanation: z.string(),
  over_10x: z.boolean(),
  timer_check: z
    .object({
      baseline_overhead_ms: z.number(),
      candidate_timed_ms: z.number(),
      candidate_implied_ms: z.number(),
      mismatch: z.boolean(),
      detail: z.string(),
    })
    .describe('The candidate\'s timer against the wall time the server observed (mismatch: flag timer_mismatch).'),
});

export const kernelSchema = z.object({
  name: z.string(),
  python_name: z.string(),
  n_regs: num,
  n_spills: num,
  shared_bytes: num,
  num_warps: num,
  num_stages: num,
  best_config: z.string().nullable(),
  asm_path: z.string().nullable(),
});

export const compileSchema = z.object({ available: z.boolean(), note: z.string().nullable(), kernels: z.array(kernelSchema) });

export const operatorSchema = z.object({
  name: z.string(),
  calls: z.number(),
  self_cpu_us: num,
  cpu_total_us: num,
  self_device_us: num,
  device_total_us: num,
  input_shapes: z.string().nullable(),
});

export const profileSummarySchema = z.object({
  variant: z.enum(['baseline', 'candidate']),
  device: z.string(),
  steps: z.number().int(),
  sort_by: z.string(),
  trace_uri: z.string().describe('MCP resource with the Chrome trace (open in Perfetto or chrome://tracing).'),
  trace_path: z.string(),
  table_path: z.string(),
  top_operators: z.array(operatorSchema),
});

export const phaseSchema = z.object({
  phase: z.string(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  duration_ms: z.number(),
  timed_out: z.boolean(),
  stage_timed_out: z.string().nullable(),
});

export const referenceSchema = z.object({
  path: z.string(),
  cached: z.boolean(),
  integrity: z.string().nullable().describe('Set when the cached reference failed its SHA-256 check and was rebuilt: which file, what was recorded, what was found.'),
  deterministic: z.boolean().describe('The reference gives bitwise-identical outputs twice; then so must the candidate.'),
  sensitive: z.boolean(),
  randomized_parameters: z.array(z.string()).describe('Constant default parameters (LayerNorm weight=1, bias=0) replaced by random values.'),
});

export const verifyResultSchema = z.object({
  experiment: z.string(),
  case: z.string(),
  candidate_sha256: z.string(),
  entry: z.string(),
  verdict: z.enum(VERDICTS),
  verdict_reasons: z.array(z.string()),
  isolation: z
    .enum(['bwrap', 'unshare', 'none'])
    .describe('How the candidate was sandboxed: bwrap or unshare (nothing trusted inside), or none (flagged no_isolation; never a best config).'),
  device: z.enum(['cpu', 'cuda']),
  device_name: z.string().nullable(),
  interpret: z.boolean(),
  notes: z.array(z.string()),
  checks: z.array(checkSchema),
  flags: z.array(flagSchema),
  errors: z.array(errorSchema),
  outputs: z.array(outputErrorSchema),
  tolerances: z.record(z.string(), z.object({ atol: z.number(), rtol: z.number() })),
  seeds: z.array(z.number().int()),
  shape_variants: z.array(z.string()).describe('The manifest\'s input shapes checked: main, and small where the manifest gives small_shape.'),
  timing: timingSchema.nullable(),
  compile: compileSchema.nullable(),
  profile: profileSummarySchema.nullable(),
  reference: referenceSchema,
  phases: z.array(phaseSchema),
  versions: z.record(z.string(), z.unknown()),
  run_id: z.number().int().describe('The run recorded in history (get_history, compare_runs).'),
  archive: z.string().describe('The archived bundle: candidate, case, metrics.json, trace, compile info, versions, harness output.'),
  work_dir: z.string(),
});

export type VerifyResult = z.infer<typeof verifyResultSchema>;
export type ProfileSummary = z.infer<typeof profileSummarySchema>;
export type ErrorInfo = z.infer<typeof errorSchema>;
export type PhaseRecord = z.infer<typeof phaseSchema>;
