/**
 * nccl-tests `-J file` output (2.17.3+). The writer is hand-rolled C: booleans are written as the
 * strings "true"/"false", NaN as "nan", root as a padded string ("    -1"), `nwrong` is null when
 * checking is off, the time key is `cpu_time` under -C, and `devices` sits inside `config`.
 *
 * `env` holds the whole environment of the writing process (tokens, passwords...). scrubJsonEnv()
 * removes it before anything is stored, keeping only NCCL_* variables.
 */
import type { DeviceLine, ResultRow, SideResult } from './types.js';
import { decodeVersionCode } from './nccl-log.js';

export interface ParsedJson {
  nccl_version: string | null;
  devices: DeviceLine[];
  rows: ResultRow[];
  out_of_bounds: { count: number; ok: boolean } | null;
  avg_busbw: { value: number; verdict: 'OK' | 'FAILED' | null } | null;
  /** The `errors` list nccl-tests writes at the end (ncclGetLastError). */
  errors: string[];
}

type Json = Record<string, unknown>;

/** null when the text is not a complete JSON document (a crashed run leaves it unterminated). */
export function parseNcclTestsJson(text: string): ParsedJson | null {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.results)) return null;
  const config = (doc.config ?? {}) as Json;
  const devices = (Array.isArray(config.devices) ? config.devices : Array.isArray(doc.devices) ? doc.devices : []) as Json[];
  const oob = doc.out_of_bounds as Json | undefined;
  const avg = doc.average_bus_bandwidth as Json | undefined;
  const avgOkay = avg ? bool(avg.okay) : null;
  return {
    nccl_version: typeof doc.nccl_version === 'number' ? decodeVersionCode(doc.nccl_version) : null,
    devices: devices.map((d) => ({
      rank: int(d.rank) ?? 0,
      group: int(d.group),
      pid: int(d.pid) ?? 0,
      host: String(d.hostname ?? ''),
      device: int(d.device) ?? 0,
      bus_id: String(d.device_hex ?? ''),
      name: String(d.device_info ?? ''),
    })),
    rows: (doc.results as Json[]).map(toRow),
    out_of_bounds: oob ? { count: int(oob.count) ?? 0, ok: bool(oob.okay) ?? int(oob.count) === 0 } : null,
    avg_busbw: avg ? { value: num(avg.bandwidth) ?? 0, verdict: avgOkay === null ? null : avgOkay ? 'OK' : 'FAILED' } : null,
    errors: Array.isArray(doc.errors) ? doc.errors.map(String).filter((e) => e.trim() !== '') : [],
  };
}

function toRow(r: Json): ResultRow {
  const root = typeof r.root === 'string' ? r.root.trim() : r.root;
  return {
    size: int(r.size) ?? 0,
    count: int(r.count) ?? 0,
    type: String(r.type ?? ''),
    redop: typeof r.redop === 'string' ? r.redop : null,
    root: root === undefined || root === null || root === '' ? null : Number(root),
    out_of_place: toSide(r.out_of_place),
    in_place: toSide(r.in_place),
  };
}

function toSide(value: unknown): SideResult | null {
  if (!value || typeof value !== 'object') return null;
  const s = value as Json;
  return { time_us: num(s.time ?? s.cpu_time), algbw_gbps: num(s.alg_bw), busbw_gbps: num(s.bus_bw), wrong: num(s.nwrong) };
}

/**
 * The document with `env` replaced by its NCCL_* entries only: the rest of a process environment
 * (credentials, tokens) must never be stored. Returns null when the text is not JSON.
 */
export function scrubJsonEnv(text: string): string | null {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object') return null;
  const env = Array.isArray(doc.env) ? (doc.env as unknown[]) : [];
  const kept = env.map(String).filter((e) => e.startsWith('NCCL_'));
  doc.env = kept;
  doc.env_scrubbed = `tuneloop removed ${env.length - kept.length} non-NCCL environment entries`;
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/**
 * The same for text that is not a complete document (the run crashed before closing it): the
 * writer emits `"env":[...],"nccl_version":` without spaces, so the block is cut between those
 * keys, or to the end when the closing part never came.
 */
export function scrubPartialJsonEnv(text: string): string {
  const start = text.search(/"env"\s*:\s*\[/);
  if (start === -1) return text;
  const end = text.indexOf('],"nccl_version"', start);
  return `${text.slice(0, start)}"env":[]${end === -1 ? '' : text.slice(end + 1)}`;
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function int(v: unknown): number | null {
  const n = num(v);
  return n === null ? null : Math.trunc(n);
}

function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return null;
}
