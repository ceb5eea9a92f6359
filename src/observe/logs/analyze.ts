/**
 * From per-case state to ranked findings: knock-ons are linked to the causes the catalog names
 * when the timing fits, ranked directly below their cause; findings that overlap in time are
 * grouped into correlation windows across sources (e.g. Xid 79 -> NCCL timeout -> engine death).
 */
import { SEVERITY_RANK, type Confidence, type Severity } from './catalog.js';
import { formatStamp } from './timestamps.js';
import type { CaseState, Evidence, TimeRange } from './matcher.js';

export interface CauseLink {
  finding: string;
  case: string;
  confidence: Confidence;
  reason: string;
}

export interface Finding {
  id: string;
  rank: number;
  case: string;
  title: string;
  severity: Severity;
  role: 'root_cause' | 'knock_on' | 'standalone';
  count: number;
  first_seen: string | null;
  last_seen: string | null;
  span_s: number | null;
  sources: { source: string; count: number; first_seen: string | null; last_seen: string | null }[];
  fields: Record<string, { value: string; count: number }[]>;
  evidence: Evidence[];
  meaning: string;
  next_checks: string[];
  remedy: string;
  confidence: Confidence;
  caused_by: CauseLink[];
  knock_ons: string[];
  note?: string;
}

export interface Correlation {
  start: string;
  end: string;
  cross_source: boolean;
  sources: string[];
  chain: string;
  events: { finding: string; case: string; severity: Severity; first_seen: string | null; sources: string[] }[];
}

interface Node {
  state: CaseState;
  finding: Finding;
  /** Interval used for timing checks: [start, end] in ms (wall) or s (boot), per clock. */
  wall?: [number, number];
  boot?: [number, number];
  causes: Node[];
}

export function buildFindings(states: CaseState[], options: { maxEvidence: number; windowS: number }): { findings: Finding[]; correlations: Correlation[] } {
  const nodes: Node[] = states.map((state) => toNode(state, options.maxEvidence));
  const byCase = new Map(nodes.map((n) => [n.state.sig.id, n]));

  for (const node of nodes) {
    for (const causeId of node.state.sig.knock_on_of) {
      const cause = byCase.get(causeId);
      if (!cause) continue;
      const link = judgeLink(cause, node, options.windowS);
      if (!link) continue;
      node.causes.push(cause);
      node.finding.caused_by.push({ finding: '', case: causeId, ...link });
    }
  }

  // Rank: roots by severity, then how much they explain, then time; each followed by its knock-ons.
  // A knock-on sits under its worst cause, and among equally severe ones the most proximate (latest).
  const primary = (n: Node): Node | undefined =>
    [...n.causes].sort((a, b) => SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || start(b) - start(a))[0];
  const children = new Map<Node, Node[]>();
  for (const n of nodes) {
    const p = primary(n);
    if (p) children.set(p, [...(children.get(p) ?? []), n]);
  }
  const explained = (n: Node, seen = new Set<Node>()): number => {
    for (const c of children.get(n) ?? []) if (!seen.has(c)) (seen.add(c), explained(c, seen));
    return seen.size;
  };
  // A root ranks by the worst finding it explains: an NVLink error whose Xid 154 says "reboot the
  // node" leads, with the 154 right below it, ahead of unrelated lesser findings.
  const worst = (n: Node, seen = new Set<Node>()): number => {
    let rank = SEVERITY_RANK[n.finding.severity];
    for (const c of children.get(n) ?? []) if (!seen.has(c)) (seen.add(c), (rank = Math.max(rank, worst(c, seen))));
    return rank;
  };
  const roots = nodes
    .filter((n) => n.causes.length === 0)
    .sort((a, b) => worst(b) - worst(a) || compareNodes(a, b) || explained(b) - explained(a));
  const ordered: Node[] = [];
  const visit = (n: Node): void => {
    if (ordered.includes(n)) return;
    ordered.push(n);
    for (const c of (children.get(n) ?? []).sort(compareNodes)) visit(c);
  };
  for (const r of roots) visit(r);
  ordered.forEach((n, i) => {
    n.finding.rank = i + 1;
    n.finding.id = `F${i + 1}`;
  });
  for (const n of ordered) {
    n.finding.caused_by.forEach((link) => (link.finding = byCase.get(link.case)!.finding.id));
    n.finding.caused_by.sort((a, b) => byRank(a.finding, b.finding));
    n.finding.knock_ons = (children.get(n) ?? []).map((c) => c.finding.id).sort(byRank);
    n.finding.role = n.causes.length ? 'knock_on' : n.finding.knock_ons.length ? 'root_cause' : 'standalone';
  }
  return { findings: ordered.map((n) => n.finding), correlations: correlate(ordered, options.windowS) };
}

function byRank(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}

function start(n: Node): number {
  return n.wall?.[0] ?? (n.boot ? n.boot[0] * 1000 : Infinity);
}

function compareNodes(a: Node, b: Node): number {
  return (
    SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] ||
    start(a) - start(b) ||
    b.finding.count - a.finding.count ||
    a.finding.case.localeCompare(b.finding.case)
  );
}

/** A cause links to an effect when it was reported around or before the effect began, and on the same GPU when both name one. */
function judgeLink(cause: Node, effect: Node, windowS: number): { confidence: Confidence; reason: string } | null {
  const causeBus = fieldValues(cause, 'bus_id');
  const effectBus = fieldValues(effect, 'bus_id');
  if (causeBus.size && effectBus.size && ![...effectBus].some((b) => causeBus.has(b))) return null;
  const check = (c: [number, number] | undefined, e: [number, number] | undefined, window: number): boolean | null => {
    if (!c || !e) return null;
    return c[0] <= e[1] + window && c[1] >= e[0] - window && c[0] <= e[0] + window;
  };
  const wall = check(cause.wall, effect.wall, windowS * 1000);
  const sharedSource = [...cause.state.sources.keys()].some((s) => effect.state.sources.has(s));
  const boot = sharedSource ? check(cause.boot, effect.boot, windowS) : null;
  const verdict = wall ?? boot;
  if (verdict === false) return null;
  if (verdict === true) return { confidence: 'high', reason: `the catalog lists ${effect.state.sig.id} as a knock-on of ${cause.state.sig.id}, and the cause was reported within ${windowS}s of it` };
  return { confidence: 'medium', reason: `the catalog lists ${effect.state.sig.id} as a knock-on of ${cause.state.sig.id}; no comparable timestamps to confirm the order` };
}

function fieldValues(node: Node, field: string): Set<string> {
  return new Set([...(node.state.fields.get(field)?.keys() ?? [])].map(normalizeBusId));
}

/**
 * `PCI:0000:18:00`, `0000:18:00.0` and nvidia-smi's `00000000:18:00.0` name the same GPU: compare
 * domain:bus:device (a missing domain is 0000; GB200 nodes have GPUs in domains 0018, 0019...).
 */
export function normalizeBusId(id: string): string {
  const m = /(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})(?:\.[0-7])?$/i.exec(id.trim());
  return m ? `${(m[1] ?? '0000').slice(-4)}:${m[2]}:${m[3]}`.toLowerCase() : id.toLowerCase();
}

function toNode(state: CaseState, maxEvidence: number): Node {
  const sig = state.sig;
  const belowMinimum = sig.min_count !== undefined && state.count < sig.min_count;
  const fields = Object.fromEntries(
    [...state.fields].map(([k, values]) => [k, [...values].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count)]),
  );
  const evidence = maxEvidence <= 1 ? state.evidence.slice(0, 1) : [...state.evidence, ...(state.latest ? [state.latest] : [])];
  const notes: string[] = [];
  if (belowMinimum) notes.push(`seen ${state.count} time(s), fewer than the ${sig.min_count} that make it this case: probably normal; reported as info`);
  if (state.fieldsTruncated) notes.push('some fields had more than 20 distinct values; the rarest are not listed');
  const finding: Finding = {
    id: '',
    rank: 0,
    case: sig.id,
    title: sig.title,
    severity: belowMinimum ? 'info' : sig.severity,
    role: 'standalone',
    count: state.count,
    first_seen: stampText(state, 'first'),
    last_seen: stampText(state, 'last'),
    span_s: span(state),
    sources: [...state.sources].map(([source, s]) => ({ source, count: s.count, first_seen: stampText(s, 'first'), last_seen: stampText(s, 'last') })),
    fields,
    evidence,
    meaning: sig.meaning,
    next_checks: sig.next_checks.map((c) => fillPlaceholders(c, fields)),
    remedy: sig.remedy,
    confidence: sig.confidence,
    caused_by: [],
    knock_ons: [],
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
  const wall: [number, number] | undefined = state.firstMs !== undefined ? [Math.min(state.firstMs, state.onsetMs ?? Infinity), state.lastMs!] : undefined;
  const boot: [number, number] | undefined = state.firstMono !== undefined ? [Math.min(state.firstMono, state.onsetMono ?? Infinity), state.lastMono!] : undefined;
  return { state, finding, wall, boot, causes: [] };
}

/** `<pid>`, `<bus_id>`... in a next check become the most frequent extracted value. */
function fillPlaceholders(check: string, fields: Record<string, { value: string; count: number }[]>): string {
  return check.replace(/<([a-z_]+)>/g, (whole, name: string) => fields[name]?.[0]?.value ?? whole);
}

function stampText(range: TimeRange, which: 'first' | 'last'): string | null {
  return formatStamp({ ms: which === 'first' ? range.firstMs : range.lastMs, mono: which === 'first' ? range.firstMono : range.lastMono });
}

function span(range: TimeRange): number | null {
  if (range.firstMs !== undefined) return Math.round((range.lastMs! - range.firstMs) / 100) / 10;
  if (range.firstMono !== undefined) return Math.round((range.lastMono! - range.firstMono) * 10) / 10;
  return null;
}

/** Single-linkage clusters of findings on the wall clock: each starts within windowS of the cluster so far. */
function correlate(nodes: Node[], windowS: number): Correlation[] {
  const timed = nodes.filter((n) => n.wall).sort((a, b) => a.wall![0] - b.wall![0]);
  const clusters: Node[][] = [];
  let end = -Infinity;
  for (const n of timed) {
    if (clusters.length && n.wall![0] <= end + windowS * 1000) clusters.at(-1)!.push(n);
    else clusters.push([n]);
    end = Math.max(clusters.at(-1)!.length === 1 ? -Infinity : end, n.wall![1]);
  }
  return clusters
    .filter((c) => c.length >= 2)
    .map((cluster) => {
      const events = [...cluster].sort((a, b) => a.state.firstMs! - b.state.firstMs! || compareNodes(a, b));
      const sources = [...new Set(events.flatMap((n) => [...n.state.sources.keys()]))];
      return {
        start: new Date(Math.min(...events.map((n) => n.wall![0]))).toISOString(),
        end: new Date(Math.max(...events.map((n) => n.wall![1]))).toISOString(),
        cross_source: sources.length > 1,
        sources,
        chain: events.map((n) => `${n.state.sig.id} (${[...n.state.sources.keys()].map(shortName).join(', ')})`).join(' -> '),
        events: events.map((n) => ({ finding: n.finding.id, case: n.state.sig.id, severity: n.finding.severity, first_seen: n.finding.first_seen, sources: [...n.state.sources.keys()] })),
      };
    });
}

/** `/var/log/kern.log` -> `kern.log`; journal and job sources keep their names. */
function shortName(source: string): string {
  return source.startsWith('/') ? source.slice(source.lastIndexOf('/') + 1) : source;
}
