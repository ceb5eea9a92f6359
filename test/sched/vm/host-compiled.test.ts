/**
 * The host half of `npm run test:vm`: this host has no sched_ext, so build_scheduler compiles
 * against its BTF plus tuneloop's compat types and (verify_in "vm") verifies in the sched_ext guest
 * built by `tuneloop vm build`: the guest kernel's verifier, CO-RE relocation onto its types, a
 * real attach under load and a detach. Both templates, with their defaults and every parameter at
 * its minimum and at its maximum.
 */
import { existsSync } from 'node:fs';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.js';
import { startStdioServer } from '../../helpers/stdio.js';
import { tempDir } from '../../helpers/tmp.js';
import { buildToEnd, caseName, templateCases } from './helpers.js';

/** The cache `tuneloop vm build` filled, as this environment names it (the tests' data dirs are temporary). */
const vmCache = loadConfig().vmCache;

describe('host-compiled objects, verified in the guest', async () => {
  // The built server over stdio (npm run test:vm builds first), so the guest runs the built verifier too.
  const { client } = await startStdioServer(['serve'], { TUNELOOP_HOME: tempDir(), TUNELOOP_VM_CACHE: vmCache });
  afterAll(() => client.close());
  await client.listTools(); // the client then validates every structuredContent against the output schemas
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as CallToolResult;
  const hostHasSchedExt = existsSync('/sys/kernel/sched_ext/state');

  it.each(templateCases())('verifies $label', async ({ label, template, params }) => {
    const r = await buildToEnd(call, { name: caseName('h', label), template, template_params: params, verify_s: 3, verify_in: 'vm' });
    expect(r.verdict, `${r.job_error ?? r.reason}\n${r.verification?.output_tail.join('\n')}`).toBe('verified');
    expect(r.verified_in).toMatchObject({ where: 'vm', kernel_release: expect.stringMatching(/^6\.12\./) });
    expect(r.verified_in!.note).toContain("say nothing about this host's performance");
    expect(r.compiled_against!.compat_types).toBe(!hostHasSchedExt);
    if (!hostHasSchedExt) expect(r.compiled_against!.note).toContain("compat types");
    expect(r.verification!.state_during).toMatchObject({ state: 'enabled', ops: caseName('h', label) });
    expect(r.verification!.smoke!.min_pair_bounces).toBeGreaterThan(0);
  });
});
