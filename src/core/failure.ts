/**
 * The failed-action rule: when what the caller asked for did not happen (a scheduler that never
 * attached, a build that did not compile, an nccl-tests run that failed, a job that failed, was
 * canceled or was interrupted), the answer is an MCP tool error (`isError: true`) that still carries
 * the structured result, and whose first text line is the cause in the failing program's own words
 * (the binary's error line, the compiler's first error). `tuneloop call` exits 1 on it.
 *
 * What is data rather than failure: a verdict the caller asked for (a Triton candidate judged
 * incorrect, a config that validates with errors, a comparison that finds no difference), and a
 * partial outcome that still answers the question (a sweep where some configs failed but the default
 * and others were measured) — those come back as successes whose text says what went wrong.
 *
 * Tools state the rule declaratively: `failure(result)` on the tool (server.ts consults it), or on
 * `runAsJob` for a job (the job then ends `failed`, keeping its result). A job that is not
 * `succeeded` is a failure wherever its view is returned (the starting tool, job_status).
 */

/** What the caller asked for did not happen; `result` is what there is to show for it. */
export class ActionFailed extends Error {
  override readonly name = 'ActionFailed';

  constructor(
    cause: string,
    readonly result: object,
  ) {
    super(firstLine(cause));
  }
}

/** A tool's rule: the cause when its result means the action did not happen, else null. */
export type FailureRule<R> = (result: R) => string | null;

const MAX_CAUSE = 500;

/** The first non-empty line, bounded: a cause is one line. */
export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'failed';
  return line.length > MAX_CAUSE ? `${line.slice(0, MAX_CAUSE)}…` : line;
}

const ERROR_LINE = /^\s*(?:\S+:\s*)?(?:error|fatal(?: error)?|panic(?:ked)?|Error|ERROR|FATAL|Fatal)\b/;
const TROUBLE = /\b(?:error|failed|failure|fatal|cannot|can't|unable|not found|denied|unexpected|invalid|refus\w+|abort\w*|segmentation fault|killed)\b/i;

/**
 * The line of a program's output that says what went wrong, in its own words: its first line that
 * reads like an error report ("error: ...", "Error: ...", "file.c:3:1: error: ..."), else its first
 * line naming trouble; null when no line does (callers fall back to what they know).
 */
export function errorLine(lines: readonly string[]): string | null {
  const text = lines.map((l) => l.trim()).filter(Boolean);
  const found = text.find((l) => ERROR_LINE.test(l)) ?? text.find((l) => TROUBLE.test(l));
  return found === undefined ? null : firstLine(found);
}
