/**
 * Shared by the two halves of `npm run test:vm`: the host half (host-compiled objects verified in
 * the guest through build_scheduler verify_in "vm") and the guest half (tuneloop inside the guest,
 * objects compiled against the guest's own BTF).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { listTemplates, templateManifest } from '../../../src/sched/custom/templates.js';
import type { BuildResult } from '../../../src/sched/custom/build.js';

/** For each template: its defaults, every parameter at its minimum, every parameter at its maximum. */
export function templateCases(): { label: string; template: string; params: Record<string, number> }[] {
  return listTemplates().flatMap((template) => {
    const params = Object.entries(templateManifest(template).params);
    return [
      { label: `${template} defaults`, template, params: {} },
      { label: `${template} minima`, template, params: Object.fromEntries(params.map(([k, p]) => [k, p.min])) },
      { label: `${template} maxima`, template, params: Object.fromEntries(params.map(([k, p]) => [k, p.max])) },
    ];
  });
}

/** A valid scheduler name for a case label ("percpu maxima" -> "t_percpu_maxima"). */
export const caseName = (prefix: string, label: string) => `${prefix}_${label.replace(/\W+/g, '_')}`.slice(0, 32);

type Call = (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;

/** build_scheduler, following its job to the end; the tool call itself must not fail. */
export async function buildToEnd(call: Call, args: Record<string, unknown>): Promise<BuildResult & { job_error: string | null }> {
  let r = await call('build_scheduler', { wait_s: 50, ...args });
  let view = r.structuredContent as { job_id: string; status: string; error: string | null; result?: BuildResult };
  while (view?.status === 'running') {
    r = await call('job_status', { job_id: view.job_id, wait_s: 50 });
    view = r.structuredContent as typeof view;
  }
  expect(view, JSON.stringify(r.content)).toBeDefined();
  return { ...(view.result as BuildResult), job_error: view.error };
}
