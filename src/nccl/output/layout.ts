/**
 * The nccl-tests result table's layouts: column names read from a header (of any release), the
 * layout guessed from a row's shape when no header came, and the reading of one side (out-of-place
 * or in-place) of a row. Pure functions.
 */
import type { SideResult } from './types.js';

export interface Layout {
  lead: string[];
  side: string[];
  timestamp: boolean;
  /** nccl-tests 1.x printed times in milliseconds. */
  timeScale?: number;
}

/** nccl-tests 1.x column names -> the current ones (its `res` is the max deviation, later `error`). */
export const OLD_COLUMN_NAMES: Record<string, string> = { bytes: 'size', N: 'count', op: 'redop', res: 'error' };

/** The current layout, used until a header says otherwise. */
export const DEFAULT_LAYOUT: Layout = { lead: ['size', 'count', 'type', 'redop', 'root'], side: ['time', 'algbw', 'busbw', '#wrong'], timestamp: false };

/** One side (out-of-place or in-place) of a row, by column name; times in microseconds. */
export function side(t: string[], offset: number, names: string[], timeScale: number): SideResult {
  const get = (name: string) => {
    const k = names.indexOf(name);
    return k === -1 ? null : num(t[offset + k]);
  };
  const rawTime = names.includes('time') ? get('time') : get('cputime');
  const time = rawTime === null ? null : rawTime * timeScale;
  const result: SideResult = { time_us: time, algbw_gbps: get('algbw'), busbw_gbps: get('busbw'), wrong: get('#wrong') };
  if (names.includes('error')) result.max_error = get('error');
  return result;
}

/**
 * Rows before any header (output cut at the top, or a header lost in interleaving): the shape of
 * the row tells the release. 13 tokens: current; 12: pre-2.13 with redop or root; 11: pre-2.13
 * with neither. Old rows end in an `error` deviation (0e+00), current ones in #wrong counts.
 */
export function guessLayout(t: string[]): Layout | null {
  const oldStyle = /e[+-]\d+$/.test(t.at(-1)!) && t.at(-1) !== '0';
  const sideNames = oldStyle ? ['time', 'algbw', 'busbw', 'error'] : DEFAULT_LAYOUT.side;
  const lead = t.length - 8;
  if (lead === 5) return { lead: DEFAULT_LAYOUT.lead, side: sideNames, timestamp: false };
  if (lead === 4) return { lead: ['size', 'count', 'type', isUint(t[3].replace(/^-/, '')) ? 'root' : 'redop'], side: sideNames, timestamp: false };
  if (lead === 3) return { lead: ['size', 'count', 'type'], side: sideNames, timestamp: false };
  return null;
}

export function parseSettings(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z ]*?):? (\d\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) out[m[1].trim()] = m[2];
  return out;
}

export function isUint(s: string): boolean {
  if (s.length === 0 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
