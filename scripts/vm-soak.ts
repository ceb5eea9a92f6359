/**
 * Soak proof for the templates on a real kernel: boots the sched_ext guest N times and, in each
 * boot, has tuneloop (inside the guest) build and verify both templates with their default
 * parameters, each kept attached for S seconds under the smoke load (one spinning thread per CPU
 * plus wake-up ping-pong pairs). A template passes a boot when it stayed enabled with its own name
 * and an unchanged enable_seq throughout, and detached cleanly. Prints a line per boot and template,
 * then a JSON summary. Needs `tuneloop vm build` and `npm run build`.
 *
 *   node --import tsx scripts/vm-soak.ts [BOOTS=10] [SECONDS=30]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/core/config.js';
import type { BuildResult } from '../src/sched/custom/build.js';
import { listTemplates } from '../src/sched/custom/templates.js';
import { PACKAGE_ROOT } from '../src/sched/paths.js';
import { runInVm } from '../src/vm/run.js';

const boots = Number(process.argv[2] ?? 10);
const seconds = Number(process.argv[3] ?? 30);
const config = loadConfig();
const templates = listTemplates();
const out = mkdtempSync(join(config.vmCache, 'soak-'));
const rows: { boot: number; template: string; verdict: string; seconds: number | null; spin_rounds: number | null; wakeups: number | null; reason: string | null }[] = [];

try {
  for (let boot = 1; boot <= boots; boot++) {
    const script = templates
      .map((t) => `node dist/cli.js call build_scheduler '${JSON.stringify({ name: `soak_${t}`, template: t, verify_s: seconds, wait_s: 50 })}' > ${out}/${t}.json 2> ${out}/${t}.err`)
      .join('; ');
    const started = Date.now();
    const vm = await runInVm(config, { argv: ['sh', '-c', script], cwd: PACKAGE_ROOT, env: { TUNELOOP_HOME: '/tmp/tuneloop' }, shares: [{ path: out, writable: true }], timeoutS: 300 + 3 * seconds * templates.length });
    for (const template of templates) {
      let view: { status?: string; error?: string | null; result?: BuildResult } = {};
      try {
        view = JSON.parse(readFileSync(join(out, `${template}.json`), 'utf8'));
      } catch {
        view = { error: vm.failure ?? readFileSync(join(out, `${template}.err`), 'utf8').trim().split('\n').slice(-3).join(' | ') };
      }
      const r = view.result;
      const row = {
        boot,
        template,
        verdict: r?.verdict ?? `no result (${view.status ?? 'none'})`,
        seconds: r?.verification?.smoke?.seconds ?? null,
        spin_rounds: r?.verification?.smoke?.spin_rounds ?? null,
        wakeups: r?.verification?.smoke?.wakeups ?? null,
        reason: r?.reason ?? view.error ?? null,
      };
      rows.push(row);
      process.stderr.write(`boot ${boot} ${template}: ${row.verdict}${row.reason ? ` (${row.reason})` : ''}; smoke ${row.seconds ?? '?'} s, ${row.spin_rounds ?? '?'} spin rounds, ${row.wakeups ?? '?'} wake-ups\n`);
    }
    process.stderr.write(`boot ${boot}: ${vm.kernel_release ?? '?'} under ${vm.accel}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
const summary = Object.fromEntries(templates.map((t) => [t, { boots, verified: rows.filter((r) => r.template === t && r.verdict === 'verified').length, seconds_each: seconds }]));
process.stdout.write(`${JSON.stringify({ summary, rows }, null, 2)}\n`);
process.exitCode = rows.every((r) => r.verdict === 'verified') ? 0 : 1;
