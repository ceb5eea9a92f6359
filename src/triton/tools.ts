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
import { candidateSource } from './candidate.js';
import { sandboxDirs, writeSandboxInputs } from './parties.js';
import { runProfile, type ProfileRequest } from './profile.js';
import { profileSummarySchema, verifyResultSchema, type VerifyResult } from './schemas.js';
import { prepareRun, verifyCandidate } from './verify.js';
import { summarizeVerify, summarizeProfile } from './summaries.js';

const DTYPES = ['float32', 'float16', 'bfloat16', 'float64'];

const profileResultSchema = z.object({
  case: z.string(),
  device: z.enum(['cpu', 'cuda']),
  notes: z.array(z.string()),
  reference_cached: z.boolean().nullable().describe('Whether the candidate\'s inputs came from a cached reference (null: the baseline was profiled, from its case).'),
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
    candidate: candidateArg.describe('Profile this candidate source instead of the baseline (it runs in the same sandbox as in triton_verify).'),
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
    const params = { ...args, candidate: source === null ? undefined : `<${source.length} bytes>` };
    return runAsJob(ctx, 'triton_profile', params, args.wait_s, async (job) => {
      const forbidden = [runtime.config.home, caseInfo.path];
      let candidate: ProfileRequest['candidate'] = null;
      let cached: boolean | null = null;
      if (source !== null) {
        job.progress({ done: 0, total: 2, message: 'the candidate\'s inputs, from the reference' });
        const dirs = sandboxDirs(join(job.dir, 'experiment'), source);
        const inputs = await writeSandboxInputs(runtime, job, { caseInfo, device, torchVersion: probe.torch!, dirs });
        cached = inputs.cached;
        candidate = { dirs, entry: args.entry, forbidden, threads: inputs.threads };
      }
      job.progress({ done: 1, total: 2, message: `profiling the ${source === null ? 'baseline' : 'candidate, in its sandbox'}` });
      const { summary, error } = await runProfile(runtime, {
        jobId: job.id,
        jobDir: job.dir,
        candidate,
        caseDir: caseInfo.path,
        device,
        steps: args.steps,
        rowLimit: args.row_limit,
        timeoutMs: 600_000,
        signal: job.signal,
        logFile: job.logFile,
      });
      if (!summary) throw new UserError(`Profiling failed: ${error}`, 'Run triton_verify on the candidate for the full error; the job log has the harness output.');
      const table = readFileSync(summary.table_path, 'utf8').split('\n').slice(0, 40).join('\n');
      return { case: caseInfo.name, device, notes, reference_cached: cached, profile: summary, table_preview: table };
    });
  },
  summarize: (v) => summarizeJob(v, summarizeProfile),
});

export const tritonVerifyTool = defineTool({
  name: 'triton_verify',
  toolset: 'triton',
  title: 'Verify and benchmark a Triton candidate',
  description:
    'Check a candidate implementation of a case against the reference, then time it against the baseline. The candidate runs in a sandbox (bubblewrap or unshare: no network, no data dir, ' +
    'no reference outputs, its own PID namespace) on every shape of the manifest and several seeds, with poisoned memory; a trusted process outside it holds the integrity-checked ' +
    'reference and judges shape/dtype/device, NaN/Inf positions, per-dtype tolerances, float16 downcasts, input mutation, determinism over spread repeats, shared output buffers, ' +
    'aliasing, sensitivity, stale caches and late writes. Correct candidates are timed in alternating rounds against the baseline in its own process, on fresh inputs every call, ' +
    'and every timed call\'s output is checked too; "faster" comes from the statistics module, a timer that disagrees with the wall clock or a speedup above 10x is flagged; ' +
    'a static scan and runtime observations flag cheats. Verdict: compile_error | incorrect | suspicious | correct_faster | correct_slower | correct (untimed); isolation says how ' +
    'the candidate was contained. Records a run in history (only sandboxed correct_* runs can be a best config) and archives the bundle. A job: poll with job_status.',
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
    bench_rounds: z.number().int().min(3).max(30).default(7).describe('Timing rounds per side, baseline and candidate alternating (the samples of the noise test; with 3, no difference is ever significant).'),
    warmup_ms: z.number().min(0).max(10_000).default(25).describe('Untimed calls per side before the rounds.'),
    rep_ms: z.number().min(1).max(10_000).default(100).describe('Wall time per round and side (calls and their untimed input writes and checks); the baseline\'s sizes the calls per round.'),
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
    const params = { ...args, candidate: `<${source.length} bytes>` };
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
