/**
 * Issue 9 section 3 (last two bullets): 14 tools echoed a 1 MB argument back in their error text,
 * flooding the client's context; and unknown keys in nested objects (a tolerance map) were dropped
 * silently instead of refused. Every tool, every argument, through MCP.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { TOOLSETS } from '../../src/core/config.js';
import { selectTools } from '../../src/tool-index.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { fakeHost } from '../sched/helpers.js';

// 1 MiB of words on one line. (Spaces keep diagnose_logs, which analyses a text argument, out of the
// slow path of long space-free lines, which is tested with the log analysis itself.)
const MB = `${'x'.repeat(79)} `.repeat((1 << 20) / 80);
const MAX_ERROR_TEXT = 2048;
/** An action that reaches the tool's code (not only the schema), so its own error texts are tested. */
const ACTIONS: Record<string, string> = { system_monitor: 'stop', nccl_env: 'show', nccl_params: 'validate', triton_cases: 'show', workload: 'get' };

describe('hostile input stays bounded', async () => {
  const host = fakeHost();
  const { call, client } = await connectInMemory(host.env);
  const tools = await selectTools({ toolsets: [...TOOLSETS], readOnly: false });
  const listed = new Map((await client.listTools()).tools.map((t) => [t.name, t]));
  /** Call, then cancel any job it left running. */
  const probe = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    const r = await call(name, args);
    const view = r.structuredContent as { job_id?: string; status?: string } | undefined;
    if (view?.job_id && view.status === 'running') await call('job_cancel', { job_id: view.job_id });
    return r;
  };

  it.each(tools.map((t) => [t.name, t] as const))('%s: a 1 MB string in any argument gets an error text under 2 KB', async (name, tool) => {
    const keys = Object.keys(tool.input.shape);
    for (const key of keys) {
      const args: Record<string, unknown> = { [key]: MB };
      if (keys.includes('wait_s') && key !== 'wait_s') args.wait_s = 0;
      if (ACTIONS[name] && key !== 'action') args.action = ACTIONS[name];
      const r = await probe(name, args);
      if (r.isError) expect(textOf(r).length, `${name}.${key}: ${textOf(r).slice(0, 300)}`).toBeLessThan(MAX_ERROR_TEXT);
      else expect(textOf(r).length, `${name}.${key} (a success)`).toBeLessThan(16 * 1024);
    }
    const unknownKey = await probe(name, { [`k${MB}`]: 1 });
    expect(unknownKey.isError).toBe(true);
    expect(textOf(unknownKey)).toMatch(/Unknown argument\(s\) "kxxx/);
    expect(textOf(unknownKey).length).toBeLessThan(MAX_ERROR_TEXT);
  });

  it('a 1 MB key in a map of the input is quoted in bounded pieces', async () => {
    const r = await probe('nccl_params', { action: 'validate', config: { [`NCCL_${MB}`]: 7 } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Invalid arguments for nccl_params: config\.NCCL_x+… \(\d+ characters\): /);
    expect(textOf(r).length).toBeLessThan(MAX_ERROR_TEXT);
  });

  it('refuses unknown keys in nested objects like top-level ones, naming the allowed keys', async () => {
    const r = await probe('triton_verify', { case: 'softmax', candidate: 'x = 1', tolerances: { float32: { atol: 1e-4, rtoll: 1e-3 } }, wait_s: 0 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe('Invalid arguments for triton_verify: tolerances.float32: unknown key(s) "rtoll"; allowed: atol, rtol');
  });

  it('every object in every listed input schema refuses unknown keys', () => {
    const open: string[] = [];
    const visit = (schema: unknown, where: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(s)) {
        if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${where}.${k}[${i}]`));
        else if (v && typeof v === 'object') visit(v, `${where}.${k}`);
      }
    };
    for (const [name, tool] of listed) visit(tool.inputSchema, name);
    expect(open).toEqual([]);
  });
});
