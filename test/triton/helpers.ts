/** Shared by the Triton tests: the interpreter with torch, skips with a printed reason, job polling. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { textOf } from '../helpers/runtime.js';

/** The interpreter that has torch: CI and the README point TUNELOOP_PYTHON at Debian's /usr/bin/python3. */
export const PYTHON = process.env.TUNELOOP_PYTHON || '/usr/bin/python3';
export const FIXTURES = resolve(import.meta.dirname, '../fixtures/triton');
export const ADVERSARIAL = resolve(FIXTURES, 'adversarial');
export const HONEST = resolve(FIXTURES, 'honest');
export const FIXTURE_CASES = resolve(FIXTURES, 'cases');
export const BUILTIN_CASES = resolve(import.meta.dirname, '../../tools/triton/cases');

interface PythonFacts {
  torch: boolean;
  triton: boolean;
  cuda: boolean;
}

function probe(): PythonFacts {
  const r = spawnSync(PYTHON, ['-c', 'import json\nf={"torch":False,"triton":False,"cuda":False}\ntry:\n import torch; f["torch"]=True; f["cuda"]=torch.cuda.is_available()\nexcept Exception: pass\ntry:\n import triton; f["triton"]=True\nexcept Exception: pass\nprint(json.dumps(f))'], { encoding: 'utf8', timeout: 60_000 });
  try {
    return JSON.parse(r.stdout.trim()) as PythonFacts;
  } catch {
    return { torch: false, triton: false, cuda: false };
  }
}

export const facts = probe();

/** A reason to skip, printed so CI logs say why a test did not run; null when it can run. */
export function skipReason(needs: { cuda?: boolean; triton?: boolean }): string | null {
  let reason: string | null = null;
  if (!facts.torch) reason = `torch is not importable by ${PYTHON} (set TUNELOOP_PYTHON)`;
  else if (needs.triton && !facts.triton) reason = `triton is not installed for ${PYTHON}`;
  else if (needs.cuda && !facts.cuda) reason = 'no CUDA device (torch.cuda.is_available() is false)';
  if (reason) process.stderr.write(`[triton tests] skipped: ${reason}\n`);
  return reason;
}

type Call = (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;

/** Start a job-starting tool and poll job_status until the job ends; returns the final view. */
export async function runJob(call: Call, tool: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  let result = await call(tool, { wait_s: 50, ...args });
  expect(result.isError, textOf(result)).toBeFalsy();
  let view = result.structuredContent as Record<string, any>;
  while (view.status === 'running') {
    result = await call('job_status', { job_id: view.job_id, wait_s: 50 });
    view = result.structuredContent as Record<string, any>;
  }
  return view;
}

/** triton_verify to the end; fails the test with the job's error when the job itself failed. */
export async function verify(call: Call, args: Record<string, unknown>): Promise<Record<string, any>> {
  const view = await runJob(call, 'triton_verify', args);
  expect(view.status, `${view.error ?? ''}\n${(view.log_tail ?? []).join('\n')}`).toBe('succeeded');
  return view.result;
}

export function check(result: Record<string, any>, name: string): { passed: boolean | null; detail: string } {
  const found = result.checks.find((c: { name: string }) => c.name === name);
  expect(found, `no check ${name}`).toBeTruthy();
  return found;
}

export function flagCodes(result: Record<string, any>, severity?: string): string[] {
  return result.flags.filter((f: { severity: string }) => !severity || f.severity === severity).map((f: { code: string }) => f.code);
}

/** A fixture candidate's source with its {placeholders} filled in (e.g. the data dir's cache path). */
export function fixtureSource(file: string, values: Record<string, string> = {}): string {
  let text = readFileSync(join(ADVERSARIAL, file), 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`{${key}}`, value);
  return text;
}

/** Minutes, not the default 30 s: a verify runs several processes that import torch (slower under load). */
export const VERIFY_TIMEOUT = 300_000;
