/**
 * diagnose_logs' engine: read every requested source line by line into one LineAnalyzer, then
 * rank findings, link knock-ons, correlate in time, and bound the answer.
 */
import type { Config } from '../../core/config.js';
import { SEVERITIES, loadCatalog, type Catalog, type Severity } from './catalog.js';
import { buildFindings, type Correlation, type Finding } from './analyze.js';
import { LineAnalyzer, type Evidence } from './matcher.js';
import { readDmesg, readEnds, readFileTail, readJournal, readText, type ReadOutcome } from './sources.js';
import { datedMs, formatStamp } from './timestamps.js';

export interface DiagnoseRequest {
  text?: string;
  files: string[];
  journalKernel: boolean;
  journalUnits: string[];
  since?: string;
  until?: string;
  boot?: string;
  dmesg: boolean;
  /** A tuneloop job's log: its id (the source name) and path. */
  jobLog?: { id: string; path: string };
  maxBytes: number;
  journalLines: number;
  maxFindings: number;
  maxEvidence: number;
  maxUnclassified: number;
  windowS: number;
  bootTimeMs?: number;
  now?: number;
  /** Called per chunk read from a file. */
  onProgress?: (p: { done: number; total: number; message: string }) => void;
}

export interface SourceSummary {
  name: string;
  lines: number;
  bytes: number;
  matched_lines: number;
  unclassified_lines: number;
  first_seen: string | null;
  last_seen: string | null;
  notes: string[];
}

export interface UnclassifiedPattern {
  pattern: string;
  count: number;
  first_seen: string | null;
  last_seen: string | null;
  sample: Evidence;
}

export interface DiagnoseResult {
  sources: SourceSummary[];
  severity_counts: Record<Severity, number>;
  findings: Finding[];
  findings_omitted: { case: string; severity: Severity; count: number }[];
  correlations: Correlation[];
  unclassified: { lines: number; patterns: number; dropped_patterns: number; top: UnclassifiedPattern[] };
}

export async function diagnose(config: Config, req: DiagnoseRequest, signal?: AbortSignal, catalog: Catalog = loadCatalog()): Promise<DiagnoseResult> {
  const now = req.now ?? (await referenceTime(req)) ?? Date.now();
  const analyzer = new LineAnalyzer(catalog, { maxEvidence: req.maxEvidence, now, bootTimeMs: req.bootTimeMs });
  const ingest = async (name: string, read: (sink: (line: string, no: number) => void) => Promise<ReadOutcome> | ReadOutcome): Promise<void> => {
    const stats = analyzer.source(name);
    const outcome = await read((line, no) => analyzer.feed(name, line, no));
    stats.notes.push(...outcome.notes);
  };

  if (req.text !== undefined) await ingest('text', (sink) => readText(req.text!, sink));
  const progress = (name: string) => (done: number, total: number) => req.onProgress?.({ done, total, message: `reading ${name}` });
  for (const [i, path] of req.files.entries()) await ingest(path, (sink) => readFileTail(path, `files[${i}]`, req.maxBytes, sink, signal, progress(path)));
  if (req.jobLog) await ingest(`job:${req.jobLog.id}`, (sink) => readFileTail(req.jobLog!.path, 'job_id', req.maxBytes, sink, signal, progress(req.jobLog!.id)));
  const journal = { since: req.since, until: req.until, boot: req.boot, maxLines: req.journalLines };
  if (req.journalKernel) await ingest('journal:kernel', (sink) => readJournal(config, { ...journal, kernel: true, units: [] }, sink, signal));
  if (req.journalUnits.length) await ingest(`journal:${req.journalUnits.join(',')}`, (sink) => readJournal(config, { ...journal, kernel: false, units: req.journalUnits }, sink, signal));
  if (req.dmesg) await ingest('dmesg', (sink) => readDmesg(config, sink, signal));

  const { findings, correlations } = buildFindings([...analyzer.cases.values()], { maxEvidence: req.maxEvidence, windowS: req.windowS });
  const severity_counts = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const kept = findings.slice(0, req.maxFindings);
  const keptIds = new Set(kept.map((f) => f.id));
  // Links into the omitted tail would dangle: keep the ids, which the omitted list explains.
  const patterns = [...analyzer.patterns].sort((a, b) => b[1].count - a[1].count);
  return {
    sources: analyzer.allSources().map((s) => ({
      name: s.name,
      lines: s.lines,
      bytes: s.bytes,
      matched_lines: s.matched_lines,
      unclassified_lines: s.unclassified_lines,
      first_seen: formatStamp({ ms: s.firstMs, mono: s.firstMono }),
      last_seen: formatStamp({ ms: s.lastMs, mono: s.lastMono }),
      notes: s.notes,
    })),
    severity_counts,
    findings: kept,
    findings_omitted: findings.filter((f) => !keptIds.has(f.id)).map((f) => ({ case: f.case, severity: f.severity, count: f.count })),
    correlations: correlations.slice(0, 10),
    unclassified: {
      lines: analyzer.allSources().reduce((n, s) => n + s.unclassified_lines, 0),
      patterns: analyzer.patterns.size,
      dropped_patterns: analyzer.patternsDropped,
      top: patterns.slice(0, req.maxUnclassified).map(([pattern, p]) => ({
        pattern,
        count: p.count,
        first_seen: formatStamp({ ms: p.firstMs, mono: p.firstMono }),
        last_seen: formatStamp({ ms: p.lastMs, mono: p.lastMono }),
        sample: p.sample,
      })),
    },
  };
}

/**
 * The latest dated line at either end of the text and files: year-less lines (PyTorch, vLLM,
 * syslog) from an incident months ago then land in its year, not this one, and correlate with
 * the journal's dated lines.
 */
async function referenceTime(req: DiagnoseRequest): Promise<number | undefined> {
  const ENDS = 64 * 1024;
  const texts = [
    ...(req.text !== undefined ? [req.text.length > 2 * ENDS ? `${req.text.slice(0, ENDS)}\n${req.text.slice(-ENDS)}` : req.text] : []),
    ...(await Promise.all([...req.files, ...(req.jobLog ? [req.jobLog.path] : [])].map((f) => readEnds(f, ENDS)))),
  ];
  let latest: number | undefined;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const ms = datedMs(line);
      if (ms !== undefined && (latest === undefined || ms > latest)) latest = ms;
    }
  }
  return latest;
}
