/** The few lines a person reads for each Triton tool's result. */
import type { ProfileSummary, VerifyResult } from './schemas.js';

export function summarizeVerify(r: VerifyResult): string {
  const lines = [`${r.case} / ${r.experiment}: ${r.verdict.toUpperCase()} on ${r.device}${r.device_name ? ` (${r.device_name})` : ''}${r.interpret ? ', TRITON_INTERPRET=1' : ''}`];
  const failed = r.checks.filter((c) => c.passed === false);
  const passed = r.checks.filter((c) => c.passed === true).length;
  lines.push(`checks: ${passed} passed, ${failed.length} failed${failed.length ? ` (${failed.map((c) => c.name).join(', ')})` : ''}`);
  for (const reason of r.verdict_reasons.slice(0, 3)) lines.push(`- ${reason.length > 400 ? `${reason.slice(0, 400)}…` : reason}`);
  if (r.timing) {
    const t = r.timing;
    lines.push(`timing (${t.label}): baseline ${fmt(t.baseline.median)} ms, candidate ${fmt(t.candidate.median)} ms, speedup ${t.speedup.toFixed(3)}x (${t.verdict}${t.p_value !== null ? `, p=${t.p_value.toPrecision(2)}` : ''})`);
  }
  const suspicious = r.flags.filter((f) => f.severity === 'suspicious');
  if (suspicious.length) lines.push(`flags: ${suspicious.map((f) => `${f.code} (${f.source})`).join(', ')}`);
  const warnings = r.flags.filter((f) => f.severity === 'warning');
  if (warnings.length) lines.push(`warnings: ${warnings.map((f) => f.code).join(', ')}`);
  for (const e of r.errors.slice(0, 2)) lines.push(`error (${e.phase}): ${e.type}: ${e.message.split('\n').slice(0, 6).join('\n')}`);
  lines.push(`run #${r.run_id}; archive: ${r.archive}`);
  return lines.join('\n');
}

export function summarizeProfile(r: { case: string; device: string; profile: ProfileSummary }): string {
  const p = r.profile;
  const key = p.device === 'cuda' ? 'self_device_us' : 'self_cpu_us';
  const top = p.top_operators.slice(0, 5).map((o) => `${o.name} ${fmt(o[key])} us x${o.calls}`);
  return `${r.case}: profiled the ${p.variant} on ${p.device} (${p.steps} steps, by ${p.sort_by})\ntop: ${top.join('; ')}\ntrace: ${p.trace_uri} (${p.trace_path})`;
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : Number(value.toPrecision(4)).toString();
}
