/** Output shapes of the NCCL tools; the plain modules use the inferred types. */
import { z } from 'zod';
import { RUN_STATUSES } from '../learn/runs.js';
import { comparisonSchema } from '../learn/schemas.js';
import { BAND_NAMES } from './run/objective.js';
import { FAILURE_KINDS } from './output/types.js';
import { LAUNCHERS } from './run/launcher.js';

const gbps = z.number().nullable();

export const problemSchema = z.object({
  variable: z.string(),
  token: z.string().optional().describe('The offending part of the value, or the name.'),
  message: z.string(),
  suggestion: z.string().optional(),
});

const sideSchema = z.object({
  time_us: z.number().nullable(),
  algbw_gbps: gbps,
  busbw_gbps: gbps,
  wrong: z.number().nullable().describe('#wrong elements; null when checking was off (N/A).'),
  max_error: z.number().nullable().optional().describe('Pre-2.13 nccl-tests: the max deviation printed instead of #wrong.'),
});

export const rowSchema = z.object({
  size: z.number().describe('Bytes.'),
  count: z.number().describe('Elements.'),
  type: z.string(),
  redop: z.string().nullable(),
  root: z.number().nullable(),
  out_of_place: sideSchema.nullable(),
  in_place: sideSchema.nullable(),
});

export const deviceSchema = z.object({
  rank: z.number(),
  group: z.number().nullable(),
  pid: z.number().nullable(),
  host: z.string(),
  device: z.number(),
  bus_id: z.string(),
  name: z.string(),
});

export const bandSchema = z.object({
  band: z.enum(BAND_NAMES),
  min_bytes: z.number(),
  max_bytes: z.number().nullable().describe('Exclusive; null for the open-ended large band.'),
  rows: z.number(),
  busbw_mean_gbps: gbps,
  busbw_max_gbps: gbps,
});

export const objectiveSchema = z.object({
  metric: z.literal('busbw_gbps'),
  value: gbps.describe('Mean bus bandwidth over the largest size band measured.'),
  band: z.enum(BAND_NAMES).nullable(),
  rows: z.number(),
});

export const runResultSchema = z.object({
  status: z.enum(RUN_STATUSES).describe('ok; invalid (#wrong > 0 or an out-of-bounds FAILED, whatever the exit code); failed (including output that ended early); timeout; canceled.'),
  summary: z.string(),
  collective: z.string(),
  binary: z.string(),
  argv: z.array(z.string()).describe('The exact command line that ran.'),
  launcher: z.enum(LAUNCHERS),
  launcher_notes: z.array(z.string()),
  exit: z.object({
    code: z.number().nullable(),
    signal: z.string().nullable(),
    meaning: z.string().describe("What the exit code means for nccl-tests (3: NCCL error, 7: data check ...)."),
    timed_out: z.boolean(),
    canceled: z.boolean(),
  }),
  duration_s: z.number(),
  versions: z.object({ nccl_tests: z.string().nullable(), nccl: z.string().nullable() }),
  topology: z.object({
    nodes: z.number().nullable(),
    ranks: z.number().nullable(),
    gpus: z.number().nullable(),
    hosts: z.array(z.string()),
    gpu_models: z.array(z.string()),
    devices: z.array(deviceSchema).describe('At most 64 "Using devices" lines.'),
  }),
  output_format: z.enum(['json', 'text']).describe('Where the rows came from: the -J JSON file, or the text table.'),
  table_format: z.enum(['current', 'pre-2.13', 'none']),
  rows: z.array(rowSchema).describe('At most 256 rows; all of them are in artifacts.result_file.'),
  rows_total: z.number(),
  out_of_bounds: z.object({ count: z.number(), ok: z.boolean() }).nullable(),
  avg_busbw_gbps: gbps.describe("nccl-tests' own average over every row (small sizes included)."),
  avg_busbw_check: z.enum(['OK', 'FAILED']).nullable().describe('Against NCCL_TESTS_MIN_BW, when set.'),
  objective: objectiveSchema,
  bands: z.array(bandSchema),
  nccl_warnings: z.array(z.string()),
  nccl_warning_count: z.number(),
  failures: z.array(z.object({ kind: z.enum(FAILURE_KINDS), line: z.string() })),
  nccl_choices: z
    .array(
      z.object({
        collective: z.string().nullable(),
        bytes: z.number(),
        algorithm: z.string(),
        protocol: z.string(),
        channels: z.number().nullable(),
        calls: z.number(),
        mixed: z.boolean(),
      }),
    )
    .describe('What NCCL chose per collective and size (needs NCCL_DEBUG=INFO and NCCL_DEBUG_SUBSYS including TUNING).'),
  channels: z.object({ coll: z.number(), collnet: z.number().nullable(), nvls: z.number().nullable(), p2p: z.number().nullable() }).nullable(),
  truncated: z.boolean().describe('The run ended early: the table started but its footer never came. A complete run with fewer sizes is not truncated (see size_range).'),
  size_range: z
    .object({
      requested_max_bytes: z.number(),
      measured_max_bytes: z.number().nullable(),
      reduced: z.enum(['announced', 'silent']).nullable().describe('nccl-tests lowered the largest size to fit GPU memory: announced ("# Reducing maxBytes to ..."), or silent (a complete run stopping short of the request).'),
      reduced_to: z.number().nullable(),
    })
    .describe('The sizes measured against those asked for.'),
  env: z.record(z.string(), z.string()).describe('Every variable tuneloop set for the run.'),
  env_dropped: z.array(z.string()).describe("NCCL_* variables of the server's own environment that were not passed on (see inherit_env)."),
  env_warnings: z.array(problemSchema),
  artifacts: z.object({ result_file: z.string(), json_file: z.string().nullable() }),
  run_id: z.number().nullable().describe('The run recorded in history (domain nccl).'),
});

export type RunResult = z.infer<typeof runResultSchema>;

const verdict = z
  .enum(['better', 'worse', 'no significant difference', 'baseline'])
  .describe('compare() against the default (Mann-Whitney + bootstrap CI); needs about 4 repeats per config to call anything "better".');

export const standingSchema = z.object({
  label: z.string(),
  config_index: z.number(),
  settings: z.record(z.string(), z.string()).describe('What this config adds to the base environment.'),
  n: z.number().describe('Successful runs.'),
  median_gbps: gbps,
  values_gbps: z.array(z.number()),
  margin_vs_default: z.number().nullable().describe('(median - default median) / default median.'),
  verdict,
  explanation: z.string(),
});

const adaptiveSchema = z.object({
  space: z.string(),
  variables: z.array(z.string()),
  seed: z.number().int(),
  stopped: z
    .enum(['settled', 'converged', 'budget', 'time', 'exhausted', 'canceled'])
    .describe('settled: the best beats (or practically equals) the runner-up and the default by compare(); converged: the best stopped improving but the top was not resolved within 2x repeats runs; budget/time: max_runs/max_minutes spent; exhausted: nothing new to try.'),
  reason: z.string(),
  trajectory: z.array(
    z.object({
      trial: z.number().int(),
      label: z.string().describe('The variables the config adds to the base ("default": none).'),
      kind: z.string().describe('baseline, history-best, default, rule, space-filling, model, repeat (the suggester\'s choice) or confirm (a confirmation run).'),
      rationale: z.string(),
      status: z.enum(['ok', 'failed', 'rejected']),
      busbw_gbps: gbps,
      best_gbps: gbps.describe('The best median after this trial.'),
      note: z.string().nullable(),
    }),
  ),
  best: z.object({ label: z.string(), n: z.number().int(), median_gbps: z.number(), first_trial: z.number().int().describe('The trial that first measured it.') }).nullable(),
  evidence: z
    .object({
      settled: z.boolean(),
      reason: z.string(),
      runner_up: z.string().nullable(),
      vs_runner_up: comparisonSchema.nullable().describe('The best (b) against the runner-up (a).'),
      vs_default: comparisonSchema.nullable().describe('The best (b) against the untuned default (a); null when the best is the default.'),
    })
    .nullable(),
});

export const sweepResultSchema = z.object({
  summary: z.string(),
  collective: z.string(),
  trials: z.object({ planned: z.number(), run: z.number(), ok: z.number(), failed: z.number() }),
  stopped_early: z.string().nullable().describe('Why the sweep stopped before its plan ended (max_minutes), or null.'),
  default: z.object({
    env: z.record(z.string(), z.string()).describe('The environment of the default runs.'),
    omitted: z.array(z.string()).describe('Base variables left out of the default because they tune NCCL or are swept.'),
    median_gbps: gbps,
  }),
  ranking: z.array(standingSchema).describe('Configs by objective (busbw over the largest band), best first: the top 50 and the default; trials_file has all.'),
  ranking_total: z.number(),
  bands: z.array(z.object({ band: z.enum(BAND_NAMES), default_median_gbps: gbps, best: standingSchema.nullable() })),
  per_size: z.array(
    z.object({
      bytes: z.number(),
      winner: z.string(),
      winner_index: z.number(),
      busbw_gbps: z.number(),
      default_busbw_gbps: gbps,
      margin_vs_default: z.number().nullable(),
      verdict,
    }),
  ),
  winner: standingSchema.nullable().describe('The overall winner when it beats the default by at least min_gain; null when the default holds.'),
  skipped: z.array(z.object({ label: z.string(), reason: z.string() })),
  exports: z.object({
    tuner_csv: z.object({ path: z.string(), body: z.string(), ranges: z.number() }).nullable(),
    nccl_conf: z.object({ path: z.string(), body: z.string() }).nullable(),
    saved_profile: z.string().nullable(),
    notes: z.array(z.string()),
  }),
  topology: z.object({ nodes: z.number().nullable(), ranks: z.number().nullable() }),
  versions: z.object({ nccl_tests: z.string().nullable(), nccl: z.string().nullable() }),
  run_ids: z.array(z.number()),
  trials_file: z.string().describe('Every trial with its full result.'),
  adaptive: adaptiveSchema.optional().describe('Adaptive mode only: how the configs were chosen, why it stopped, the evidence for the best.'),
});

export type SweepResult = z.infer<typeof sweepResultSchema>;
