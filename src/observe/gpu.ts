/**
 * gpu_status' logic: one nvidia-smi query per GPU set (plus one for compute processes), fields a
 * GPU or driver does not support reported as null with the reason, and health flags derived from
 * throttle reasons, ECC counters, retired pages and remapped rows.
 *
 * Field names: drivers >= 535 call throttle reasons `clocks_event_reasons.*`; older ones only know
 * `clocks_throttle_reasons.*`. Both are tried (new first); remapped_rows.* exist on Ampere+ drivers.
 */
import type { Config } from '../core/config.js';
import { queryGpusTolerant, type GpuRow } from '../core/nvidia.js';

const REASONS = ['gpu_idle', 'applications_clocks_setting', 'sw_power_cap', 'hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown', 'sw_thermal_slowdown', 'sync_boost'] as const;
export type ThrottleReason = (typeof REASONS)[number];
const NEW_PREFIX = 'clocks_event_reasons';
const OLD_PREFIX = 'clocks_throttle_reasons';
const reasonFields = (prefix: string) => [`${prefix}.active`, ...REASONS.map((r) => `${prefix}.${r}`)];

export const GPU_FIELDS = [
  'index', 'name', 'uuid', 'pci.bus_id', 'driver_version', 'pstate',
  'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total',
  'temperature.gpu', 'temperature.memory', 'power.draw', 'power.limit', 'fan.speed',
  'clocks.sm', 'clocks.mem', 'clocks.max.sm', 'clocks.max.mem',
  ...reasonFields(NEW_PREFIX),
  'ecc.mode.current', 'ecc.errors.corrected.volatile.total', 'ecc.errors.uncorrected.volatile.total',
  'ecc.errors.corrected.aggregate.total', 'ecc.errors.uncorrected.aggregate.total',
  'retired_pages.single_bit_ecc.count', 'retired_pages.double_bit.count', 'retired_pages.pending',
  'remapped_rows.correctable', 'remapped_rows.uncorrectable', 'remapped_rows.pending', 'remapped_rows.failure',
];
export const PROCESS_FIELDS = ['pid', 'process_name', 'used_gpu_memory', 'gpu_uuid'];

/** A GPU this hot is worth a look even before it throttles (datacenter parts slow down around 85-90 °C). */
const HOT_C = 85;

export interface HealthFlag {
  flag: string;
  severity: 'critical' | 'warning' | 'info';
  detail: string;
  next_check: string;
}

export interface GpuStatus {
  index: number | null;
  name: string | null;
  uuid: string | null;
  bus_id: string | null;
  driver_version: string | null;
  pstate: string | null;
  utilization_pct: { gpu: number | null; memory: number | null };
  memory_mib: { used: number | null; total: number | null };
  temperature_c: { gpu: number | null; memory: number | null };
  power_w: { draw: number | null; limit: number | null };
  fan_pct: number | null;
  clocks_mhz: { sm: number | null; mem: number | null; max_sm: number | null; max_mem: number | null };
  throttle: { active_mask: string | null; active: ThrottleReason[]; reasons: Record<ThrottleReason, boolean | null> };
  ecc: { mode: string | null; volatile_corrected: number | null; volatile_uncorrected: number | null; aggregate_corrected: number | null; aggregate_uncorrected: number | null };
  retired_pages: { single_bit: number | null; double_bit: number | null; pending: boolean | null };
  remapped_rows: { correctable: number | null; uncorrectable: number | null; pending: boolean | null; failure: boolean | null };
  /** nvidia-smi field -> why it is null ("not supported by this GPU", "not a field this driver knows"). */
  unavailable: Record<string, string>;
  health: 'healthy' | 'degraded' | 'unhealthy';
  flags: HealthFlag[];
  processes: { pid: number | null; name: string | null; used_memory_mib: number | null; unavailable: Record<string, string> }[];
}

export interface GpuReport {
  gpus: GpuStatus[];
  /** Fields this driver rejected, queried without them. */
  fields_rejected: string[];
  processes_error: string | null;
}

export async function readGpuStatus(config: Config, options: { processes: boolean; known: Set<string> }): Promise<GpuReport> {
  const main = await queryGpusTolerant(config, GPU_FIELDS, 'gpu', options.known);
  let rows = main.rows;
  let rejected = [...main.rejected];
  // Pre-535 drivers: ask again for the throttle reasons under their old names, and merge by index.
  if (reasonFields(NEW_PREFIX).some((f) => rejected.includes(f))) {
    const old = await queryGpusTolerant(config, ['index', ...reasonFields(OLD_PREFIX)], 'gpu', options.known);
    const byIndex = new Map(old.rows.map((r) => [r.index?.value, r]));
    const suffixes = ['active', ...REASONS];
    rows = rows.map((r) => {
      const merged = { ...r };
      for (const suffix of suffixes) {
        const cell = byIndex.get(r.index?.value)?.[`${OLD_PREFIX}.${suffix}`];
        if (cell) merged[`${NEW_PREFIX}.${suffix}`] = cell;
      }
      return merged;
    });
    // What the old names answered is no longer missing; reasons are reported under the new names.
    const answered = new Set(suffixes.filter((sfx) => !old.rejected.includes(`${OLD_PREFIX}.${sfx}`)).map((sfx) => `${NEW_PREFIX}.${sfx}`));
    rejected = rejected.filter((f) => !answered.has(f));
  }
  const gpus = rows.map((row) => toStatus(row, rejected));

  let processesError: string | null = null;
  if (options.processes) {
    try {
      const apps = await queryGpusTolerant(config, PROCESS_FIELDS, 'compute-apps', options.known);
      const byUuid = new Map(gpus.map((g) => [g.uuid, g]));
      for (const app of apps.rows) {
        const gpu = byUuid.get(text(app, 'gpu_uuid'));
        if (!gpu) continue;
        const unavailable = reasons(app, ['pid', 'process_name', 'used_gpu_memory'], apps.rejected);
        gpu.processes.push({ pid: numeric(app, 'pid'), name: text(app, 'process_name'), used_memory_mib: numeric(app, 'used_gpu_memory'), unavailable });
      }
    } catch (error) {
      processesError = (error as Error).message;
    }
  }
  return { gpus, fields_rejected: rejected, processes_error: processesError };
}

function toStatus(row: GpuRow, rejected: string[]): GpuStatus {
  const reasonState = Object.fromEntries(REASONS.map((r) => [r, activeFlag(text(row, `${NEW_PREFIX}.${r}`))])) as Record<ThrottleReason, boolean | null>;
  const status: GpuStatus = {
    index: numeric(row, 'index'),
    name: text(row, 'name'),
    uuid: text(row, 'uuid'),
    bus_id: text(row, 'pci.bus_id'),
    driver_version: text(row, 'driver_version'),
    pstate: text(row, 'pstate'),
    utilization_pct: { gpu: numeric(row, 'utilization.gpu'), memory: numeric(row, 'utilization.memory') },
    memory_mib: { used: numeric(row, 'memory.used'), total: numeric(row, 'memory.total') },
    temperature_c: { gpu: numeric(row, 'temperature.gpu'), memory: numeric(row, 'temperature.memory') },
    power_w: { draw: numeric(row, 'power.draw'), limit: numeric(row, 'power.limit') },
    fan_pct: numeric(row, 'fan.speed'),
    clocks_mhz: { sm: numeric(row, 'clocks.sm'), mem: numeric(row, 'clocks.mem'), max_sm: numeric(row, 'clocks.max.sm'), max_mem: numeric(row, 'clocks.max.mem') },
    throttle: { active_mask: text(row, `${NEW_PREFIX}.active`), active: REASONS.filter((r) => reasonState[r]), reasons: reasonState },
    ecc: {
      mode: text(row, 'ecc.mode.current'),
      volatile_corrected: numeric(row, 'ecc.errors.corrected.volatile.total'),
      volatile_uncorrected: numeric(row, 'ecc.errors.uncorrected.volatile.total'),
      aggregate_corrected: numeric(row, 'ecc.errors.corrected.aggregate.total'),
      aggregate_uncorrected: numeric(row, 'ecc.errors.uncorrected.aggregate.total'),
    },
    retired_pages: { single_bit: numeric(row, 'retired_pages.single_bit_ecc.count'), double_bit: numeric(row, 'retired_pages.double_bit.count'), pending: yesNo(text(row, 'retired_pages.pending')) },
    remapped_rows: {
      correctable: numeric(row, 'remapped_rows.correctable'),
      uncorrectable: numeric(row, 'remapped_rows.uncorrectable'),
      pending: yesNo(text(row, 'remapped_rows.pending')),
      failure: yesNo(text(row, 'remapped_rows.failure')),
    },
    unavailable: reasons(row, GPU_FIELDS, rejected),
    health: 'healthy',
    flags: [],
    processes: [],
  };
  status.flags = healthFlags(status);
  status.health = status.flags.some((f) => f.severity === 'critical') ? 'unhealthy' : status.flags.some((f) => f.severity === 'warning') ? 'degraded' : 'healthy';
  return status;
}

export function healthFlags(g: GpuStatus): HealthFlag[] {
  const flags: HealthFlag[] = [];
  const i = g.index ?? 0;
  const add = (flag: string, severity: HealthFlag['severity'], detail: string, next_check: string) => flags.push({ flag, severity, detail, next_check });
  if (Object.values(g.unavailable).includes('GPU is lost')) add('gpu_lost', 'critical', 'nvidia-smi reports the GPU as lost (fallen off the bus?)', 'diagnose_logs {"dmesg": true}  # look for Xid 79; then reboot');
  const { reasons } = g.throttle;
  if (reasons.hw_thermal_slowdown || reasons.sw_thermal_slowdown) {
    const which = [reasons.hw_thermal_slowdown && 'HW thermal slowdown', reasons.sw_thermal_slowdown && 'SW thermal slowdown'].filter(Boolean).join(' and ');
    add('thermal_throttling', 'warning', `${which} active at ${g.temperature_c.gpu ?? '?'} °C GPU / ${g.temperature_c.memory ?? '?'} °C memory: clocks are reduced`, `nvidia-smi -i ${i} -q -d TEMPERATURE,PERFORMANCE`);
  }
  if (reasons.hw_power_brake_slowdown) add('power_brake', 'warning', 'HW power brake active: the power supply/chassis forces clocks down', `nvidia-smi -i ${i} -q -d POWER,PERFORMANCE; ipmitool sdr type "Power Supply"`);
  else if (reasons.hw_slowdown && !reasons.hw_thermal_slowdown) add('hw_slowdown', 'warning', 'HW slowdown active (temperature, power brake or over-current protection)', `nvidia-smi -i ${i} -q -d PERFORMANCE`);
  if (reasons.sw_power_cap) add('power_capped', 'info', `clocks limited by the power cap (${g.power_w.draw ?? '?'} W of ${g.power_w.limit ?? '?'} W); normal under full load`, `nvidia-smi -i ${i} -q -d POWER`);
  if (g.temperature_c.gpu !== null && g.temperature_c.gpu >= HOT_C && !(reasons.hw_thermal_slowdown || reasons.sw_thermal_slowdown)) {
    add('hot', 'warning', `GPU at ${g.temperature_c.gpu} °C (>= ${HOT_C}): close to thermal slowdown`, `nvidia-smi -i ${i} -q -d TEMPERATURE`);
  }
  if ((g.ecc.volatile_uncorrected ?? 0) > 0) add('ecc_uncorrected', 'critical', `${g.ecc.volatile_uncorrected} uncorrectable ECC error(s) since the last driver load`, `nvidia-smi -i ${i} -q -d ECC,ROW_REMAPPER,PAGE_RETIREMENT`);
  else if ((g.ecc.aggregate_uncorrected ?? 0) > 0) add('ecc_uncorrected_history', 'warning', `${g.ecc.aggregate_uncorrected} uncorrectable ECC error(s) over the GPU's lifetime`, `nvidia-smi -i ${i} -q -d ECC`);
  if ((g.ecc.volatile_corrected ?? 0) > 0) add('ecc_corrected', 'info', `${g.ecc.volatile_corrected} corrected ECC error(s) since the last driver load`, `nvidia-smi -i ${i} -q -d ECC`);
  if (g.remapped_rows.failure) add('row_remap_failure', 'critical', 'row remapping failed: the memory error cannot be contained', 'drain the GPU; nvidia-smi -q -d ROW_REMAPPER; contact support/RMA');
  if (g.remapped_rows.pending) add('row_remap_pending', 'warning', 'a row remap is pending: it takes effect at the next GPU reset', `nvidia-smi -r -i ${i}  # when the GPU is idle`);
  if (g.retired_pages.pending) add('page_retirement_pending', 'warning', 'page retirement is pending: it takes effect at the next GPU reset', `nvidia-smi -r -i ${i}  # when the GPU is idle`);
  if ((g.retired_pages.double_bit ?? 0) > 0) add('retired_pages_dbe', 'warning', `${g.retired_pages.double_bit} page(s) retired for double-bit errors`, `nvidia-smi -i ${i} -q -d PAGE_RETIREMENT`);
  return flags;
}

function reasons(row: GpuRow, fields: readonly string[], rejected: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    if (f === 'index' || f === 'gpu_uuid') continue;
    const cell = row[f];
    if (!cell) out[f] = rejected.includes(f) ? 'not a field this driver knows' : 'missing from nvidia-smi output';
    else if (cell.value === null) out[f] = cell.reason ?? 'not available';
  }
  return out;
}

function numeric(row: GpuRow, field: string): number | null {
  const v = row[field]?.value;
  return typeof v === 'number' ? v : null;
}

function text(row: GpuRow, field: string): string | null {
  const v = row[field]?.value;
  return v === null || v === undefined ? null : String(v);
}

function activeFlag(value: string | null): boolean | null {
  if (value === null) return null;
  return /^active$/i.test(value) ? true : /^not active$/i.test(value) ? false : null;
}

function yesNo(value: string | null): boolean | null {
  if (value === null) return null;
  return /^yes$/i.test(value) ? true : /^no$/i.test(value) ? false : null;
}
