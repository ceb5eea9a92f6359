/**
 * One diagnosis, as it runs inside the analysis worker: open and check the files, read text and
 * files into one LineAnalyzer under the byte and time bounds, take lines the main thread streams
 * from journalctl/dmesg, then rank findings, link knock-ons, correlate in time and bound the answer.
 * Plain code without worker plumbing (worker.ts carries the messages), so it can be tested directly.
 */
import { SEVERITIES, loadCatalog, type Catalog, type Severity } from './catalog.js';
import { buildFindings, type Correlation, type Finding } from './analyze.js';
import { closeLog, openLog, readEnds, readLog, type OpenLog, type Skipped } from './files.js';
import { LineAnalyzer, type Evidence } from './matcher.js';
import { datedMs, formatStamp } from './timestamps.js';

export interface AnalysisPlan {
  text?: string;
  /** name: the source name in the answer; field: the argument named in errors. */
  files: { name: string; path: string; field: string }[];
  maxBytes: number;
  /** Epoch ms after which no more input is read. */
  deadline: number;
  maxEvidence: number;
  bootTimeMs?: number;
  /** Reference time for year-less formats; found from the input when absent. */
  now?: number;
}

export interface FinishOptions {
  maxFindings: number;
  maxEvidence: number;
  maxUnclassified: number;
  windowS: number;
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
  skipped: Skipped[];
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
  /** True when the deadline stopped reading before every source was read to its bound. */
  deadline_reached: boolean;
  severity_counts: Record<Severity, number>;
  findings: Finding[];
  findings_omitted: { case: string; severity: Severity; count: number }[];
  correlations: Correlation[];
  unclassified: { lines: number; patterns: number; dropped_patterns: number; top: UnclassifiedPattern[] };
}

export type Progress = (p: { done: number; total: number; message: string }) => void;

export class Analysis {
  private readonly analyzer: LineAnalyzer;
  private readonly skipped = new Map<string, Skipped[]>();
  private deadlineReached = false;

  private constructor(
    private readonly plan: AnalysisPlan,
    private readonly logs: (OpenLog & { name: string })[],
    catalog: Catalog,
  ) {
    const now = plan.now ?? referenceTime(plan.text, logs) ?? Date.now();
    this.analyzer = new LineAnalyzer(catalog, { maxEvidence: plan.maxEvidence, now, bootTimeMs: plan.bootTimeMs });
  }

  /** Opens and checks every file first, so a bad path fails the call before any work is done. */
  static open(plan: AnalysisPlan, catalog: Catalog = loadCatalog()): Analysis {
    const logs: (OpenLog & { name: string })[] = [];
    try {
      for (const f of plan.files) logs.push({ ...openLog(f.path, f.field), name: f.name });
    } catch (error) {
      for (const log of logs) closeLog(log);
      throw error;
    }
    return new Analysis(plan, logs, catalog);
  }

  /** The pasted text, then every file, in order. */
  readInputs(progress?: Progress): void {
    if (this.plan.text !== undefined) this.analyzer.text('text', this.plan.text);
    for (const log of this.logs) {
      const stats = this.analyzer.source(log.name);
      if (Date.now() > this.plan.deadline) {
        this.skip(log.name, { bytes: log.size, reason: 'deadline_s: the deadline passed before this source was reached' });
        stats.notes.push('not read: the deadline passed before this source was reached');
        continue;
      }
      const outcome = readLog(log, this.plan.maxBytes, this.plan.deadline, (bytes) => this.analyzer.feed(log.name, bytes), (done, total) => progress?.({ done, total, message: `reading ${log.name}` }));
      this.analyzer.end(log.name);
      stats.notes.push(...outcome.notes);
      for (const s of outcome.skipped) this.skip(log.name, s);
    }
  }

  /** Bytes of a streamed source (journal, dmesg). */
  feed(source: string, bytes: Buffer): void {
    this.analyzer.feed(source, bytes);
  }

  end(source: string, notes: string[], skipped: Skipped[] = []): void {
    this.analyzer.end(source);
    this.analyzer.source(source).notes.push(...notes);
    for (const s of skipped) this.skip(source, s);
  }

  close(): void {
    for (const log of this.logs.splice(0)) closeLog(log);
  }

  private skip(source: string, skipped: Skipped): void {
    if (skipped.reason.startsWith('deadline_s')) this.deadlineReached = true;
    this.skipped.set(source, [...(this.skipped.get(source) ?? []), skipped]);
  }

  finish(options: FinishOptions): DiagnoseResult {
    const analyzer = this.analyzer;
    const { findings, correlations } = buildFindings([...analyzer.cases.values()], { maxEvidence: options.maxEvidence, windowS: options.windowS });
    const severity_counts = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
    const kept = findings.slice(0, options.maxFindings);
    const keptIds = new Set(kept.map((f) => f.id));
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
        skipped: this.skipped.get(s.name) ?? [],
      })),
      deadline_reached: this.deadlineReached,
      severity_counts,
      findings: kept,
      // Links into the omitted tail would dangle: keep the ids, which the omitted list explains.
      findings_omitted: findings.filter((f) => !keptIds.has(f.id)).map((f) => ({ case: f.case, severity: f.severity, count: f.count })),
      correlations: correlations.slice(0, 10),
      unclassified: {
        lines: analyzer.allSources().reduce((n, s) => n + s.unclassified_lines, 0),
        patterns: analyzer.patterns.size,
        dropped_patterns: analyzer.patternsDropped,
        top: patterns.slice(0, options.maxUnclassified).map(([pattern, p]) => ({
          pattern,
          count: p.count,
          first_seen: formatStamp({ ms: p.firstMs, mono: p.firstMono }),
          last_seen: formatStamp({ ms: p.lastMs, mono: p.lastMono }),
          sample: p.sample,
        })),
      },
    };
  }
}

/**
 * The latest dated line at either end of the text and files: year-less lines (PyTorch, vLLM,
 * syslog) from an incident months ago then land in its year, not this one, and correlate with
 * the journal's dated lines.
 */
function referenceTime(text: string | undefined, logs: OpenLog[]): number | undefined {
  const ENDS = 64 * 1024;
  const texts = [
    ...(text !== undefined ? [text.length > 2 * ENDS ? `${text.slice(0, ENDS)}\n${text.slice(-ENDS)}` : text] : []),
    ...logs.map((log) => readEnds(log, ENDS)),
  ];
  let latest: number | undefined;
  for (const t of texts) {
    for (const line of t.split('\n')) {
      const ms = datedMs(line);
      if (ms !== undefined && (latest === undefined || ms > latest)) latest = ms;
    }
  }
  return latest;
}
