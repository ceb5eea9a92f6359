/**
 * NCCL release numbers: comparison, and the window of releases that read a variable. The window
 * comes from knowledge/nccl/code-params.json (which releases' sources read it, 2.3.5 onwards) and
 * from the documentation's "(since X)" where the sources cannot say (older releases, or a release
 * between two tags the scan covers).
 */

/** "2.21.5" vs "2.17": negative, zero or positive like a comparator; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `version` is at least `since` (a missing bound always holds). */
export function atLeast(version: string, since: string | null | undefined): boolean {
  return !since || compareVersions(version, since) >= 0;
}

/** The first version number in a documentation note such as "since 2.29U1" or "removed in 2.4.0". */
export function versionIn(text: string | undefined): string | null {
  const m = /(\d+\.\d+(?:\.\d+)?)/.exec(text ?? '');
  return m ? m[1] : null;
}

export interface ReadWindow {
  /** Inclusive [first, last] ranges of scanned releases whose sources read the variable. */
  read: [string, string][];
  /** Release from which the variable is read (null: older than anything recorded). */
  since: string | null;
  /** First scanned release that no longer reads it (null: still read by the newest). */
  removedIn: string | null;
}

export type Presence = 'read' | 'not-yet' | 'removed' | 'unknown';

/**
 * Whether release `version` reads a variable. Between two scanned releases the older one decides,
 * except that a documented "since" at or below `version` wins over a scan that only sees the
 * variable at the next tag (e.g. a 2.30.5 feature first tagged in 2.30.7).
 */
export function presenceIn(window: ReadWindow, scanned: readonly string[], version: string, docSince: string | null): Presence {
  if (window.read.length === 0) {
    // Never read by a scanned release: gone before the oldest scan (or never read by NCCL itself).
    if (compareVersions(version, scanned[0]) >= 0) return 'removed';
    return docSince && compareVersions(version, docSince) < 0 ? 'not-yet' : 'unknown';
  }
  const floor = [...scanned].reverse().find((s) => compareVersions(s, version) <= 0);
  const first = window.read[0][0];
  if (!floor) {
    // Older than every scanned release.
    if (first !== scanned[0]) return 'not-yet';
    return docSince && compareVersions(version, docSince) < 0 ? 'not-yet' : 'read';
  }
  if (window.read.some(([a, b]) => compareVersions(floor, a) >= 0 && compareVersions(floor, b) <= 0)) return 'read';
  if (compareVersions(floor, first) < 0) return docSince && compareVersions(docSince, version) <= 0 ? 'read' : 'not-yet';
  return 'removed';
}

/** The release a variable first appears in: the scan's first, or the documented one when it is finer. */
export function sinceOf(read: [string, string][], scanned: readonly string[], docSince: string | null): string | null {
  if (read.length === 0) return docSince;
  const first = read[0][0];
  if (first === scanned[0]) return docSince && compareVersions(docSince, first) < 0 ? docSince : null;
  const before = scanned[scanned.indexOf(first) - 1];
  return docSince && compareVersions(docSince, before) > 0 && compareVersions(docSince, first) < 0 ? docSince : first;
}

export function removedInOf(read: [string, string][], scanned: readonly string[]): string | null {
  if (read.length === 0) return null;
  const last = read.at(-1)![1];
  return last === scanned.at(-1) ? null : scanned[scanned.indexOf(last) + 1];
}
