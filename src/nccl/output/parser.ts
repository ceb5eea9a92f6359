/**
 * Parser for nccl-tests text output, fed line by line (streaming) or as a whole text. Pure: no I/O.
 *
 * What it copes with, because real output has all of it:
 * - the table of every release: columns are read from the header line by name (never by position:
 *   widths changed in 2.13, 2.18, 2.19.6), so the pre-2.13 per-collective layouts (no root, no
 *   redop, an `error` column instead of `#wrong`), -I per-iteration columns, -C `cputime` and
 *   timestamps all map; rows seen without a header get the layout guessed from their shape;
 * - `#wrong` printed with %g (1.04858e+06) or N/A (-c 0);
 * - mpirun --tag-output prefixes ([1,0]<stdout>:), MPICH -prepend-rank ([0] ) and srun --label (0: );
 * - NCCL INFO/WARN lines interleaved anywhere (see nccl-log.ts);
 * - output cut short (no footer: `truncated`), failure lines and launcher messages;
 * - "# Reducing maxBytes to N due to memory limitation" (2.10+: the run is complete, only shorter);
 * - nccl-tests 1.x: "nThread ..." and the footer without '#', a `bytes N type op ... res` header
 *   and times in milliseconds.
 */
import { decodeVersionCode, parseChannelMessage, parseNcclLogLine, parseTuningMessage, parseVersionMessage, type TuningLine } from './nccl-log.js';
import { OLD_COLUMN_NAMES, guessLayout, isUint, parseSettings, side, type Layout } from './layout.js';
import type { FailureLine, ParsedOutput, ResultRow, SideResult, TuningChoice } from './types.js';

const MAX_WARNINGS = 50;
const MAX_FAILURES = 50;
const MAX_UNPARSED = 20;

/**
 * Lines nccl-tests 1.x printed without the leading '#' (printf "nThread ...", PRINT(" Out of bounds
 * values ..."): they are read like the commented ones.
 */
const UNCOMMENTED = /^\s*(nThread |Out of bounds values\s*:|Avg bus bandwidth\s*:|Reducing maxBytes to )/;


const FAILURE_PATTERNS: [RegExp, FailureLine['kind']][] = [
  [/Test NCCL failure/, 'nccl'],
  [/Test CUDA failure/, 'cuda'],
  [/Test timeout|timed out/i, 'timeout'],
  [/Invalid number of GPUs|Please check the number of processes and GPUs/, 'gpus'],
  [/: Test failure /, 'test'],
  [/^(srun|slurmstepd|salloc|sbatch): (error|fatal)|^srun: Job step aborted|Primary job\s+terminated|mpirun (noticed|detected|was unable)|not enough slots|ORTE was unable|prterun/, 'launcher'],
  // MPICH Hydra's banner when a rank dies, and its follow-up line.
  [/BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES|YOUR APPLICATION TERMINATED WITH THE EXIT STRING|^\[mpiexec@[^\]]*\]/, 'launcher'],
];

export class NcclTestsParser {
  private layout: Layout | null = null;
  private format: ParsedOutput['format'] = 'none';
  private readonly out: ParsedOutput = {
    format: 'none',
    nccl_tests_version: null,
    nccl_version: null,
    test_name: null,
    settings: null,
    devices: [],
    columns: [],
    rows: [],
    out_of_bounds: null,
    avg_busbw: null,
    table_started: false,
    concluded: false,
    truncated: false,
    nccl_warnings: [],
    nccl_warning_count: 0,
    failures: [],
    tuning: [],
    channels: null,
    json_path: null,
    max_bytes_reduced_to: null,
    unparsed_rows: [],
    lines: 0,
  };
  private readonly tuningMessages = new Map<string, number>();

  /** @param onRow called for every result row as it is parsed (progress). */
  constructor(private readonly onRow?: (row: ResultRow, total: number) => void) {}

  /** Feed the whole text at once. */
  pushText(text: string): this {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      this.push(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
      start = end + 1;
    }
    return this;
  }

  push(raw: string): void {
    this.out.lines++;
    let line = raw;
    let rank: string | null = null;
    // mpirun --tag-output: "[jobid,rank]<stdout>:" (possibly after a --timestamp-output stamp).
    const tag = line.indexOf(']<std');
    if (tag !== -1) {
      const m = /\[\d+,(\d+)\]<std(?:out|err)>: ?/.exec(line);
      if (m) {
        rank = m[1];
        line = line.slice(m.index + m[0].length);
      }
    } else if (line.charCodeAt(0) === 91 /* [ */) {
      // MPICH Hydra -prepend-rank: "[12] ".
      const m = /^\[(\d+)\] ?/.exec(line);
      if (m) {
        rank = m[1];
        line = line.slice(m[0].length);
      }
    } else {
      // srun --label: "12: ".
      const colon = line.indexOf(': ');
      if (colon > 0 && colon < 8 && /^\s*\d+$/.test(line.slice(0, colon))) {
        rank = line.slice(0, colon).trim();
        line = line.slice(colon + 2);
      }
    }
    let i = 0;
    while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i === line.length) return;
    const c = line.charCodeAt(i);
    if (c === 35 /* # */) this.comment(line);
    else if (c >= 48 && c <= 57 && line.indexOf(' NCCL ') === -1 && this.row(line)) return;
    // n(Thread), O(ut of bounds), A(vg bus bandwidth), R(educing): nccl-tests 1.x lines without '#'.
    else if ((c === 110 || c === 79 || c === 65 || c === 82) && UNCOMMENTED.test(line)) this.comment(line, true);
    else this.other(line, rank);
  }

  result(): ParsedOutput {
    const out = this.out;
    out.format = this.format;
    // Truncated means only that the output ended early: the table started and its footer never came.
    out.truncated = out.table_started && !(out.out_of_bounds || out.avg_busbw || out.concluded);
    out.tuning = aggregateTuning(this.tuningMessages);
    out.tuning.sort((a, b) => (a.collective ?? '').localeCompare(b.collective ?? '') || a.bytes - b.bytes);
    return out;
  }

  private comment(line: string, uncommented = false): void {
    const body = uncommented ? line.trim() : line.slice(line.indexOf('#') + 1).trim();
    if (body === '') return;
    const out = this.out;
    if (body.startsWith('Rank ')) {
      // nccl-tests 1.x printed no Group and no Pid.
      const d = /^Rank\s+(\d+)\s+(?:Group\s+(\d+)\s+)?(?:Pid\s+(\d+)\s+)?on\s+(\S+)\s+device\s+(\d+)\s+\[([^\]]*)\]\s*(.*)$/.exec(body);
      if (d) {
        out.devices.push({ rank: +d[1], group: d[2] === undefined ? null : +d[2], pid: d[3] === undefined ? null : +d[3], host: d[4], device: +d[5], bus_id: d[6], name: d[7] });
      }
      return;
    }
    if (body.startsWith('size') || body.startsWith('bytes ')) {
      this.header(body.split(/\s+/).map((t) => OLD_COLUMN_NAMES[t] ?? t), body.startsWith('bytes '));
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = /^nccl-tests version (\S+)(?: nccl-headers=(\d+))?(?: nccl-library=(\d+))?/.exec(body))) {
      out.nccl_tests_version = m[1];
      if (m[3] || m[2]) out.nccl_version ??= decodeVersionCode(Number(m[3] ?? m[2]));
    } else if ((m = /^Collective test starting: (\S+)/.exec(body))) out.test_name = m[1];
    else if (body.startsWith('nThread ')) out.settings = parseSettings(body);
    else if ((m = /^Out of bounds values\s*:\s*(\d+)\s*(OK|FAILED)?/.exec(body))) {
      out.out_of_bounds = { count: +m[1], ok: m[2] ? m[2] === 'OK' : +m[1] === 0 };
      if (!out.out_of_bounds.ok) this.fail('data', line.trim());
    } else if ((m = /^Avg bus bandwidth\s*:\s*(\S+)\s*(OK|FAILED)?/.exec(body))) {
      out.avg_busbw = { value: Number(m[1]), verdict: (m[2] as 'OK' | 'FAILED' | undefined) ?? null };
      if (m[2] === 'FAILED') this.fail('min_bw', line.trim());
    } else if ((m = /^Reducing maxBytes to (\d+)/.exec(body))) out.max_bytes_reduced_to = Number(m[1]);
    else if (body.startsWith('Collective test concluded')) out.concluded = true;
    else if ((m = /^Writing JSON output to (.+)$/.exec(body))) out.json_path = m[1].trim();
    else if (body.startsWith('error:')) this.fail('error', line.trim());
  }

  private header(tokens: string[], version1 = false): void {
    const first = tokens.findIndex((t) => t === 'time' || t === 'cputime');
    if (first === -1 || !tokens.includes('count')) return;
    const second = tokens.indexOf(tokens[first], first + 1);
    const side = tokens.slice(first, second === -1 ? undefined : second).filter((t) => t !== 'timestamp');
    this.layout = { lead: tokens.slice(0, first), side, timestamp: tokens.at(-1) === 'timestamp', ...(version1 ? { timeScale: 1000 } : {}) };
    this.out.columns = tokens;
    this.out.table_started = true;
    this.format = side.includes('error') || !this.layout.lead.includes('root') ? 'pre-2.13' : 'current';
  }

  /** A result row; false when the line is not one (it is then handled as other output). */
  private row(line: string): boolean {
    const t = line.trim().split(/\s+/);
    if (t.length < 6 || !isUint(t[0]) || !isUint(t[1])) return false;
    const layout = this.layout ?? guessLayout(t);
    if (!layout) return this.unparsed(line);
    const lead = layout.lead.length;
    const width = layout.side.length;
    const tail = layout.timestamp ? 2 : 0;
    let oop: SideResult | null = null;
    let ip: SideResult | null;
    const scale = layout.timeScale ?? 1;
    if (t.length === lead + 2 * width + tail) {
      oop = side(t, lead, layout.side, scale);
      ip = side(t, lead + width, layout.side, scale);
    } else if (t.length === lead + width + tail) {
      ip = side(t, lead, layout.side, scale); // trace replay prints only the in-place half
    } else return this.unparsed(line);
    const at = (name: string) => {
      const k = layout.lead.indexOf(name);
      return k === -1 ? null : t[k];
    };
    const root = at('root');
    const row: ResultRow = {
      size: Number(t[0]),
      count: Number(t[1]),
      type: at('type') ?? '',
      redop: at('redop'),
      root: root === null ? null : Number(root),
      out_of_place: oop,
      in_place: ip,
    };
    if (!this.layout) {
      this.format = layout.side.includes('error') ? 'pre-2.13' : lead === 5 ? 'current' : 'pre-2.13';
      this.out.table_started = true;
    }
    this.out.rows.push(row);
    this.onRow?.(row, this.out.rows.length);
    return true;
  }

  private unparsed(line: string): true {
    if (this.out.unparsed_rows.length < MAX_UNPARSED) this.out.unparsed_rows.push(line.trim());
    return true;
  }

  private other(line: string, rank: string | null): void {
    const log = parseNcclLogLine(line);
    if (log) {
      if (log.level === 'WARN') {
        this.out.nccl_warning_count++;
        const text = `${rank !== null ? `[rank ${rank}] ` : ''}${log.message}`;
        if (this.out.nccl_warnings.length < MAX_WARNINGS && !this.out.nccl_warnings.includes(text)) this.out.nccl_warnings.push(text);
      } else this.info(log.message);
      return;
    }
    const trimmed = line.trim();
    const hit = FAILURE_PATTERNS.find(([pattern]) => pattern.test(trimmed));
    if (hit) this.fail(hit[1], trimmed);
  }

  private info(message: string): void {
    if (message.includes(' Bytes -> Algo ')) {
      // Printed once per collective call: count identical messages, parse each distinct one once.
      this.tuningMessages.set(message, (this.tuningMessages.get(message) ?? 0) + 1);
      return;
    }
    if (message.includes(' coll channels')) {
      this.out.channels ??= parseChannelMessage(message);
      return;
    }
    const version = message.startsWith('NCCL version') ? parseVersionMessage(message) : null;
    if (version) this.out.nccl_version = version;
  }

  private fail(kind: FailureLine['kind'], line: string): void {
    if (this.out.failures.length < MAX_FAILURES) this.out.failures.push({ kind, line });
  }
}

/** The most frequent choice per (collective, size), from the distinct tuning messages and their counts. */
function aggregateTuning(messages: Map<string, number>): TuningChoice[] {
  const bySize = new Map<string, { choice: TuningLine; calls: number }[]>();
  for (const [message, calls] of messages) {
    const choice = parseTuningMessage(message);
    if (!choice) continue;
    const key = `${choice.collective ?? ''}|${choice.bytes}`;
    const list = bySize.get(key) ?? [];
    const same = list.find((e) => e.choice.algorithm === choice.algorithm && e.choice.protocol === choice.protocol && e.choice.channels === choice.channels);
    if (same) same.calls += calls;
    else list.push({ choice, calls });
    bySize.set(key, list);
  }
  return [...bySize.values()].map((list) => {
    list.sort((a, b) => b.calls - a.calls);
    return { ...list[0].choice, calls: list[0].calls, mixed: list.length > 1 };
  });
}

export function parseNcclTestsOutput(text: string): ParsedOutput {
  return new NcclTestsParser().pushText(text).result();
}
