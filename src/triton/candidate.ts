/** The candidate's source, from the tool's arguments. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/errors.js';

const MAX_SOURCE_BYTES = 1 << 20;

/** The candidate's text from exactly one of the two arguments (or none, when optional). */
export function candidateSource(inline: string | undefined, path: string | undefined, required: boolean): string | null {
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

export function writeCandidate(path: string, source: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, source);
}
