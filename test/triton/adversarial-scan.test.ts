/**
 * Slow: every candidate is a real triton_verify (a trusted and a sandboxed PyTorch process).
 *
 * Issue 10, class 5, through MCP: the static scan and the audit hook are flags (the defence is that
 * nothing trusted exists in the sandbox), but the bypasses found in them are closed: frames reached
 * through a traceback, the recorder switched off through the garbage collector, names built from
 * pieces, the harness's own modules imported.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../helpers/runtime.js';
import { ADVERSARIAL, PYTHON, VERIFY_TIMEOUT, flagCodes, skipReason, verify } from './helpers.js';

const skip = skipReason({});
const { call } = await connectInMemory({ TUNELOOP_PYTHON: PYTHON });
const run = (file: string) => verify(call, { case: 'softmax', candidate_path: join(ADVERSARIAL, file), bench: false });
const allPassed = (r: Record<string, any>) => r.checks.every((c: { passed: boolean | null }) => c.passed !== false);
const flag = (r: Record<string, any>, code: string, source: string) => r.flags.find((f: { code: string; source: string }) => f.code === code && f.source === source);

describe.skipIf(skip)('class 5: scan and audit bypasses', () => {
  it('frames through e.__traceback__.tb_frame.f_back: seen by the scan and at run time', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await run('c5_traceback_frames.py');
    expect(allPassed(r)).toBe(true);
    expect(r.verdict).toBe('suspicious');
    expect(flag(r, 'frame_introspection', 'static')?.detail).toMatch(/__traceback__.*|tb_frame/);
    expect(flag(r, 'frame_introspection', 'runtime')?.detail).toContain('tb_frame');
  });

  it('switching the audit recorder off (through gc) still leaves the gc walk and the open it hid on record', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await run('c5_audit_off.py');
    expect(r.verdict).toBe('suspicious');
    expect(flag(r, 'heap_introspection', 'runtime')?.detail).toContain('gc.get_objects');
    expect(flag(r, 'file_access', 'runtime')?.detail).toContain('tuneloop.db');
    expect(flag(r, 'obfuscated_name', 'static')?.detail).toMatch(/'open'.*'modules'|'modules'.*'open'/);
    expect(flagCodes(r, 'suspicious')).toContain('dynamic_lookup');
  });

  it('importing the harness\'s own modules (by pieces, through importlib and plainly)', { timeout: VERIFY_TIMEOUT }, async () => {
    const r = await run('c5_harness_import.py');
    expect(r.verdict).toBe('suspicious');
    expect(flag(r, 'harness_access', 'runtime')?.detail).toMatch(/tlharness\./);
    expect(flag(r, 'harness_access', 'static')).toBeTruthy();
  });
});
