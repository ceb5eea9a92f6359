/**
 * Timestamps at the start of log lines, in the formats GPU hosts produce:
 * - journalctl -o short-iso / short-iso-precise, dmesg --time-format iso, Python logging, RFC 3339
 *   (`2024-03-05T10:12:33+0000`, `2024-03-05T10:12:33,123456+00:00`, `2024-03-05 10:12:33,123`,
 *   optionally in brackets as NCCL_DEBUG_TIMESTAMP_FORMAT prints them);
 * - kernel seconds since boot (`[ 1234.567890]`, dmesg and kern.log) and dmesg -T
 *   (`[Tue Mar  5 10:12:33 2024]`);
 * - syslog (`Mar  5 10:12:33 host ...`, which may still carry the kernel's `[1234.5]` after it);
 * - vLLM (`INFO 03-05 10:12:33 [file.py:12]`, optionally after `(EngineCore_0 pid=12) `) and
 *   glog/c10 as PyTorch prints it (`[rank0]:[E0305 10:12:33.123456 ...]`, `E0305 10:12:33.123 ...`).
 * Formats without a year take the year that puts the time at most a day in the future of a
 * reference: the latest dated line of the input when it has one (see datedMs), else now.
 * Formats without a zone are local time.
 */

export interface Stamp {
  /** Wall-clock time in ms since the epoch. */
  ms?: number;
  /** Kernel seconds since boot (comparable only within one host and boot). */
  mono?: number;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

const ISO = /^\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?\]?(?:\s|$)/;
const KERNEL_MONO = /^\[\s*(\d+\.\d+)\]/;
const DMESG_T = /^\[(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\]/;
const SYSLOG = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\s/;
const MONO_INSIDE = /^[^[]{0,200}?: \[\s*(\d+\.\d+)\] /;
const VLLM = /^(?:\([^)]{0,80}\) )?(?:INFO|WARNING|ERROR|DEBUG|CRITICAL) (\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s/;
const GLOG = /^(?:\[rank\d+\]:)?\[?[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+)\s/;

export function parseTimestamp(line: string, now: number): Stamp {
  const c = line.charCodeAt(0);
  // Cheap dispatch on the first character: most lines are tested against one or two patterns.
  if (c === 91 /* [ */ || (c >= 48 && c <= 57)) {
    const fast = plainIsoMs(line);
    if (fast !== undefined) return { ms: fast };
    let m = ISO.exec(line);
    if (m) return { ms: isoMs(m) };
    if (c === 91) {
      m = KERNEL_MONO.exec(line);
      if (m) return { mono: Number(m[1]) };
      m = DMESG_T.exec(line);
      if (m && m[1] in MONTHS) return { ms: new Date(Number(m[6]), MONTHS[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime() };
      m = GLOG.exec(line);
      if (m) return { ms: withoutYear(now, Number(m[1]) - 1, Number(m[2]), m, 3) };
    }
    return {};
  }
  let m = SYSLOG.exec(line);
  if (m && m[1] in MONTHS) {
    const stamp: Stamp = { ms: withoutYear(now, MONTHS[m[1]], Number(m[2]), m, 3) };
    const mono = MONO_INSIDE.exec(line.slice(16));
    if (mono) stamp.mono = Number(mono[1]);
    return stamp;
  }
  m = VLLM.exec(line);
  if (m) return { ms: withoutYear(now, Number(m[1]) - 1, Number(m[2]), m, 3) };
  m = GLOG.exec(line);
  if (m) return { ms: withoutYear(now, Number(m[1]) - 1, Number(m[2]), m, 3) };
  return {};
}

/**
 * The common ISO form `YYYY-MM-DD[T ]HH:MM:SS[,.]fff` (optionally in brackets) without a zone,
 * read by character codes: Python logging, vLLM and many services print it on every line.
 * Anything else (zones, other shapes) is left to the ISO regex.
 */
function plainIsoMs(line: string): number | undefined {
  const p = line.charCodeAt(0) === 91 ? 1 : 0;
  const at = (k: number) => line.charCodeAt(p + k) - 48;
  const two = (k: number) => {
    const a = at(k);
    const b = at(k + 1);
    return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
  };
  const y1 = two(0);
  const y2 = two(2);
  const mo = two(5);
  const d = two(8);
  const h = two(11);
  const mi = two(14);
  const s = two(17);
  const sep = line.charCodeAt(p + 10);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined;
  if (line.charCodeAt(p + 4) !== 45 || line.charCodeAt(p + 7) !== 45 || (sep !== 84 && sep !== 32) || line.charCodeAt(p + 13) !== 58 || line.charCodeAt(p + 16) !== 58) return undefined;
  let k = p + 19;
  let ms = 0;
  const dot = line.charCodeAt(k);
  if (dot === 44 || dot === 46) {
    let scale = 100;
    for (k++; k < line.length; k++) {
      const digit = line.charCodeAt(k) - 48;
      if (digit < 0 || digit > 9) break;
      ms += digit * scale;
      scale /= 10;
    }
  }
  if (p === 1 && line.charCodeAt(k) === 93) k++;
  const next = line.charCodeAt(k);
  // A zone follows (Z, +hh:mm): the regex handles it; anything but whitespace or the end is not this form.
  if (!(k >= line.length || next === 32 || next === 9)) return undefined;
  return localMs(y1 * 100 + y2, mo - 1, d, h, mi, s) + ms;
}

/** The time of a line in a format that carries its year (ISO forms, dmesg -T), else undefined. */
export function datedMs(line: string): number | undefined {
  const iso = ISO.exec(line);
  if (iso) return isoMs(iso);
  const m = DMESG_T.exec(line);
  return m && m[1] in MONTHS ? new Date(Number(m[6]), MONTHS[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime() : undefined;
}

function isoMs(m: RegExpExecArray): number {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const zone = m[8];
  if (!zone) return localMs(y, mo - 1, d, h, mi, s) + ms;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s) + ms;
  if (zone === 'Z') return utc;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return utc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

/** Local time for a month/day without a year: the latest year that is not more than a day ahead of now. */
function withoutYear(now: number, month: number, day: number, m: RegExpExecArray, hourIndex: number): number {
  const [h, mi, s] = [0, 1, 2].map((i) => Number(m[hourIndex + i]));
  const frac = m[hourIndex + 3];
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  const year = new Date(now).getFullYear();
  const t = localMs(year, month, day, h, mi, s) + ms;
  return t > now + 86_400_000 ? localMs(year - 1, month, day, h, mi, s) + ms : t;
}

/** UTC offsets of local hours seen so far: `new Date(y, m, d, ...)` costs a time-zone lookup per call. */
const localOffsets = new Map<number, number>();

/** `new Date(y, month, d, h, mi, s).getTime()`, with the zone offset looked up once per hour of the log. */
function localMs(y: number, month: number, d: number, h: number, mi: number, s: number): number {
  const key = ((y * 12 + month) * 32 + d) * 24 + h;
  let offset = localOffsets.get(key);
  if (offset === undefined) {
    offset = new Date(y, month, d, h).getTime() - Date.UTC(y, month, d, h);
    if (localOffsets.size > 10_000) localOffsets.clear();
    localOffsets.set(key, offset);
  }
  return Date.UTC(y, month, d, h, mi, s) + offset;
}

/** How a stamp is shown: ISO for wall-clock times, `boot+Ns` for kernel seconds since boot. */
export function formatStamp(stamp: Stamp): string | null {
  if (stamp.ms !== undefined) return new Date(stamp.ms).toISOString();
  if (stamp.mono !== undefined) return `boot+${stamp.mono.toFixed(3)}s`;
  return null;
}
