/** What the nccl-tests parsers (text and JSON) produce. */
import type { ChannelCounts } from './nccl-log.js';

export interface SideResult {
  time_us: number | null;
  algbw_gbps: number | null;
  busbw_gbps: number | null;
  /** Wrong elements (#wrong); null when checking was off (N/A) or the release printed `error`. */
  wrong: number | null;
  /** Pre-2.13 releases: the maximum deviation printed in the `error` column. */
  max_error?: number | null;
}

export interface ResultRow {
  size: number;
  count: number;
  type: string;
  redop: string | null;
  root: number | null;
  out_of_place: SideResult | null;
  in_place: SideResult | null;
}

export interface DeviceLine {
  rank: number;
  group: number | null;
  /** null for nccl-tests 1.x, which did not print it. */
  pid: number | null;
  host: string;
  device: number;
  bus_id: string;
  name: string;
}

export const FAILURE_KINDS = ['nccl', 'cuda', 'timeout', 'gpus', 'test', 'data', 'min_bw', 'error', 'launcher'] as const;
export interface FailureLine {
  kind: (typeof FAILURE_KINDS)[number];
  line: string;
}

export interface TuningChoice {
  collective: string | null;
  bytes: number;
  algorithm: string;
  protocol: string;
  channels: number | null;
  /** Collective calls that printed this choice. */
  calls: number;
  /** Other choices were printed for the same collective and size too. */
  mixed: boolean;
}

export interface ParsedOutput {
  format: 'current' | 'pre-2.13' | 'none';
  nccl_tests_version: string | null;
  nccl_version: string | null;
  test_name: string | null;
  /** The "# nThread ... minBytes ..." line, keyed as printed. */
  settings: Record<string, string> | null;
  devices: DeviceLine[];
  columns: string[];
  rows: ResultRow[];
  out_of_bounds: { count: number; ok: boolean } | null;
  avg_busbw: { value: number; verdict: 'OK' | 'FAILED' | null } | null;
  table_started: boolean;
  concluded: boolean;
  /** The table started but the footer never came. */
  truncated: boolean;
  /** Distinct NCCL WARN messages (at most MAX_WARNINGS), with the rank when a prefix said. */
  nccl_warnings: string[];
  nccl_warning_count: number;
  failures: FailureLine[];
  tuning: TuningChoice[];
  channels: ChannelCounts | null;
  /** Where nccl-tests said it wrote its -J output. */
  json_path: string | null;
  /** "# Reducing maxBytes to N due to memory limitation": nccl-tests lowered the largest size to fit GPU memory. */
  max_bytes_reduced_to: number | null;
  unparsed_rows: string[];
  lines: number;
}
