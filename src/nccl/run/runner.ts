/**
 * One nccl-tests execution: resolve the binary, build the command line (launcher + flags + -J when
 * the build has it), run it with a timeout under the job's cancel signal, parse the output as it
 * streams, read and scrub the JSON file, and turn it all into a RunResult. A failing run is a
 * result too (status failed/invalid/timeout, with the exit code's meaning): only problems the
 * caller must fix before anything can run are thrown.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runCommand, type ExecResult } from '../../core/exec.js';
import type { JobContext } from '../../core/jobs.js';
import { findNcclTestsBinary, probeFeatures, type Collective } from './binaries.js';
import { buildLaunch, type LauncherSpec } from './launcher.js';
import { busbwBySize, objectiveOf, summarizeBands, type BandEdges } from './objective.js';
import { parseNcclTestsJson, scrubJsonEnv, scrubPartialJsonEnv } from '../output/json.js';
import { NcclTestsParser } from '../output/parser.js';
import type { ParsedOutput, ResultRow } from '../output/types.js';
import type { RunResult } from '../schemas.js';
import { buildTestArgs, expectedRows, parseSize, type TestFlags } from './test-args.js';
import type { Problem } from '../params/problem.js';
import type { EffectiveEnv } from './env.js';

export interface RunSpec {
  collective: Collective;
  flags: TestFlags;
  launcher: LauncherSpec;
  binarySuffix?: string;
  json: 'auto' | 'on' | 'off';
  env: EffectiveEnv;
  envWarnings: Problem[];
  timeoutMs: number;
  edges: BandEdges;
}

/** The JobContext parts a run uses (a sweep runs many in one job). */
export type RunContext = Pick<JobContext, 'dir' | 'logFile' | 'signal' | 'log' | 'progress'>;

const MAX_ROWS_RETURNED = 256;
const MAX_DEVICES_RETURNED = 64;

export const EXIT_MEANINGS: Record<number, string> = {
  0: 'success',
  1: 'failure (older nccl-tests also exit 1 on a data-check or minimum-bandwidth failure)',
  2: 'CUDA error',
  3: 'NCCL error',
  4: 'timeout (nccl-tests -T)',
  5: 'not implemented / unsupported setup (e.g. more GPUs requested than present)',
  6: 'invalid usage (bad arguments)',
  7: 'data check failure (#wrong > 0) or average bus bandwidth below NCCL_TESTS_MIN_BW',
};

export interface RunOutcome {
  result: Omit<RunResult, 'run_id'>;
  /** Every row (the result keeps at most 256). */
  rows: ResultRow[];
  /** Mean busbw per message size, for sweeps. */
  bySize: Map<number, number>;
  processes: number | null;
}

export interface PreparedRun {
  binary: string;
  argv: string[];
  jsonFile: string | null;
  notes: string[];
  processes: number | null;
  nodes: number | null;
}

/** Resolve everything that can be wrong before a run starts; throws UserError with the remedy. */
export async function prepareRun(config: Config, spec: RunSpec, artifactPrefix: string, dir: string): Promise<PreparedRun> {
  const multiProcess = spec.launcher.launcher !== 'local';
  const binary = findNcclTestsBinary(config, spec.collective, { suffix: spec.binarySuffix, multiProcess });
  const args = buildTestArgs(spec.flags);
  let jsonFile: string | null = null;
  if (spec.json !== 'off') {
    const features = await probeFeatures(binary.path);
    if (features.json) jsonFile = join(dir, `${artifactPrefix}nccl-tests.json`);
    else if (spec.json === 'on') {
      throw new UserError(`${binary.path} has no -J option (JSON output needs nccl-tests 2.17.3 or newer).`, 'Use json: "auto" or "off" (the text table carries the same rows), or rebuild nccl-tests.');
    }
  }
  if (jsonFile) args.push('-J', jsonFile);
  const plan = buildLaunch(spec.launcher, config, [binary.path, ...args], Object.keys(spec.env.env));
  return { binary: binary.path, argv: plan.argv, jsonFile, notes: plan.notes, processes: plan.processes, nodes: plan.nodes };
}

export async function runNcclTests(config: Config, spec: RunSpec, ctx: RunContext, artifactPrefix = ''): Promise<RunOutcome> {
  const prepared = await prepareRun(config, spec, artifactPrefix, ctx.dir);
  const total = expectedRows(spec.flags);
  const parser = new NcclTestsParser((row, n) => {
    const busbw = row.out_of_place?.busbw_gbps ?? row.in_place?.busbw_gbps;
    ctx.progress({ done: n, total, message: `${n} row(s); ${row.size} B: ${busbw ?? '?'} GB/s` });
  });
  ctx.log(`[tuneloop] ${prepared.argv.join(' ')}`);
  const exec = await runCommand(prepared.argv, {
    timeoutMs: spec.timeoutMs,
    signal: ctx.signal,
    env: spec.env.childEnv,
    logFile: ctx.logFile,
    maxOutputBytes: 4 << 20,
    onLine: (line) => parser.push(line),
  });
  const parsed = parser.result();
  const json = readJsonOutput(prepared.jsonFile, parsed.json_path);
  const rows = json && json.rows.length >= parsed.rows.length ? json.rows : parsed.rows;
  const devices = parsed.devices.length ? parsed.devices : (json?.devices ?? []);
  const bands = summarizeBands(rows, spec.edges);
  const objective = objectiveOf(bands);
  const status = statusOf(exec, parsed, rows, json?.out_of_bounds ?? null);
  const hosts = [...new Set(devices.map((d) => d.host))];
  const topology = {
    nodes: hosts.length || prepared.nodes,
    ranks: devices.length || (prepared.processes !== null ? prepared.processes * (spec.flags.threads ?? 1) * spec.flags.gpus_per_process : null),
    // Old releases print [0x00] for every GPU; the device index tells them apart there.
    gpus: devices.length ? new Set(devices.map((d) => `${d.host}/${d.bus_id}/${d.device}`)).size : null,
    hosts,
    gpu_models: [...new Set(devices.map((d) => d.name).filter(Boolean))],
    devices: devices.slice(0, MAX_DEVICES_RETURNED),
  };
  const versions = { nccl_tests: parsed.nccl_tests_version, nccl: parsed.nccl_version ?? json?.nccl_version ?? null };
  const result: Omit<RunResult, 'run_id'> = {
    status,
    summary: '',
    collective: spec.collective,
    binary: prepared.binary,
    argv: prepared.argv,
    launcher: spec.launcher.launcher,
    launcher_notes: prepared.notes,
    exit: {
      code: exec.exitCode,
      signal: exec.signal,
      meaning: exitMeaning(exec),
      timed_out: exec.timedOut,
      canceled: exec.canceled,
    },
    duration_s: Math.round(exec.durationMs / 100) / 10,
    versions,
    topology,
    output_format: rows === parsed.rows ? 'text' : 'json',
    table_format: parsed.format,
    rows: rows.slice(0, MAX_ROWS_RETURNED),
    rows_total: rows.length,
    out_of_bounds: json?.out_of_bounds ?? parsed.out_of_bounds,
    avg_busbw_gbps: (json?.avg_busbw ?? parsed.avg_busbw)?.value ?? null,
    avg_busbw_check: (parsed.avg_busbw ?? json?.avg_busbw)?.verdict ?? null,
    objective,
    bands,
    nccl_warnings: parsed.nccl_warnings,
    nccl_warning_count: parsed.nccl_warning_count,
    failures: [
      ...parsed.failures,
      ...(json?.errors ?? []).filter((e) => !parsed.failures.some((f) => f.line.includes(e))).map((line) => ({ kind: 'error' as const, line })),
      ...(exec.spawnError ? [{ kind: 'launcher' as const, line: `could not start ${prepared.argv[0]}: ${exec.spawnError}` }] : []),
    ],
    nccl_choices: parsed.tuning,
    channels: parsed.channels,
    truncated: parsed.truncated,
    size_range: sizeRange(spec.flags, parsed, rows, total),
    env: spec.env.env,
    env_dropped: spec.env.dropped,
    env_warnings: spec.envWarnings,
    artifacts: { result_file: join(ctx.dir, `${artifactPrefix}result.json`), json_file: prepared.jsonFile && existsSync(json?.path ?? prepared.jsonFile) ? (json?.path ?? prepared.jsonFile) : null },
  };
  result.summary = summaryLine(result);
  writeFileSync(result.artifacts.result_file, `${JSON.stringify({ ...result, rows }, null, 1)}\n`, { mode: 0o600 });
  return { result, rows, bySize: busbwBySize(rows), processes: prepared.processes };
}

/** The -J file, scrubbed of the process environment before anything else happens to it. */
function readJsonOutput(requested: string | null, announced: string | null): (ReturnType<typeof parseNcclTestsJson> & { path: string }) | null {
  if (!requested) return null;
  // nccl-tests never overwrites: when the file exists it writes FILE.0, FILE.1 ... and says where.
  const path = announced && announced.startsWith(requested) ? announced : requested;
  if (!existsSync(path)) return null; // written on another node (rank 0 remote), or the run died first
  const text = readFileSync(path, 'utf8');
  const parsed = parseNcclTestsJson(text);
  writeFileSync(path, parsed ? (scrubJsonEnv(text) ?? '') : scrubPartialJsonEnv(text), { mode: 0o600 });
  return parsed ? { ...parsed, path } : null;
}

function statusOf(exec: ExecResult, parsed: ParsedOutput, rows: ResultRow[], jsonOutOfBounds: { ok: boolean } | null): RunResult['status'] {
  if (exec.canceled) return 'canceled';
  if (exec.timedOut || exec.exitCode === 4) return 'timeout';
  // A data error is a failure whatever the exit code (old releases exit 0 after "FAILED").
  const wrong = rows.some((r) => (r.out_of_place?.wrong ?? 0) > 0 || (r.in_place?.wrong ?? 0) > 0);
  if (wrong || parsed.out_of_bounds?.ok === false || jsonOutOfBounds?.ok === false) return 'invalid';
  if (parsed.truncated) return 'failed';
  // Below NCCL_TESTS_MIN_BW is still a valid measurement: dropping it would bias history upward.
  const onlyMinBw = exec.exitCode === 7 && parsed.avg_busbw?.verdict === 'FAILED';
  if ((exec.exitCode === 0 || onlyMinBw) && rows.length > 0) return 'ok';
  return 'failed';
}

/**
 * The sizes the run measured against those asked for. nccl-tests (2.10+) lowers maxBytes to fit
 * GPU memory and says "# Reducing maxBytes to N"; a complete run whose rows stop short of the
 * requested maximum without that line was lowered silently.
 */
function sizeRange(flags: TestFlags, parsed: ParsedOutput, rows: ResultRow[], planned: number | undefined): RunResult['size_range'] {
  const requested = parseSize(flags.max_bytes, 'max_bytes');
  const measured = rows.length ? Math.max(...rows.map((r) => r.size)) : null;
  const complete = parsed.table_started && !parsed.truncated;
  let reduced: RunResult['size_range']['reduced'] = null;
  if (parsed.max_bytes_reduced_to !== null) reduced = 'announced';
  else if (complete && measured !== null && planned !== undefined && rows.length < planned && measured < requested) reduced = 'silent';
  return { requested_max_bytes: requested, measured_max_bytes: measured, reduced, reduced_to: parsed.max_bytes_reduced_to ?? (reduced ? measured : null) };
}

function exitMeaning(exec: ExecResult): string {
  if (exec.spawnError) return `could not start: ${exec.spawnError}`;
  if (exec.canceled) return 'canceled (job_cancel or server shutdown): the process tree was stopped';
  if (exec.timedOut) return 'timed out (timeout_s): the process tree was stopped';
  if (exec.signal) return `killed by ${exec.signal}`;
  if (exec.exitCode === null) return 'unknown';
  const code = exec.exitCode;
  // Launchers report a rank killed by signal N as 128+N (srun --kill-on-bad-exit ends the others with SIGTERM).
  const signal = code > 128 && code < 160 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
  if (signal) return `a process was killed by ${signal} (the launcher reports 128+signal), e.g. a rank ended because another one failed`;
  return EXIT_MEANINGS[code] ?? `exit ${code} (from the launcher or a rank)`;
}

function summaryLine(r: Omit<RunResult, 'run_id'>): string {
  const where = `${r.topology.ranks ?? '?'} rank(s) on ${r.topology.nodes ?? '?'} node(s)`;
  const version = r.versions.nccl ? `, NCCL ${r.versions.nccl}` : '';
  const objective = r.objective.value !== null ? `busbw ${r.objective.value.toFixed(2)} GB/s over ${r.objective.band} messages (${r.objective.rows} sizes)` : 'no bus bandwidth measured';
  const exit = r.status === 'ok' ? '' : `; exit ${r.exit.code ?? r.exit.signal ?? '?'}: ${r.exit.meaning}`;
  const why = r.status === 'invalid' ? '; data check FAILED (out-of-bounds values or #wrong > 0)' : r.truncated ? '; the output ended before its footer' : '';
  const reduced = r.size_range.reduced
    ? `; nccl-tests lowered the largest size to ${r.size_range.reduced_to} bytes (${r.size_range.reduced === 'announced' ? '"Reducing maxBytes ... due to memory limitation"' : 'without saying so'}), requested ${r.size_range.requested_max_bytes}`
    : '';
  return `${r.collective} on ${where}${version}: ${objective}; status ${r.status}${exit}${why}${reduced}`;
}

/** A run that is not ok did not do what was asked: its cause in nccl-tests' (or the launcher's) own words. */
export function runFailure(r: Pick<RunResult, 'status' | 'collective' | 'failures' | 'exit' | 'out_of_bounds'>): string | null {
  if (r.status === 'ok') return null;
  const line = r.failures.find((f) => f.kind !== 'min_bw')?.line;
  if (line) return line;
  if (r.status === 'invalid') return `${r.collective}: the data check failed (${r.out_of_bounds && !r.out_of_bounds.ok ? `${r.out_of_bounds.count} out-of-bounds value(s)` : '#wrong > 0'})`;
  return `${r.collective} ${r.status}: ${r.exit.meaning}`;
}
