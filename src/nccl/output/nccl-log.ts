/**
 * NCCL's own log lines as they appear interleaved in nccl-tests output:
 *   host:pid:tid [dev] NCCL INFO <message>
 *   host:pid:tid [dev] file.cc:123 NCCL WARN <message>
 * and what tuneloop reads from them: the NCCL version, the channel counts chosen at init, and the
 * per-collective choices printed with NCCL_DEBUG_SUBSYS=TUNING, in both formats NCCL has used:
 *   AllReduce: 4194304 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..15}     (2.19+)
 *   AllGather: 37756928 Bytes -> Algo 1 proto 2 time 2860.208008                  (older: numeric ids)
 * Pure functions, no I/O.
 */

/** NCCL's ncclAlgoStr / ncclProtoStr order: the numeric ids older releases print. */
const ALGORITHMS = ['Tree', 'Ring', 'CollnetDirect', 'CollnetChain', 'NVLS', 'NVLSTree', 'PAT'];
const PROTOCOLS = ['LL', 'LL128', 'Simple'];

export interface NcclLogLine {
  level: 'INFO' | 'WARN' | 'TRACE';
  message: string;
  /** "host:pid:tid [dev]" as printed, when present. */
  origin: string;
}

/** null when the line is not an NCCL log line. String scanning, not a regex: this runs on every other line. */
export function parseNcclLogLine(line: string): NcclLogLine | null {
  const at = line.startsWith('NCCL ') ? 0 : line.indexOf(' NCCL ') + 1;
  if (at <= 0 && !line.startsWith('NCCL ')) return null;
  const levelEnd = line.indexOf(' ', at + 5);
  const level = line.slice(at + 5, levelEnd === -1 ? undefined : levelEnd);
  if (level !== 'INFO' && level !== 'WARN' && level !== 'TRACE') return null;
  let origin = line.slice(0, at).trim();
  // WARN lines name the source location before "NCCL WARN": host:pid:tid [dev] file.cc:123
  const space = origin.lastIndexOf(' ');
  if (space !== -1 && /^[\w/.-]+:\d+$/.test(origin.slice(space + 1))) origin = origin.slice(0, space);
  return { origin, level, message: levelEnd === -1 ? '' : line.slice(levelEnd + 1).trim() };
}

export interface TuningLine {
  collective: string | null;
  bytes: number;
  algorithm: string;
  protocol: string;
  /** Channels used (Hi - Lo + 1), when the line says. */
  channels: number | null;
}

const TUNING = /^(?:(\w+): )?(\d+) Bytes -> Algo (\S+) proto (\S+)(?: time [\d.]+)?(?: channel\{Lo\.\.Hi\}=\{(\d+)\.\.(\d+)\})?/;

export function parseTuningMessage(message: string): TuningLine | null {
  const m = TUNING.exec(message);
  if (!m) return null;
  return {
    collective: m[1] ?? null,
    bytes: Number(m[2]),
    algorithm: canonicalName(m[3], ALGORITHMS),
    protocol: canonicalName(m[4], PROTOCOLS),
    channels: m[5] !== undefined ? Number(m[6]) - Number(m[5]) + 1 : null,
  };
}

/** RING / Ring / 1 -> Ring; COLLNET_DIRECT -> CollnetDirect; unknown names are kept as printed. */
function canonicalName(printed: string, names: string[]): string {
  if (/^\d+$/.test(printed)) return names[Number(printed)] ?? printed;
  const key = printed.replace(/_/g, '').toLowerCase();
  return names.find((n) => n.toLowerCase() === key) ?? printed;
}

export interface ChannelCounts {
  coll: number;
  collnet: number | null;
  nvls: number | null;
  p2p: number | null;
}

const CHANNELS = /(\d+) coll channels, (?:(\d+) collnet channels, )?(?:(\d+) nvls channels, )?(?:(\d+) p2p channels)?/;

export function parseChannelMessage(message: string): ChannelCounts | null {
  const m = CHANNELS.exec(message);
  if (!m) return null;
  const opt = (s: string | undefined) => (s === undefined ? null : Number(s));
  return { coll: Number(m[1]), collnet: opt(m[2]), nvls: opt(m[3]), p2p: opt(m[4]) };
}

/** "NCCL version 2.21.5+cuda12.4" -> "2.21.5". */
export function parseVersionMessage(message: string): string | null {
  const m = /^NCCL version (\d+\.\d+\.\d+)/.exec(message);
  return m ? m[1] : null;
}

/** NCCL_VERSION_CODE as nccl-tests prints it (nccl-library=21903) -> "2.19.3"; the scheme changed in 2.9. */
export function decodeVersionCode(code: number): string | null {
  if (!Number.isInteger(code) || code <= 0) return null;
  if (code >= 10000) return `${Math.floor(code / 10000)}.${Math.floor((code % 10000) / 100)}.${code % 100}`;
  return `${Math.floor(code / 1000)}.${Math.floor((code % 1000) / 100)}.${code % 100}`;
}
