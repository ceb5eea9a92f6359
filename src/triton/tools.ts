/** The triton toolset: triton_profile and triton_verify here, the case tools in case-tools.ts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { jobOutputSchema } from '../core/jobs.js';
import { RUNS_CLIENT_CODE, defineTool, runAsJob, summarizeJob, waitSeconds } from '../core/tool.js';
import { findWorkload } from '../learn/workloads.js';
import { candidateArg, candidatePathArg, caseArg, casesDirArg, deviceArg, entryArg, interpretArg, seedsArg } from './args.js';
import { tritonCasesTool, tritonCreateCaseTool } from './case-tools.js';
import { candidateSource, writeCandidate } from './candidate.js';
import { runProfile } from './profile.js';
import { ensureReference } from './reference.js';
import { profileSummarySchema, verifyResultSchema, type VerifyResult } from './schemas.js';
import { prepareRun, verifyCandidate } from './verify.js';
import { summarizeVerify, summarizeProfile } from './summaries.js';

const DTYPES = ['float32', 'float16', 'bfloat16', 'float64'];

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
    'Profile a case\'s baseline (or a candidate) with torch.profiler on the case\'s inputs. Returns the top operators by self time (device time on CUDA, CPU time otherwise) and where the Chrome trace is; ' +
    'the trace is also an MCP resource (tuneloop://triton/jobs/{job_id}/trace). A job: poll with job_status.',
  annotations: RUNS_CLIENT_CODE,
  input: z.object({
    case: caseArg,
    cases_dir: casesDirArg,
    candidate: candidateArg.describe('Profile this candidate source instead of the baseline.'),
    candidate_path: candidatePathArg,
    entry: entryArg,
    device: deviceArg,
    steps: z.number().int().min(1).max(50).default(5).describe('Profiled iterations (after 2 warmup and 2 schedule steps).'),
    row_limit: z.number().int().min(1).max(100).default(20).describe('Operators in the table and in top_operators.'),
    wait_s: waitSeconds,
  }),
  output: jobOutputSchema(profileResultSchema),
  async handler(args, ctx) {
    const runtime = ctx.runtime;
    const source = candidateSource(args.candidate, args.candidate_path, false);
    // No interpret mode here: under TRITON_INTERPRET=1 a profile shows the interpreter, not the kernel.
    const { probe, caseInfo, device, notes } = await prepareRun(runtime, { caseName: args.case, casesDir: args.cases_dir, source, device: args.device, interpret: false }, ctx.signal);
    const params = { ...args, candidate: source === null ? undefined : `<${Buffer.byteLength(source)} bytes>` };
    return runAsJob(ctx, 'triton_profile', params, args.wait_s, async (job) => {
      job.progress({ done: 0, total: 2, message: 'reference inputs' });
      const ref = await ensureReference(runtime, { caseInfo, seeds: 5, device, small: false, torchVersion: probe.torch!, signal: job.signal, logFile: job.logFile });
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
    'Check a candidate implementation of a case honestly, then time it. The reference runs in its own process (cached), the candidate in a fresh one on poisoned memory over several seeds, ' +
    'and a third process that never imports the candidate judges shape/dtype/device, NaN/Inf positions, per-dtype tolerances, float16 downcasts, input mutation, determinism, ' +
    'sensitivity to the inputs, stale caches (new data in the same buffers) and late writes; a static scan and runtime observations flag cheats. ' +
    'Correct candidates are timed against the baseline interleaved (do_bench on CUDA, labelled CPU timings otherwise) with a noise-aware speedup; above 10x is flagged. ' +
    'Verdict: compile_error | incorrect | suspicious | correct_faster | correct_slower | correct (untimed). Records a run in history and archives the bundle. A job: poll with job_status.',
  annotations: RUNS_CLIENT_CODE,
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

export const tritonTools = [tritonCasesTool, tritonCreateCaseTool, tritonProfileTool, tritonVerifyTool];
