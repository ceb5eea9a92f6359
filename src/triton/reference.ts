/**
 * The reference cache: one entry per (case files, seeds, device, interpreter, torch, harness
 * sources) under <home>/cache/triton/reference/<key>/, holding every input set's expected outputs
 * and the weights (tlharness/refcache.py writes and reads them). Content-addressed: the SHA-256 of
 * every file is recorded in SQLite when the trusted process writes the entry, and the trusted
 * process checks every byte against it on every load; a mismatch (or an entry with no record) is
 * rebuilt, and the verify says so. The cache is never bound into a candidate's sandbox.
 *
 * Entries are built in a temporary folder and moved into place with their record in one store
 * transaction, so concurrent sessions never see half of one; beyond MAX_ENTRIES the least recently
 * used are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Runtime } from '../core/runtime.js';
import type { Device } from './environment.js';
import { HARNESS_PATH } from './harness.js';
import type { CaseInfo } from './cases.js';

const MAX_ENTRIES = 16;

export interface ReferenceRequest {
  caseInfo: CaseInfo;
  seeds: number;
  device: Device;
  torchVersion: string;
}

export interface ReferenceEntry {
  key: string;
  /** Where the entry lives (read by the trusted process when `digests` is set). */
  dir: string;
  /** Where the trusted process builds when it must. */
  buildDir: string;
  /** The recorded SHA-256 of each file, or null: no usable entry, it will be built. */
  digests: Record<string, string> | null;
}

export function cacheRoot(home: string): string {
  return join(home, 'cache', 'triton', 'reference');
}

export function referenceEntry(runtime: Runtime, request: ReferenceRequest): ReferenceEntry {
  const key = referenceKey(runtime, request);
  const dir = join(cacheRoot(runtime.config.home), key);
  const row = runtime.store.statement('SELECT digests FROM triton_reference WHERE key = ?').get(key) as { digests: string } | undefined;
  return { key, dir, buildDir: `${dir}.tmp-${randomBytes(4).toString('hex')}`, digests: row && existsSync(dir) ? (JSON.parse(row.digests) as Record<string, string>) : null };
}

/**
 * The trusted process built the entry in buildDir: move it into place and record its digests, in
 * one transaction. When another session recorded a valid entry meanwhile, theirs stays (the
 * contents are the same computation).
 */
export function commitBuilt(runtime: Runtime, entry: ReferenceEntry, caseName: string, digests: Record<string, string>, replaceRecorded: boolean): void {
  const now = Date.now();
  try {
    runtime.store.write((db) => {
      const row = db.prepare('SELECT digests FROM triton_reference WHERE key = ?').get(entry.key) as { digests: string } | undefined;
      // Recorded meanwhile by another session (or, for a rebuild, replaced meanwhile): theirs stays.
      if (row && existsSync(entry.dir) && (!replaceRecorded || row.digests !== JSON.stringify(entry.digests))) return;
      rmSync(entry.dir, { recursive: true, force: true });
      renameSync(entry.buildDir, entry.dir);
      db.prepare(
        `INSERT INTO triton_reference (key, case_name, digests, created_ms, used_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET digests = excluded.digests, created_ms = excluded.created_ms, used_ms = excluded.used_ms`,
      ).run(entry.key, caseName, JSON.stringify(digests), now, now);
    });
  } finally {
    rmSync(entry.buildDir, { recursive: true, force: true });
  }
  prune(runtime);
}

/** A cached entry was used: it moves to the end of the eviction queue. */
export function touchEntry(runtime: Runtime, key: string): void {
  runtime.store.write((db) => db.prepare('UPDATE triton_reference SET used_ms = ? WHERE key = ?').run(Date.now(), key));
}

/** Forget an entry whose build failed (a stale temporary folder is removed too). */
export function discardBuild(entry: ReferenceEntry): void {
  rmSync(entry.buildDir, { recursive: true, force: true });
}

function referenceKey(runtime: Runtime, r: ReferenceRequest): string {
  const info = r.caseInfo;
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ python: runtime.config.python, torch: r.torchVersion, seeds: r.seeds, device: r.device, harness: harnessFingerprint() }));
  hash.update(readFileSync(join(info.path, 'manifest.yaml')));
  hash.update(readFileSync(join(info.path, info.model?.file ?? 'model.py')));
  return `${info.name}-${hash.digest('hex').slice(0, 24)}`;
}

let fingerprint: string | undefined;

/** The harness sources: a changed harness never reuses references made by an older one. */
function harnessFingerprint(): string {
  if (!fingerprint) {
    const hash = createHash('sha256');
    const lib = join(dirname(HARNESS_PATH), 'tlharness');
    for (const file of readdirSync(lib).filter((f) => f.endsWith('.py')).sort()) hash.update(file).update(readFileSync(join(lib, file)));
    fingerprint = hash.digest('hex');
  }
  return fingerprint;
}

/** Keep the MAX_ENTRIES most recently used entries; remove the rest (record and folder). */
function prune(runtime: Runtime): void {
  const rows = runtime.store.statement('SELECT key FROM triton_reference ORDER BY used_ms DESC').all() as { key: string }[];
  const stale = rows.slice(MAX_ENTRIES).map((r) => r.key);
  if (!stale.length) return;
  runtime.store.write((db) => {
    for (const key of stale) {
      db.prepare('DELETE FROM triton_reference WHERE key = ?').run(key);
      rmSync(join(cacheRoot(runtime.config.home), key), { recursive: true, force: true });
    }
  });
}
