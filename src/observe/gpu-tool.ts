/** gpu_status: per-GPU state and health from nvidia-smi. */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { readGpuStatus, type GpuReport } from './gpu.js';

const n = z.number().nullable();
const flag = z.object({ flag: z.string(), severity: z.enum(['critical', 'warning', 'info']), detail: z.string(), next_check: z.string() });
const reasonsShape = z.object({
  gpu_idle: z.boolean().nullable(),
  applications_clocks_setting: z.boolean().nullable(),
  sw_power_cap: z.boolean().nullable(),
  hw_slowdown: z.boolean().nullable(),
  hw_thermal_slowdown: z.boolean().nullable(),
  hw_power_brake_slowdown: z.boolean().nullable(),
  sw_thermal_slowdown: z.boolean().nullable(),
  sync_boost: z.boolean().nullable(),
});

const gpuShape = z.object({
  index: n,
  name: z.string().nullable(),
  uuid: z.string().nullable(),
  bus_id: z.string().nullable(),
  driver_version: z.string().nullable(),
  pstate: z.string().nullable(),
  utilization_pct: z.object({ gpu: n, memory: n }),
  memory_mib: z.object({ used: n, total: n }),
  temperature_c: z.object({ gpu: n, memory: n }),
  power_w: z.object({ draw: n, limit: n }),
  fan_pct: n,
  clocks_mhz: z.object({ sm: n, mem: n, max_sm: n, max_mem: n }),
  throttle: z.object({ active_mask: z.string().nullable().describe('clocks_event_reasons.active as nvidia-smi prints it.'), active: z.array(z.string()), reasons: reasonsShape }),
  ecc: z.object({ mode: z.string().nullable(), volatile_corrected: n, volatile_uncorrected: n, aggregate_corrected: n, aggregate_uncorrected: n }),
  retired_pages: z.object({ single_bit: n, double_bit: n, pending: z.boolean().nullable() }),
  remapped_rows: z.object({ correctable: n, uncorrectable: n, pending: z.boolean().nullable(), failure: z.boolean().nullable() }),
  unavailable: z.record(z.string(), z.string()).describe('nvidia-smi field -> why its value is null (never reported as zero).'),
  health: z.enum(['healthy', 'degraded', 'unhealthy']),
  flags: z.array(flag),
  processes: z.array(z.object({ pid: n, name: z.string().nullable(), used_memory_mib: n, unavailable: z.record(z.string(), z.string()) })),
});

export const gpuStatusTool = defineTool({
  name: 'gpu_status',
  toolset: 'observe',
  title: 'GPU status and health',
  description:
    'State and health of every NVIDIA GPU. Per GPU (nvidia-smi): identity and bus id, utilisation, memory, temperatures, power, SM/memory clocks, active throttle reasons, ' +
    'ECC volatile/aggregate counts, retired pages and remapped rows, plus the compute processes on it; fields the GPU or driver does not support are null with the reason. ' +
    'Derives health flags (thermal throttling, power brake, uncorrectable ECC, pending remaps/retirements, failed remaps) and healthy/degraded/unhealthy per GPU. ' +
    'Pair with diagnose_logs for Xid history.',
  annotations: READ_ONLY,
  input: z.object({
    gpus: z.array(z.number().int().min(0)).optional().describe('Only these GPU indices (default: all).'),
    processes: z.boolean().default(true).describe('Also list the compute processes per GPU (nvidia-smi --query-compute-apps).'),
  }),
  output: z.object({
    gpus: z.array(gpuShape),
    fields_rejected: z.array(z.string()).describe('Fields this driver does not know; queried without them.'),
    processes_error: z.string().nullable(),
    summary: z.object({ healthy: z.number().int(), degraded: z.number().int(), unhealthy: z.number().int() }),
  }),
  async handler(args, { runtime }) {
    // Fields the driver rejected once stay known for this server, so later calls skip the retries.
    const known = runtime.service('observe.gpu-rejected-fields', () => new Set<string>());
    const report: GpuReport = await readGpuStatus(runtime.config, { processes: args.processes, known });
    let gpus = report.gpus;
    if (args.gpus) {
      const missing = args.gpus.filter((i) => !gpus.some((g) => g.index === i));
      if (missing.length) throw new UserError(`gpus: no GPU with index ${missing.join(', ')}.`, `This host has GPU indices ${gpus.map((g) => g.index).join(', ') || '(none)'}.`);
      gpus = gpus.filter((g) => g.index !== null && args.gpus!.includes(g.index));
    }
    const count = (h: string) => gpus.filter((g) => g.health === h).length;
    return { ...report, gpus, summary: { healthy: count('healthy'), degraded: count('degraded'), unhealthy: count('unhealthy') } };
  },
  summarize(r) {
    if (r.gpus.length === 0) return 'nvidia-smi lists no GPUs.';
    const lines = r.gpus.map((g) => {
      const mem = g.memory_mib.used !== null && g.memory_mib.total !== null ? `${g.memory_mib.used}/${g.memory_mib.total} MiB` : 'memory ?';
      const head = `GPU ${g.index} ${g.name ?? '?'} (${g.bus_id ?? '?'}): ${g.health}, ${g.utilization_pct.gpu ?? '?'}% util, ${mem}, ${g.temperature_c.gpu ?? '?'} °C, ${g.power_w.draw ?? '?'} W, ${g.processes.length} process(es)`;
      const flags = g.flags.filter((f) => f.severity !== 'info').map((f) => `  ${f.severity}: ${f.flag}: ${f.detail}`);
      return [head, ...flags].join('\n');
    });
    if (r.fields_rejected.length) lines.push(`Driver does not know: ${r.fields_rejected.join(', ')}`);
    return lines.join('\n');
  },
});
