/**
 * Two kinds of failure, decided where they are thrown:
 * - UserError: the caller can act on it (bad input, missing binary, no privileges). It reaches the
 *   client as an `isError` tool result whose text says what was wrong and what to do.
 * - any other Error: a bug. It is still returned as an error result (the server never crashes on
 *   a tool call), but its stack goes to stderr for whoever maintains tuneloop.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  /** What the caller can do about it: a command to run, a flag to pass, a value range. */
  readonly hint?: string;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    // Messages often quote the caller's input ("No workload \"...\""): bounded here, once for every site.
    super(boundErrorText(message), options);
    this.hint = hint === undefined ? undefined : boundErrorText(hint);
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** The text a client sees for a failed tool call: message, remedy, and the cause when there is one. */
export function formatErrorText(error: unknown): string {
  if (error instanceof UserError) {
    const parts = [error.message];
    if (error.hint) parts.push(`Remedy: ${error.hint}`);
    if (error.cause instanceof Error && error.cause.message !== error.message) {
      parts.push(`Cause: ${boundErrorText(error.cause.message)}`);
    }
    return parts.join('\n');
  }
  const message = boundErrorText(error instanceof Error ? error.message : String(error));
  return `Internal error in tuneloop: ${message}\nThis is a bug; the server log (stderr) has the stack trace.`;
}

/** Narrow an unknown thrown value to its message, for places that record failures as data. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Error texts quote at most this much of a caller's input: a 1 MB argument must not flood the client. */
export const MAX_QUOTED_INPUT = 200;

/** A caller's input as an error text may quote it: whole when short, else its start and its length. */
export function quoteInput(text: string, max = MAX_QUOTED_INPUT): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

const MAX_ERROR_LINE = 600;
const MAX_ERROR_LINES = 40;

/**
 * An error text with every over-long line cut in the middle (its start and end kept, the cut
 * marked) and at most MAX_ERROR_LINES lines: whatever input a message quotes, the text stays a few
 * KiB. Sites that quote input should still use quoteInput; this is the net under all of them.
 */
export function boundErrorText(text: string): string {
  let lines = text.split('\n');
  if (lines.length > MAX_ERROR_LINES) lines = [...lines.slice(0, MAX_ERROR_LINES - 10), `[... ${lines.length - MAX_ERROR_LINES + 1} lines omitted ...]`, ...lines.slice(-9)];
  return lines
    .map((l) => (l.length > MAX_ERROR_LINE ? `${l.slice(0, 400)}… (${l.length - 550} characters omitted) …${l.slice(-150)}` : l))
    .join('\n');
}
