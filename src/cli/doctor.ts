/** `tuneloop doctor`: what each toolset can do on this host, and the remedy for what it cannot. */
import type { Config } from '../core/config.js';
import { runDoctor } from '../core/probe.js';

export async function doctor(config: Config, json: boolean): Promise<number> {
  const rows = await runDoctor(config);
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  let toolset = '';
  for (const r of rows) {
    if (r.toolset !== toolset) {
      toolset = r.toolset;
      process.stdout.write(`\n[${toolset}]\n`);
    }
    process.stdout.write(`  ${r.ok ? 'ok     ' : 'MISSING'}  ${r.name}: ${r.detail}  (${r.enables})\n`);
    if (!r.ok && r.remedy) process.stdout.write(`           remedy: ${r.remedy}\n`);
  }
  const missing = rows.filter((r) => !r.ok).length;
  process.stdout.write(`\n${rows.length - missing} of ${rows.length} checks pass.\n`);
  return 0;
}
