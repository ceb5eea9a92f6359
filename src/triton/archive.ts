/**
 * Experiment bundles: <home>/archives/<UTC timestamp>-<experiment>-<speedup>x/ ("nax" when
 * nothing was timed) with the candidate, the case, metrics.json, the tool's result, versions,
 * the harness's stdout/stderr per phase, the profiler trace and table, and compile metadata (PTX
 * included) when there is any. Written to a temporary name and renamed: a bundle is whole or absent.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseInfo } from './cases.js';
import type { VerifyResult } from './schemas.js';

const MAX_COPIED_BYTES = 256 << 20;

export interface ArchiveInput {
  home: string;
  workDir: string;
  caseInfo: CaseInfo;
  result: Omit<VerifyResult, 'archive' | 'run_id'> & { run_id: number };
}

export function archiveName(experiment: string, speedup: number | null, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const safe = experiment.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'experiment';
  return `${stamp}-${safe}-${speedup === null ? 'na' : speedup.toFixed(2)}x`;
}

export function writeArchive(input: ArchiveInput): string {
  const { result, workDir } = input;
  const root = join(input.home, 'archives');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const base = archiveName(result.experiment, result.timing?.speedup ?? null);
  let dir = join(root, base);
  for (let i = 2; existsSync(dir); i++) dir = join(root, `${base}-${i}`);
  const tmp = `${dir}.partial`;
  mkdirSync(tmp, { recursive: true });
  cpSync(join(workDir, 'sandbox', 'in', 'candidate.py'), join(tmp, 'candidate.py'));
  mkdirSync(join(tmp, 'case'));
  cpSync(join(input.caseInfo.path, 'manifest.yaml'), join(tmp, 'case', 'manifest.yaml'));
  cpSync(join(input.caseInfo.path, input.caseInfo.model?.file ?? 'model.py'), join(tmp, 'case', input.caseInfo.model?.file ?? 'model.py'));
  for (const [from, to] of [
    ['harness', 'harness'],
    ['profile', 'profile'],
    [join('sandbox', 'out', 'compile'), 'compile'],
  ] as const) {
    // Written by processes that ran candidate code: regular files only (a link planted there
    // must not carry anything from outside into the bundle), and a bounded amount.
    let budget = MAX_COPIED_BYTES;
    const filter = (src: string): boolean => {
      const st = lstatSync(src);
      if (st.isDirectory()) return true;
      if (!st.isFile() || st.size > budget) return false;
      budget -= st.size;
      return true;
    };
    if (existsSync(join(workDir, from))) cpSync(join(workDir, from), join(tmp, to), { recursive: true, filter });
  }
  const finalResult = { ...result, archive: dir };
  writeFileSync(join(tmp, 'metrics.json'), `${JSON.stringify(metrics(finalResult), null, 1)}\n`);
  writeFileSync(join(tmp, 'result.json'), `${JSON.stringify(finalResult, null, 1)}\n`);
  writeFileSync(join(tmp, 'versions.json'), `${JSON.stringify(result.versions, null, 1)}\n`);
  if (result.compile) writeFileSync(join(tmp, 'compile.json'), `${JSON.stringify(result.compile, null, 1)}\n`);
  renameSync(tmp, dir);
  return dir;
}

/** Per-variant latency/throughput/memory, correctness, seeds, tolerances: the numbers of the bundle. */
function metrics(r: VerifyResult) {
  const variant = (v: NonNullable<VerifyResult['timing']>['baseline'] | undefined) =>
    v ? { latency_ms_median: v.median, latency_ms_rounds: v.rounds_ms, wall_ms_rounds: v.wall_ms, cv: v.cv, calls_per_s: v.calls_per_s } : null;
  return {
    experiment: r.experiment,
    case: r.case,
    verdict: r.verdict,
    verdict_reasons: r.verdict_reasons,
    isolation: r.isolation,
    device: r.device,
    device_name: r.device_name,
    interpret: r.interpret,
    timing_label: r.timing?.label ?? 'not timed',
    variants: { baseline: variant(r.timing?.baseline), candidate: variant(r.timing?.candidate) },
    speedup: r.timing?.speedup ?? null,
    speedup_verdict: r.timing?.verdict ?? null,
    p_value: r.timing?.p_value ?? null,
    correctness: { checks: r.checks, outputs: r.outputs, flags: r.flags },
    seeds: r.seeds,
    tolerances: r.tolerances,
    candidate_sha256: r.candidate_sha256,
    run_id: r.run_id,
  };
}
