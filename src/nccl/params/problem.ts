/** What the validator reports: one problem per offending token, with a fix when there is one. */
import { distance } from 'fastest-levenshtein';

export interface Problem {
  /** The variable the problem is about (or the pair, e.g. "NCCL_MIN_CTAS/NCCL_MAX_CTAS"). */
  variable: string;
  /** The exact offending part of the value (or the name itself for unknown names). */
  token?: string;
  message: string;
  /** A corrected value or name to use instead, when one is evident. */
  suggestion?: string;
}

/** Collects errors and warnings while a config is checked. */
export class ProblemList {
  readonly errors: Problem[] = [];
  readonly warnings: Problem[] = [];

  error(variable: string, message: string, extra: Omit<Problem, 'variable' | 'message'> = {}): void {
    this.errors.push({ variable, message, ...extra });
  }

  warn(variable: string, message: string, extra: Omit<Problem, 'variable' | 'message'> = {}): void {
    this.warnings.push({ variable, message, ...extra });
  }
}

/**
 * The closest candidate to `word` (case-insensitive edit distance), if it is close enough to be a
 * plausible typo: at most 2 edits for short words, about a third of the length for longer ones.
 */
export function closestMatch(word: string, candidates: readonly string[], maxEdits?: number): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = maxEdits ?? Math.max(2, Math.floor(w.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Canonical spelling of a case-insensitive token, or undefined when it is not in the vocabulary. */
export function canonicalToken(token: string, vocabulary: readonly string[]): string | undefined {
  const t = token.toLowerCase();
  return vocabulary.find((v) => v.toLowerCase() === t);
}
