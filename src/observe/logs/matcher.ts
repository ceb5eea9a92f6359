/**
 * Streaming classification of log lines against the signature catalog. State is bounded whatever
 * the input size: per case a count, first/last times, a few evidence lines and capped field value
 * counts; per unclassified pattern a count and one sample; the last few lines per source.
 *
 * Input arrives as bytes in chunks. Each chunk of complete lines is decoded once and scanned twice:
 * for the catalog's required literals (scanner.ts) and for error-looking words; only lines where
 * one of them occurs become strings and meet the regex engine. A line's time is parsed only when
 * the line is reported (and for the first lines of a source), walking back to the nearest dated
 * line for continuation lines (stack traces), so the per-line cost of an ordinary line is finding
 * its end.
 */
import type { Catalog, Signature } from './catalog.js';
import { formatStamp, parseTimestamp, type Stamp } from './timestamps.js';

export const MAX_LINE_CHARS = 64 * 1024;
const EVIDENCE_CHARS = 1000;
const FIELD_VALUES = 20;
const MAX_PATTERNS = 2000;
const MAX_SHAPES = 100_000;
const CONTEXT_CHARS = 300;
/** A line longer than this without a newline is analysed by its first MAX_LINE_CHARS and skipped to its end. */
const LONG_LINE_BYTES = 1 << 20;
/** How far to look for the first dated line of a source, and back from a line for its time. */
const STAMP_SEARCH_LINES = 1000;

/** Error-looking words for lines no signature claims: summarised so nothing is silently dropped. */
const ERROR_LOOKING = /\b(?:errors?|fail(?:ed|ure|s|ing)?|fatal|time[ds]? ?out|timed out|panic|exception|traceback|abort(?:ed|ing)?|segfault|critical)\b|NCCL WARN|BUG:/gi;

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
  /** Bytes of an unfinished last line, waiting for its newline. */
  carry: Buffer | null;
  /** Inside a line longer than LONG_LINE_BYTES: skip to its newline. */
  skippingLongLine: boolean;
  lineNo: number;
  /** The last lines of the previous chunk, for context that reaches back across a chunk boundary. */
  previous: { line: number; text: string }[];
  /** The time of the latest dated line before the current chunk. */
  lastStamp: Stamp;
  firstStampFound: boolean;
  pendingAfter: { evidence: Evidence; remaining: number }[];
}

/** One chunk of complete lines being analysed, and the time lookups cached in it. */
interface Chunk {
  text: string;
  /** The time in force at offset `at` (a line start): walking back for a time stops here. */
  stampAt: number;
  stamp: Stamp;
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
  /** Shape hash of a line -> its pattern (null: a new pattern beyond MAX_PATTERNS). */
  private readonly byShape = new Map<number, PatternState | null>();
  private readonly sources = new Map<string, SourceRuntime>();

  constructor(
    private readonly catalog: Catalog,
    private readonly options: AnalyzerOptions,
  ) {}

  source(name: string): SourceStats {
    return this.runtime(name).stats;
  }

  allSources(): SourceStats[] {
    return [...this.sources.values()].map((s) => s.stats);
  }

  /** Text in one piece (pasted logs). */
  text(sourceName: string, text: string): void {
    this.feed(sourceName, Buffer.from(text, 'utf8'));
    this.end(sourceName);
  }

  /** The next bytes of a source; lines may span calls. `bytes` may be reused by the caller afterwards. */
  feed(sourceName: string, bytes: Buffer): void {
    const rt = this.runtime(sourceName);
    rt.stats.bytes += bytes.length;
    let buf = rt.carry ? Buffer.concat([rt.carry, bytes]) : bytes;
    rt.carry = null;
    if (rt.skippingLongLine) {
      const nl = buf.indexOf(10);
      if (nl === -1) return;
      rt.skippingLongLine = false;
      buf = buf.subarray(nl + 1);
    }
    const lastNl = buf.lastIndexOf(10);
    if (lastNl === -1) {
      if (buf.length >= LONG_LINE_BYTES) {
        // A line without end (a sparse file's zeros, a binary blob): judge it by its start, once.
        this.chunk(rt, `${buf.toString('utf8', 0, MAX_LINE_CHARS)}\n`);
        rt.skippingLongLine = true;
      } else rt.carry = Buffer.from(buf);
      return;
    }
    this.chunk(rt, buf.toString('utf8', 0, lastNl + 1));
    if (lastNl + 1 < buf.length) rt.carry = Buffer.from(buf.subarray(lastNl + 1));
  }

  /** The source has no more bytes: its unfinished last line counts. */
  end(sourceName: string): void {
    const rt = this.runtime(sourceName);
    if (rt.carry) this.chunk(rt, `${rt.carry.toString('utf8')}\n`);
    rt.carry = null;
  }

  private runtime(name: string): SourceRuntime {
    let rt = this.sources.get(name);
    if (!rt) {
      rt = {
        stats: { name, lines: 0, bytes: 0, matched_lines: 0, unclassified_lines: 0, notes: [] },
        carry: null,
        skippingLongLine: false,
        lineNo: 0,
        previous: [],
        lastStamp: {},
        firstStampFound: false,
        pendingAfter: [],
      };
      this.sources.set(name, rt);
    }
    return rt;
  }

  /** Complete lines, each ending with a newline. */
  private chunk(rt: SourceRuntime, text: string): void {
    const chunk: Chunk = { text, stampAt: 0, stamp: rt.lastStamp };
    const hits = this.catalog.scanner.scan(text, 0, text.length);
    const sigPositions = hits.positions.slice(0, hits.count);
    let sig = 0;
    let err = nextErrorLooking(text, 0);
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf('\n', start);
      rt.lineNo++;
      rt.stats.lines++;
      const hasSignatureLiteral = sig < sigPositions.length && sigPositions[sig] < end;
      const errorLooking = err < end;
      if (hasSignatureLiteral || errorLooking || rt.pendingAfter.length || !rt.firstStampFound) this.line(rt, chunk, start, end, hasSignatureLiteral, errorLooking);
      while (sig < sigPositions.length && sigPositions[sig] < end) sig++;
      if (errorLooking) err = nextErrorLooking(text, end + 1);
      start = end + 1;
    }
    // The time in force at the end, for continuation lines at the start of the next chunk.
    rt.lastStamp = this.stampBefore(rt, chunk, text.length);
    widen(rt.stats, rt.lastStamp);
    rt.previous = [...rt.previous, ...lastLines(text, rt.lineNo, this.catalog.maxBefore)].slice(-this.catalog.maxBefore);
  }

  private line(rt: SourceRuntime, chunk: Chunk, start: number, end: number, hasSignatureLiteral: boolean, errorLooking: boolean): void {
    let text = chunk.text.slice(start, end > start && chunk.text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (text.length > MAX_LINE_CHARS) text = text.slice(0, MAX_LINE_CHARS);
    for (const pending of rt.pendingAfter) {
      pending.evidence.context_after!.push(clip(text, CONTEXT_CHARS));
      pending.remaining--;
    }
    if (rt.pendingAfter.length) rt.pendingAfter = rt.pendingAfter.filter((p) => p.remaining > 0);
    if (!rt.firstStampFound) {
      const own = this.stampOf(text);
      if (own) widen(rt.stats, own);
      if (own || rt.lineNo >= STAMP_SEARCH_LINES) rt.firstStampFound = true;
    }
    if (!hasSignatureLiteral && !errorLooking) return;
    if (text.trim() === '') return;
    const hit = hasSignatureLiteral ? this.classify(text) : null;
    if (!hit && !errorLooking) return;
    const stamp = this.stampOf(text) ?? this.stampBefore(rt, chunk, start);
    widen(rt.stats, stamp);
    if (hit) {
      rt.stats.matched_lines++;
      this.record(rt, chunk, start, hit.sig, hit.groups, text, stamp);
    } else {
      rt.stats.unclassified_lines++;
      this.recordUnclassified(rt.stats.name, text, rt.lineNo, stamp);
    }
  }

  private classify(text: string): { sig: Signature; groups: Record<string, string | undefined> } | null {
    const matching = this.catalog.set.match(text);
    if (matching.length === 0) return null;
    const { sig, regex } = this.catalog.entries[Math.min(...matching)];
    const m = regex.exec(text);
    return m ? { sig, groups: { ...(m.groups ?? {}) } } : null;
  }

  /** A line's own time (kernel boot seconds placed on the clock when the boot time is known), or null. */
  private stampOf(text: string): Stamp | null {
    const stamp = parseTimestamp(text, this.options.now);
    if (stamp.ms === undefined && stamp.mono !== undefined && this.options.bootTimeMs !== undefined) return { ms: this.options.bootTimeMs + stamp.mono * 1000, mono: stamp.mono };
    return stamp.ms === undefined && stamp.mono === undefined ? null : stamp;
  }

  /**
   * The time in force just before offset `at` of the chunk: that of the nearest dated line before
   * it. Continuation lines (stack traces, multi-line messages) take it. Lookups move forward
   * through the chunk, so the walk back stops where the previous one did: linear overall.
   */
  private stampBefore(rt: SourceRuntime, chunk: Chunk, at: number): Stamp {
    const text = chunk.text;
    let end = at - 1; // the newline ending the line before `at`
    let found: Stamp | null = null;
    for (let n = 0; end >= chunk.stampAt && end > 0 && n < STAMP_SEARCH_LINES; n++) {
      const start = text.lastIndexOf('\n', end - 1) + 1;
      if (start < chunk.stampAt) break;
      found = this.stampOf(text.slice(start, Math.min(end, start + 200)));
      if (found) break;
      end = start - 1;
    }
    if (found) chunk.stamp = found;
    chunk.stampAt = at;
    return chunk.stamp;
  }

  /** The `n` lines before offset `at` of the chunk (reaching into the previous chunk when needed). */
  private linesBefore(rt: SourceRuntime, chunk: Chunk, at: number, lineNo: number, n: number): { line: number; text: string }[] {
    const out: { line: number; text: string }[] = [];
    let end = at - 1;
    while (out.length < n && end >= 0) {
      const start = chunk.text.lastIndexOf('\n', end - 1) + 1;
      out.unshift({ line: lineNo - out.length - 1, text: chunk.text.slice(start, end) });
      end = start - 1;
    }
    return [...rt.previous.slice(rt.previous.length - (n - out.length)), ...out].slice(-n);
  }

  private record(rt: SourceRuntime, chunk: Chunk, at: number, sig: Signature, groups: Record<string, string | undefined>, text: string, stamp: Stamp): void {
    const lineNo = rt.lineNo;
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
      for (const prev of this.linesBefore(rt, chunk, at, lineNo, c.before)) {
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
        if (sig.context_before) evidence.context_before = this.linesBefore(rt, chunk, at, lineNo, sig.context_before).map((r) => clip(r.text, CONTEXT_CHARS));
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
    // Most error lines repeat a shape seen before: its hash finds the pattern without normalizing.
    const shape = shapeHash(text);
    let state = this.byShape.get(shape);
    if (state === undefined) {
      const key = clip(normalizePattern(text), 200);
      state = this.patterns.get(key) ?? null;
      if (!state && this.patterns.size < MAX_PATTERNS) {
        state = { count: 0, sample: { source, line: lineNo, time: formatStamp(stamp), text: clip(text, EVIDENCE_CHARS) } };
        this.patterns.set(key, state);
      }
      if (this.byShape.size >= MAX_SHAPES) this.byShape.clear();
      this.byShape.set(shape, state);
    }
    if (!state) {
      this.patternsDropped++;
      return;
    }
    state.count++;
    widen(state, stamp);
  }
}

/** The next error-looking word at or after `from`, or Infinity. */
function nextErrorLooking(text: string, from: number): number {
  ERROR_LOOKING.lastIndex = from;
  const m = ERROR_LOOKING.exec(text);
  return m ? m.index : Infinity;
}

/** The last `n` lines of a chunk of complete lines, numbered up to `lastLineNo`. */
function lastLines(text: string, lastLineNo: number, n: number): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let end = text.length - 1;
  while (out.length < n && end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    out.unshift({ line: lastLineNo - out.length, text: clip(text.slice(start, end), CONTEXT_CHARS) });
    end = start - 1;
  }
  return out;
}

/**
 * Lines that differ only in numbers, ids and addresses share a pattern: UUIDs become <uuid>, hex
 * with 0x becomes 0x#, numbers (decimals included) and hex words of 6+ characters with a digit
 * become #, digits inside other words become #, whitespace collapses. One pass, no regex: every
 * error-looking line goes through here.
 */
export function normalizePattern(text: string): string {
  const src = stripPrefix(text).slice(0, 400);
  const parts: string[] = [];
  let copied = 0; // src[copied, i) is unchanged and not yet in parts
  const replace = (from: number, to: number, by: string) => {
    if (from > copied) parts.push(src.slice(copied, from));
    parts.push(by);
    copied = to;
  };
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9) {
      let j = i + 1;
      while (j < n && (src.charCodeAt(j) === 32 || src.charCodeAt(j) === 9)) j++;
      if (j - i > 1 || c === 9) replace(i, j, ' ');
      i = j;
      continue;
    }
    if (!isWordChar(c)) {
      i++;
      continue;
    }
    let j = i;
    let digits = 0;
    let hex = true;
    for (; j < n; j++) {
      const d = src.charCodeAt(j);
      if (isDigit(d)) digits++;
      else if (!isWordChar(d)) break;
      else if (!((d >= 97 && d <= 102) || (d >= 65 && d <= 70))) hex = false;
    }
    if (j - i === 8 && hex && isUuidAt(src, i)) {
      replace(i, i + 36, '<uuid>');
      i += 36;
    } else if (digits === 0) i = j;
    else if (digits === j - i) {
      // A number, with its decimal fraction.
      if (src.charCodeAt(j) === 46 && isDigit(src.charCodeAt(j + 1))) for (j += 2; j < n && isDigit(src.charCodeAt(j)); j++);
      replace(i, j, '#');
      i = j;
    } else if ((c === 48 && (src.charCodeAt(i + 1) | 32) === 120 && /^0x[0-9a-f]+$/i.test(src.slice(i, j))) || (hex && j - i >= 6)) {
      replace(i, j, c === 48 && (src.charCodeAt(i + 1) | 32) === 120 ? '0x#' : '#');
      i = j;
    } else {
      replace(i, j, src.slice(i, j).replace(/\d+/g, '#'));
      i = j;
    }
  }
  if (copied < n) parts.push(src.slice(copied));
  return parts.join('').trim().slice(0, 160);
}

/**
 * A 53-bit hash of a line's first 400 characters with every digit run counted as one digit: lines
 * with the same hash have the same pattern (the pattern collapses more than this, never less).
 */
function shapeHash(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  let inDigits = false;
  const n = Math.min(text.length, 400);
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (inDigits) continue;
      inDigits = true;
      c = 48;
    } else inDigits = false;
    h1 = Math.imul(h1 ^ c, 16777619);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x200000 + ((h2 ^ (h2 >>> 15)) & 0x1fffff);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isWordChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isUuidAt(s: string, i: number): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z_])/i.test(s.slice(i, i + 37));
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
