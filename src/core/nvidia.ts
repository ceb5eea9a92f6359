/**
 * nvidia-smi's query interface, shared by every tool that reads GPUs (snapshot, monitor,
 * gpu_status, run contexts). `--format=csv,noheader,nounits` prints one line per GPU with the
 * requested fields in order; a field the GPU does not support prints as `[N/A]` or
 * `[Not Supported]`, which becomes null with the reason, never zero.
 */
import type { Config } from './config.js';
import { UserError } from './errors.js';
import { runCommand, spawnChild, type Child, outputTail } from './exec.js';
import { findBinary, INSTALL_HINTS } from './probe.js';

export interface GpuField {
  value: string | number | null;
  /** Why value is null ("not supported by this GPU", "not available"). */
  reason?: string;
}

export type GpuRow = Record<string, GpuField>;

const NULL_MARKERS: Record<string, string> = {
  '[N/A]': 'not available',
  'N/A': 'not available',
  '[Not Supported]': 'not supported by this GPU',
  '[Unknown Error]': 'nvidia-smi reported an unknown error',
  '[Insufficient Permissions]': 'insufficient permissions',
  '[GPU is lost]': 'GPU is lost',
  '[Requested functionality has been deprecated]': 'deprecated by the driver',
};

/** Fields whose values are text even when they look numeric (a throttle mask `0x...04` stays hex). */
const TEXT_FIELDS = new Set([
  'name', 'uuid', 'pci.bus_id', 'serial', 'driver_version', 'vbios_version', 'compute_mode', 'pstate',
  'gpu_name', 'gpu_uuid', 'gpu_bus_id', 'process_name', 'clocks_event_reasons.active', 'clocks_throttle_reasons.active',
]);

/** Free-text fields that may contain commas; surplus CSV parts are merged into the first one present. */
const FREE_TEXT_FIELDS = ['name', 'gpu_name', 'process_name'];

export function nvidiaSmiPath(config: Config): string | null {
  return findBinary('nvidia-smi', config.binPath);
}

export function requireNvidiaSmi(config: Config): string {
  const path = nvidiaSmiPath(config);
  if (!path) throw new UserError('nvidia-smi was not found, so GPUs cannot be read.', `${INSTALL_HINTS['nvidia-smi']}.`);
  return path;
}

/** Parse one CSV line of nvidia-smi output for `fields`. Values never contain commas except names, handled by field count. */
export function parseGpuLine(line: string, fields: readonly string[]): GpuRow {
  let parts = line.split(',').map((p) => p.trim());
  // A product or process name can contain a comma: merge the surplus into that field.
  const nameIndex = fields.findIndex((f) => FREE_TEXT_FIELDS.includes(f));
  if (parts.length > fields.length && nameIndex >= 0) {
    const surplus = parts.length - fields.length;
    parts = [...parts.slice(0, nameIndex), parts.slice(nameIndex, nameIndex + surplus + 1).join(', '), ...parts.slice(nameIndex + surplus + 1)];
  }
  const row: GpuRow = {};
  fields.forEach((field, i) => {
    const raw = parts[i];
    if (raw === undefined) {
      row[field] = { value: null, reason: 'missing from nvidia-smi output' };
    } else if (raw in NULL_MARKERS) {
      row[field] = { value: null, reason: NULL_MARKERS[raw] };
    } else if (!TEXT_FIELDS.has(field) && raw !== '' && Number.isFinite(Number(raw))) {
      row[field] = { value: Number(raw) };
    } else {
      row[field] = { value: raw };
    }
  });
  return row;
}

/** One query: a row per GPU. Throws UserError when nvidia-smi is missing or fails. */
export async function queryGpus(config: Config, fields: readonly string[], target: 'gpu' | 'compute-apps' = 'gpu'): Promise<GpuRow[]> {
  const bin = requireNvidiaSmi(config);
  const r = await runCommand([bin, `--query-${target}=${fields.join(',')}`, '--format=csv,noheader,nounits'], { timeoutMs: 20_000 });
  if (!r.ok) {
    const why = r.timedOut ? 'timed out after 20 s (a hung driver?)' : outputTail(r, 3);
    throw new UserError(`nvidia-smi failed: ${why}`, 'Check the driver with `nvidia-smi` and the kernel log (diagnose_logs with dmesg) for Xid errors.');
  }
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('No running'))
    .map((l) => parseGpuLine(l, fields));
}

/** nvidia-smi's answer to a field name this driver does not know (older drivers, renamed fields). */
export function rejectedField(output: string): string | null {
  return /Field "([^"]+)" is not a valid field to query/.exec(output)?.[1] ?? null;
}

/**
 * Like queryGpus, but a field the driver rejects (nvidia-smi refuses the whole query for one unknown
 * name) is dropped and the query retried: newer field names degrade to absent, not to an error.
 * `known` remembers rejections across calls so later queries skip them at once.
 */
export async function queryGpusTolerant(
  config: Config,
  fields: readonly string[],
  target: 'gpu' | 'compute-apps' = 'gpu',
  known: Set<string> = new Set(),
): Promise<{ rows: GpuRow[]; rejected: string[] }> {
  let asked = fields.filter((f) => !known.has(f));
  const rejected = fields.filter((f) => known.has(f));
  for (;;) {
    try {
      return { rows: await queryGpus(config, asked, target), rejected };
    } catch (error) {
      const field = error instanceof UserError ? rejectedField(error.message) : null;
      if (!field || !asked.includes(field) || asked.length === 1) throw error;
      known.add(field);
      rejected.push(field);
      asked = asked.filter((f) => f !== field);
    }
  }
}

/**
 * A streaming query (`-lms interval`): one child for the whole session instead of a process per
 * sample. `onRow` gets each GPU's row as it arrives.
 */
export function streamGpus(config: Config, fields: readonly string[], intervalMs: number, maxMs: number, onRow: (row: GpuRow) => void): Child {
  const bin = requireNvidiaSmi(config);
  return spawnChild([bin, `--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits', `-lms`, String(intervalMs)], {
    timeoutMs: maxMs,
    maxOutputBytes: 64 * 1024,
    onLine: (line, stream) => {
      if (stream === 'stdout' && line.trim()) onRow(parseGpuLine(line, fields));
    },
  });
}

/** The plain value of a field, or null. */
export function num(row: GpuRow, field: string): number | null {
  const v = row[field]?.value;
  return typeof v === 'number' ? v : null;
}
