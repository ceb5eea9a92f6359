/**
 * The candidate's source, from the tool's arguments, as bytes: a file is read as it is (a binary
 * file or a NUL byte is the harness's to report, as a compile_error with its position, not ours to
 * mangle into text).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';

const MAX_SOURCE_BYTES = 1 << 20;

/** The candidate's bytes from exactly one of the two arguments (or none, when optional). */
export function candidateSource(inline: string | undefined, path: string | undefined, required: boolean): Buffer | null {
  if (inline !== undefined && path !== undefined) throw new UserError('Give candidate or candidate_path, not both.', 'Pass the source inline, or the path of a .py file.');
  if (inline === undefined && path === undefined) {
    if (required) throw new UserError('No candidate: pass candidate (source) or candidate_path.', 'triton_cases {"action": "show"} lists candidate files shipped with a case.');
    return null;
  }
  let source: Buffer;
  if (path !== undefined) {
    try {
      source = readFileSync(path);
    } catch (error) {
      throw new UserError(`candidate_path ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'Pass the path of a readable .py file, or the source as candidate.');
    }
  } else {
    source = Buffer.from(inline!, 'utf8');
  }
  if (source.length > MAX_SOURCE_BYTES) throw new UserError(`The candidate is larger than ${MAX_SOURCE_BYTES >> 10} KiB.`, 'A candidate is one module of kernels and a wrapper.');
  if (source.toString('latin1').trim() === '') throw new UserError('The candidate is empty.', 'Pass a module that defines ModelNew (or the function named by entry).');
  return source;
}
