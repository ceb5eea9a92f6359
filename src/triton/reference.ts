/**
 * Reference outputs, cached: the reference phase runs once per (case files, seeds, device, shapes,
 * interpreter, harness sources) and every later verify of any candidate reuses it. Entries are built
 * in a temporary folder and renamed into place, so concurrent sessions never see half of one; the
 * least recently used beyond MAX_ENTRIES are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Runtime } from '../core/runtime.js';
import type { Device } from './environment.js';
import { HARNESS_PATH, requireResult, runPhase, type PhaseOutcome } from './harness.js';
import type { CaseInfo } from './cases.js';

const MAX_ENTRIES = 16;

export interface OutputDescription {
  path: string;
  kind: 'tensor' | 'value';
  shape?: number[];
  dtype?: string;
  nbytes?: number;
  constant?: boolean;
}

/** meta.json as the reference phase writes it (the fields the server reads). */
export interface ReferenceMeta {
  case: string;
  case_dir: string;
  device: Device;
  small_shapes: boolean;
  seeds: number[];
  structure: string;
  outputs: OutputDescription[];
  input_tensors: { shape: number[]; dtype: string; contiguous: boolean }[];
  has_weights: boolean;
  randomized_parameters: string[];
  reference_deterministic: boolean;
  reference_sensitive: boolean;
  reference_seconds: number;
  versions: Record<string, unknown>;
  manifest: Record<string, unknown>;
}

export interface ReferenceRequest {
  caseInfo: CaseInfo;
  seeds: number;
  device: Device;
  small: boolean;
  torchVersion: string;
  signal?: AbortSignal;
  logFile?: string;
  transcriptDir?: string;
}

export interface Reference {
  dir: string;
  meta: ReferenceMeta;
  cached: boolean;
  /** The reference process, when this call ran one. */
  outcome: PhaseOutcome | null;
}

export async function ensureReference(runtime: Runtime, request: ReferenceRequest): Promise<Reference> {
  const root = join(runtime.config.home, 'cache', 'triton', 'reference');
  const dir = join(root, referenceKey(runtime, request));
  if (existsSync(join(dir, 'meta.json'))) {
    const now = new Date();
    utimesSync(dir, now, now);
    return { dir, meta: readMeta(dir), cached: true, outcome: null };
  }
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  const args = ['--case-dir', request.caseInfo.path, '--out', tmp, '--seeds', String(request.seeds), '--device', request.device];
  if (request.small) args.push('--small');
  let outcome: PhaseOutcome;
  try {
    outcome = await runPhase(runtime.config, 'reference', args, {
      timeoutMs: 600_000,
      signal: request.signal,
      logFile: request.logFile,
      cwd: dirname(tmp),
      tritonCacheDir: join(root, 'triton-cache'),
      transcriptDir: request.transcriptDir,
    });
    requireResult(outcome, runtime.config);
    try {
      renameSync(tmp, dir);
    } catch {
      // Another session built the same entry first: theirs is as good as ours.
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  prune(root);
  return { dir, meta: readMeta(dir), cached: false, outcome };
}

function readMeta(dir: string): ReferenceMeta {
  return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as ReferenceMeta;
}

function referenceKey(runtime: Runtime, r: ReferenceRequest): string {
  const info = r.caseInfo;
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ python: runtime.config.python, torch: r.torchVersion, seeds: r.seeds, device: r.device, small: r.small, harness: harnessFingerprint() }));
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

function prune(root: string): void {
  const entries = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.includes('.tmp-') && e.name !== 'triton-cache')
    .map((e) => ({ path: join(root, e.name), mtime: statSync(join(root, e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const stale of entries.slice(MAX_ENTRIES)) rmSync(stale.path, { recursive: true, force: true });
}
