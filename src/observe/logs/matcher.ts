/**
 * Streaming classification of log lines against the signature catalog. State is bounded whatever
 * the input size: per case a count, first/last times, a few evidence lines and capped field value
 * counts; per unclassified pattern a count and one sample; a short ring of recent lines per source.
 */
import type { Catalog, Signature } from './catalog.js';
import { formatStamp, parseTimestamp, type Stamp } from './timestamps.js';

export const MAX_LINE_CHARS = 64 * 1024;
const EVIDENCE_CHARS = 1000;
const FIELD_VALUES = 20;
const MAX_PATTERNS = 2000;
const CONTEXT_CHARS = 300;

/** Error-looking words for lines no signature claims: summarised so nothing is silently dropped. */
const ERROR_LOOKING = /\b(?:errors?|fail(?:ed|ure|s|ing)?|fatal|time[ds]? ?out|timed out|panic|exception|traceback|abort(?:ed|ing)?|segfault|critical)\b|NCCL WARN|BUG:/i;

export interface Evidence {
  source: string;
  line: number;
  time: string | null;
  text: string;
  context_before?: string[];
  context_after?: string[];
}

export interface TimeRange {
  firstMs?: number;
  lastMs?: number;
  firstMono?: number;
  lastMono?: number;
}

export interface CaseState extends TimeRange {
  sig: Signature;
  count: number;
  /** Earliest start of the problem (line time minus onset_ms_field), for correlation. */
  onsetMs?: number;
  onsetMono?: number;
  sources: Map<string, TimeRange & { count: number }>;
  evidence: Evidence[];
  latest: Evidence | null;
  fields: Map<string, Map<string, number>>;
  fieldsTruncated: boolean;
}

export interface PatternState extends TimeRange {
  count: number;
  sample: Evidence;
}

export interface SourceStats extends TimeRange {
  name: string;
  lines: number;
  bytes: number;
  matched_lines: number;
  unclassified_lines: number;
  notes: string[];
}

interface SourceRuntime {
  stats: SourceStats;
  recent: { line: number; text: string }[];
  lastStamp: Stamp;
  pendingAfter: { evidence: Evidence; remaining: number }[];
}

export interface AnalyzerOptions {
  maxEvidence: number;
  /** Reference "now" for formats without a year. */
  now: number;
  /** Wall-clock boot time, to place kernel seconds-since-boot on the clock. */
  bootTimeMs?: number;
}

export class LineAnalyzer {
  readonly cases = new Map<string, CaseState>();
  readonly patterns = new Map<string, PatternState>();
  patternsDropped = 0;
  private readonly sources = new Map<string, SourceRuntime>();

  constructor(
    private readonly catalog: Catalog,
    private readonly options: AnalyzerOptions,
  ) {}

  source(name: string): SourceStats {
    let rt = this.sources.get(name);
    if (!rt) {
      rt = { stats: { name, lines: 0, bytes: 0, matched_lines: 0, unclassified_lines: 0, notes: [] }, recent: [], lastStamp: {}, pendingAfter: [] };
      this.sources.set(name, rt);
    }
    return rt.stats;
  }

  allSources(): SourceStats[] {
    return [...this.sources.values()].map((s) => s.stats);
  }

  /** Classify one line. `lineNo` counts from 1 within the source. */
  feed(sourceName: string, raw: string, lineNo: number): void {
    this.source(sourceName);
    const rt = this.sources.get(sourceName)!;
    const text = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
    rt.stats.lines++;
    rt.stats.bytes += raw.length + 1;

    for (const pending of rt.pendingAfter) {
      pending.evidence.context_after!.push(clip(text, CONTEXT_CHARS));
      pending.remaining--;
    }
    if (rt.pendingAfter.length) rt.pendingAfter = rt.pendingAfter.filter((p) => p.remaining > 0);

    let stamp = parseTimestamp(text, this.options.now);
    if (stamp.ms === undefined && stamp.mono !== undefined && this.options.bootTimeMs !== undefined) {
      stamp = { ms: this.options.bootTimeMs + stamp.mono * 1000, mono: stamp.mono };
    }
    // Continuation lines (stack traces, multi-line messages) take the time of the line before.
    if (stamp.ms === undefined && stamp.mono === undefined) stamp = rt.lastStamp;
    else rt.lastStamp = stamp;
    widen(rt.stats, stamp);

    if (text.trim() !== '') {
      const hit = this.catalog.prefilter.test(text) ? this.classify(text) : null;
      if (hit) {
        rt.stats.matched_lines++;
        this.record(rt, hit.sig, hit.groups, text, lineNo, stamp);
      } else if (ERROR_LOOKING.test(text)) {
        rt.stats.unclassified_lines++;
        this.recordUnclassified(sourceName, text, lineNo, stamp);
      }
    }

    if (this.catalog.maxBefore > 0) {
      rt.recent.push({ line: lineNo, text });
      if (rt.recent.length > this.catalog.maxBefore) rt.recent.shift();
    }
  }

  private classify(text: string): { sig: Signature; groups: Record<string, string | undefined> } | null {
    for (const sig of this.catalog.signatures) {
      for (const regex of sig.regexes) {
        const m = regex.exec(text);
        if (m) return { sig, groups: { ...(m.groups ?? {}) } };
      }
    }
    return null;
  }

  private record(rt: SourceRuntime, sig: Signature, groups: Record<string, string | undefined>, text: string, lineNo: number, stamp: Stamp): void {
    let state = this.cases.get(sig.id);
    if (!state) {
      state = { sig, count: 0, sources: new Map(), evidence: [], latest: null, fields: new Map(), fieldsTruncated: false };
      this.cases.set(sig.id, state);
    }
    state.count++;
    widen(state, stamp);
    const perSource = state.sources.get(rt.stats.name) ?? { count: 0 };
    perSource.count++;
    widen(perSource, stamp);
    state.sources.set(rt.stats.name, perSource);

    // Multi-line messages: fields missing on this line may sit on a line just before it.
    for (const c of sig.context_regexes) {
      for (const prev of rt.recent.slice(-c.before)) {
        const m = c.regex.exec(prev.text);
        if (m?.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined && groups[k] === undefined) groups[k] = v;
      }
    }
    for (const [field, value] of Object.entries(groups)) {
      if (value === undefined || value === '') continue;
      this.countField(state, field, value);
      const name = sig.lookups?.[field]?.[value];
      if (name) this.countField(state, `${field}_name`, name);
    }
    const onset = sig.onset ? Number(groups[sig.onset.field]) * (sig.onset.unit === 's' ? 1000 : 1) : NaN;
    if (Number.isFinite(onset)) {
      if (stamp.ms !== undefined) state.onsetMs = Math.min(state.onsetMs ?? Infinity, stamp.ms - onset);
      if (stamp.mono !== undefined) state.onsetMono = Math.min(state.onsetMono ?? Infinity, stamp.mono - onset / 1000);
    }

    const evidence: Evidence = { source: rt.stats.name, line: lineNo, time: formatStamp(stamp), text: clip(text, EVIDENCE_CHARS) };
    if (state.evidence.length < Math.max(1, this.options.maxEvidence - 1)) {
      if (state.evidence.length === 0) {
        if (sig.context_before) evidence.context_before = rt.recent.slice(-sig.context_before).map((r) => clip(r.text, CONTEXT_CHARS));
        if (sig.context_after) {
          evidence.context_after = [];
          rt.pendingAfter.push({ evidence, remaining: sig.context_after });
        }
      }
      state.evidence.push(evidence);
    } else state.latest = evidence;
  }

  private countField(state: CaseState, field: string, value: string): void {
    let values = state.fields.get(field);
    if (!values) state.fields.set(field, (values = new Map()));
    const v = value.length > 200 ? clip(value, 200) : value;
    const known = values.get(v);
    if (known !== undefined) values.set(v, known + 1);
    else if (values.size < FIELD_VALUES) values.set(clip(v, 200), 1);
    else state.fieldsTruncated = true;
  }

  private recordUnclassified(source: string, text: string, lineNo: number, stamp: Stamp): void {
    const key = normalizePattern(text);
    let state = this.patterns.get(key);
    if (!state) {
      if (this.patterns.size >= MAX_PATTERNS) {
        this.patternsDropped++;
        return;
      }
      state = { count: 0, sample: { source, line: lineNo, time: formatStamp(stamp), text: clip(text, EVIDENCE_CHARS) } };
      this.patterns.set(clip(key, 200), state);
    }
    state.count++;
    widen(state, stamp);
  }
}

/** Lines that differ only in numbers, ids and addresses share a pattern. */
export function normalizePattern(text: string): string {
  return stripPrefix(text)
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/0x[0-9a-f]+/gi, '0x#')
    .replace(/\b[0-9a-f]*\d[0-9a-f]*\b/gi, (w) => (/^[0-9a-f]{6,}$/i.test(w) || /^\d+$/.test(w) ? '#' : w))
    .replace(/\d+(?:\.\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}

/** The message without its timestamp and syslog host/process prefix, so patterns group by content. */
function stripPrefix(text: string): string {
  return text
    .replace(/^\[?\d{4}-\d{2}-\d{2}[T ][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?\]?\s+/, '')
    .replace(/^[A-Z][a-z]{2} +\d{1,2} [\d:]{8}\s+/, '')
    .replace(/^\[[^\]]{1,40}\]\s*/, '');
}

function widen(range: TimeRange, stamp: Stamp): void {
  if (stamp.ms !== undefined) {
    if (range.firstMs === undefined || stamp.ms < range.firstMs) range.firstMs = stamp.ms;
    if (range.lastMs === undefined || stamp.ms > range.lastMs) range.lastMs = stamp.ms;
  }
  if (stamp.mono !== undefined) {
    if (range.firstMono === undefined || stamp.mono < range.firstMono) range.firstMono = stamp.mono;
    if (range.lastMono === undefined || stamp.mono > range.lastMono) range.lastMono = stamp.mono;
  }
}

/**
 * A bounded copy of `text` that does not pin the string it came from: V8 keeps a slice or regex
 * group of a 1 MiB read chunk alive as a view of the whole chunk, so stored strings are copied.
 */
function clip(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return Buffer.from(cut, 'utf8').toString('utf8');
}
