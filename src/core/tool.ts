/**
 * One declarative object per tool. `defineTool` is a typed identity function: the server reads the
 * metadata to register and gate the tool, and `tuneloop tools`, the README generator and the schema
 * snapshots read the same objects.
 */
import { z } from 'zod';
import type { Toolset } from './config.js';
import type { Runtime } from './runtime.js';
import { ActionFailed, type FailureRule } from './failure.js';
import { DEFAULT_WAIT_S, MAX_WAIT_S, type JobProgress, type JobRunner, type JobView } from './jobs.js';

/** All four hints, always set: the spec's defaults are pessimistic (destructive, open-world). */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolContext {
  readonly runtime: Runtime;
  /** Aborted when the client cancels this call. */
  readonly signal: AbortSignal;
  /** Sends notifications/progress when the client asked for them; a no-op otherwise. */
  reportProgress(progress: JobProgress): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyObject = z.ZodObject<any>;

export interface ToolDefinition<I extends AnyObject = AnyObject, O extends AnyObject = AnyObject> {
  /** snake_case, [a-z0-9_], at most 40 characters (Claude prefixes mcp__tuneloop__). */
  name: string;
  toolset: Toolset;
  title: string;
  /** What it does, when to use it, what it returns. The first sentence is the one-line purpose. */
  description: string;
  annotations: ToolAnnotations;
  /** Flat object schema, `.describe()` on every field. Unknown keys are refused. */
  input: I;
  output: O;
  handler(args: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
  /** A few lines a person could read; the structured result carries the data. */
  summarize(result: z.infer<O>): string;
  /**
   * The failed-action rule (core/failure.ts): the cause when this result means what the caller asked
   * for did not happen; the result then goes back as an isError result that still carries it. Job
   * tools give their rule to runAsJob instead, so the job itself ends failed.
   */
  failure?: FailureRule<z.infer<O>>;
}

export function defineTool<I extends AnyObject, O extends AnyObject>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/** Read-only tools that inspect the host or the store. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/**
 * Tools that run what the client supplies (a candidate's source, a workload's command, environment
 * variables such as LD_PRELOAD, launcher arguments): the tool can do whatever that code can, on this
 * host and beyond it, so it is annotated for that, not for what it means to do.
 */
export const RUNS_CLIENT_CODE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
};

/** The `wait_s` argument every job-starting tool takes. */
export const waitSeconds = z
  .number()
  .min(0)
  .max(MAX_WAIT_S)
  .default(DEFAULT_WAIT_S)
  .describe(
    `Seconds to wait for the job before returning {job_id, status: "running"} (max ${MAX_WAIT_S}; clients time out at 60). Poll with job_status.`,
  );

/**
 * Start a job and wait for it up to `waitS`, forwarding its progress to the caller. `failure` is the
 * tool's rule for its result: a result it names a cause for ends the job `failed` (result kept).
 * A job that ended other than `succeeded` is thrown as ActionFailed (see settleJob).
 */
export async function runAsJob<T extends object>(
  ctx: ToolContext,
  kind: string,
  params: unknown,
  waitS: number,
  run: JobRunner<T>,
  failure?: FailureRule<T>,
): Promise<Omit<JobView, 'result'> & { result?: T }> {
  const checked: JobRunner<T> = failure
    ? async (job) => {
        const result = await run(job);
        const cause = failure(result);
        if (cause) throw new ActionFailed(cause, result);
        return result;
      }
    : run;
  const id = ctx.runtime.jobs.start(kind, params, checked);
  const view = await ctx.runtime.jobs.wait(id, waitS, (p) => ctx.reportProgress(p), ctx.signal);
  return settleJob(view) as Omit<JobView, 'result'> & { result?: T };
}

/** A job view as a tool answers it: running or succeeded as is; failed, canceled or interrupted as ActionFailed. */
export function settleJob<V extends Pick<JobView, 'status' | 'error' | 'kind'>>(view: V): V {
  if (view.status === 'running' || view.status === 'succeeded') return view;
  throw new ActionFailed(view.error ?? `The ${view.kind} job ended ${view.status}.`, view);
}

/** The text of a job-starting tool's answer: how it went, and the result's own summary when done. */
export function summarizeJob<R>(view: Omit<JobView, 'result'> & { result?: unknown }, summarizeResult: (result: R) => string): string {
  const head = `Job ${view.job_id} (${view.kind}): ${view.status} after ${view.elapsed_s}s`;
  if (view.status === 'succeeded' && view.result) return `${head}\n${summarizeResult(view.result as R)}`;
  // A failed job may still have a result: what was done before it failed (a build's diagnostics).
  if (view.result) return `${head}${view.error ? `\n${view.error}` : ''}\n${summarizeResult(view.result as R)}`;
  if (view.status === 'running') {
    const p = view.progress;
    const progress = p.total ? ` (${p.done ?? 0}/${p.total})` : p.done !== undefined ? ` (${p.done})` : '';
    return `${head}${progress}${p.message ? `: ${p.message}` : ''}\nPoll with job_status {"job_id": "${view.job_id}"}.`;
  }
  return `${head}${view.error ? `\n${view.error}` : ''}`;
}
