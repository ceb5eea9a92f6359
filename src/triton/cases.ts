/**
 * Case registry: where cases are found and how a client-written case is added.
 * Roots, first match wins: the tool's cases_dir, TUNELOOP_CASES, <home>/cases (cases created
 * through triton_create_case), then the built-in examples in tools/triton/cases.
 * Parsing and validation live in the harness (one implementation of the format, in Python).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { BUILTIN_CASES_DIR, requireResult, runPhase } from './harness.js';

export const CASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_MODEL_BYTES = 256 * 1024;
const MAX_MANIFEST_BYTES = 64 * 1024;
/** Validation runs inside the tool call: it must answer before the client's 60 s timeout. */
const VALIDATE_TIMEOUT_MS = 50_000;

export interface CaseInput {
  name: string;
  shape: number[] | null;
  small_shape: number[] | null;
  dtype: string | null;
  layout: string | null;
  value?: unknown;
  distributions?: Record<string, unknown>[];
}

/** A case as the harness describes it (`harness.py cases`). */
export interface CaseInfo {
  name: string;
  root: string;
  path: string;
  valid: boolean;
  error: string | null;
  candidates: string[];
  description?: string;
  device?: string;
  model?: { file: string; class: string; init_kwargs: Record<string, unknown> };
  inputs?: CaseInput[];
  tolerances?: Record<string, { atol?: number; rtol?: number }>;
  weights?: { function: string | null; seed: number; randomize_constant: boolean };
  shadowed_by?: string;
}

export function userCasesDir(home: string): string {
  return join(home, 'cases');
}

export function caseRoots(runtime: Runtime, extra?: string): string[] {
  const roots: string[] = [];
  if (extra) {
    const dir = resolve(extra);
    if (!isDirectory(dir)) throw new UserError(`cases_dir ${dir} is not a directory.`, 'Pass a folder that holds case folders (each with model.py and manifest.yaml).');
    roots.push(dir);
  }
  roots.push(...runtime.config.casesDirs.map((d) => resolve(d)), userCasesDir(runtime.config.home), BUILTIN_CASES_DIR);
  return [...new Set(roots)];
}

const rootArgs = (roots: string[]) => roots.flatMap((r) => ['--root', r]);

export async function listCases(runtime: Runtime, extra?: string, signal?: AbortSignal): Promise<CaseInfo[]> {
  const roots = caseRoots(runtime, extra);
  const outcome = await runPhase<{ cases: CaseInfo[] }>(runtime.config, 'cases', rootArgs(roots), { timeoutMs: 60_000, signal });
  return requireResult(outcome, runtime.config).cases;
}

export async function showCase(runtime: Runtime, name: string, extra?: string, signal?: AbortSignal): Promise<CaseInfo> {
  if (!CASE_NAME.test(name)) throw new UserError(`"${name}" is not a case name.`, 'Case names are 1-64 characters: letters, digits, ".", "_" or "-". List them with triton_cases {"action": "list"}.');
  const roots = caseRoots(runtime, extra);
  const outcome = await runPhase<{ case: CaseInfo }>(runtime.config, 'cases', [...rootArgs(roots), '--show', name], { timeoutMs: 60_000, signal });
  const info = requireResult(outcome, runtime.config).case;
  if (!info.valid) throw new UserError(`The case "${name}" (${info.path}) is invalid: ${info.error}`, 'Fix its manifest.yaml or model.py.');
  return info;
}

export interface CreateCaseRequest {
  name: string;
  modelSource: string;
  manifest: string;
  replace: boolean;
  signal?: AbortSignal;
}

export interface CreatedCase {
  name: string;
  path: string;
  replaced_backup: string | null;
  validation: Record<string, unknown>;
}

/** Stage the case, run it once through the harness, then move it into <home>/cases atomically. */
export async function createCase(runtime: Runtime, request: CreateCaseRequest): Promise<CreatedCase> {
  const { name } = request;
  if (!CASE_NAME.test(name)) throw new UserError(`name "${name}" is not a valid case name.`, 'Use 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit.');
  if (Buffer.byteLength(request.modelSource) > MAX_MODEL_BYTES) throw new UserError(`model_source is larger than ${MAX_MODEL_BYTES / 1024} KiB.`, 'A case is one nn.Module; keep helpers small.');
  if (Buffer.byteLength(request.manifest) > MAX_MANIFEST_BYTES) throw new UserError(`manifest is larger than ${MAX_MANIFEST_BYTES / 1024} KiB.`, 'A manifest describes inputs; it does not hold data.');
  const target = join(userCasesDir(runtime.config.home), name);
  const existing = (await listCases(runtime, undefined, request.signal)).find((c) => c.name === name && !c.shadowed_by);
  if (existing && (existing.path !== target || !request.replace)) {
    throw new UserError(
      `A case named "${name}" already exists (${existing.path}).`,
      existing.path === target ? 'Pass replace: true to replace it (the old one is kept under cases-backup/).' : 'Choose another name: built-in and configured cases cannot be replaced.',
    );
  }
  const staging = join(runtime.config.home, 'cache', 'triton', 'staging', `${name}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(join(staging, 'model.py'), request.modelSource);
    writeFileSync(join(staging, 'manifest.yaml'), request.manifest);
    const outcome = await runPhase(runtime.config, 'validate', ['--case-dir', staging], { timeoutMs: VALIDATE_TIMEOUT_MS, signal: request.signal, cwd: staging });
    const validation = requireResult(outcome, runtime.config);
    mkdirSync(userCasesDir(runtime.config.home), { recursive: true, mode: 0o700 });
    let backup: string | null = null;
    if (existsSync(target)) {
      backup = join(runtime.config.home, 'cases-backup', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(join(runtime.config.home, 'cases-backup'), { recursive: true, mode: 0o700 });
      renameSync(target, backup);
    }
    try {
      renameSync(staging, target);
    } catch (error) {
      if (backup) renameSync(backup, target);
      throw new UserError(`Could not move the case into ${target}: ${(error as Error).message}.`, 'Another session may have created it at the same moment; list the cases and retry.');
    }
    return { name, path: target, replaced_backup: backup, validation };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
