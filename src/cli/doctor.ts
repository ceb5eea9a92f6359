/** `tuneloop doctor`: what each toolset can do on this host, and the remedy for what it cannot. */
import type { Config } from '../core/config.js';
import { runDoctor } from '../core/probe.js';

export async function doctor(config: Config, json: boolean): Promise<number> {
  const rows = await runDoctor(config);
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  // One check can serve several toolsets (nvidia-smi: observe and nccl): shown under each, counted once.
  const checks = new Map<string, boolean>();
  const firstShown = new Map<string, string>();
  let toolset = '';
  for (const r of rows) {
    if (r.toolset !== toolset) {
      if (toolset) lines.push('');
      toolset = r.toolset;
      lines.push(`[${toolset}]`);
    }
    const seenIn = firstShown.get(r.name);
    if (!seenIn) firstShown.set(r.name, r.toolset);
    checks.set(r.name, (checks.get(r.name) ?? true) && r.ok);
    lines.push(`  ${r.ok ? 'ok     ' : 'MISSING'}  ${r.name}: ${r.detail}  (${r.enables})`);
    if (!r.ok && r.remedy) lines.push(`           remedy: ${seenIn ? `see [${seenIn}]` : r.remedy}`);
  }
  const passing = [...checks.values()].filter(Boolean).length;
  lines.push('', `${passing} of ${checks.size} checks pass.`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
