/** diagnose_logs: evidence-backed findings from kernel, service and job logs. */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { READ_ONLY, defineTool } from '../core/tool.js';
import { CONFIDENCES, SEVERITIES } from './logs/catalog.js';
import { DEFAULT_DEADLINE_S, diagnose, type DiagnoseResult } from './logs/diagnose.js';

const stamp = z.string().nullable().describe('ISO time, boot+Ns for kernel seconds since boot, null when the lines carry no time.');
const evidence = z.object({
  source: z.string(),
  line: z.number().int().describe('Line number within the source (from the first line read).'),
  time: stamp,
  text: z.string().describe('The line, verbatim (cut at 1000 characters).'),
  context_before: z.array(z.string()).optional(),
  context_after: z.array(z.string()).optional(),
});

const finding = z.object({
  id: z.string().describe('F1, F2... in rank order.'),
  rank: z.number().int(),
  case: z.string().describe('Signature id in knowledge/incidents/signatures.json.'),
  title: z.string(),
  severity: z.enum(SEVERITIES),
  role: z.enum(['root_cause', 'knock_on', 'standalone']),
  count: z.number().int().describe('Matching lines, repeated lines included.'),
  first_seen: stamp,
  last_seen: stamp,
  span_s: z.number().nullable(),
  sources: z.array(z.object({ source: z.string(), count: z.number().int(), first_seen: stamp, last_seen: stamp })),
  fields: z.record(z.string(), z.array(z.object({ value: z.string(), count: z.number().int() }))).describe('Extracted values (pid, bus_id, xid, seq...) with how often each was seen; <field>_name decodes codes.'),
  evidence: z.array(evidence).describe('The first lines and the latest one.'),
  meaning: z.string(),
  next_checks: z.array(z.string()).describe('Concrete commands, with extracted values filled in.'),
  remedy: z.string(),
  confidence: z.enum(CONFIDENCES),
  caused_by: z.array(z.object({ finding: z.string(), case: z.string(), confidence: z.enum(CONFIDENCES), reason: z.string() })),
  knock_ons: z.array(z.string()),
  note: z.string().optional(),
});

const outputSchema = z.object({
  sources: z.array(
    z.object({
      name: z.string(),
      lines: z.number().int(),
      bytes: z.number().int(),
      matched_lines: z.number().int(),
      unclassified_lines: z.number().int(),
      first_seen: stamp,
      last_seen: stamp,
      notes: z.array(z.string()),
      skipped: z.array(z.object({ bytes: z.number().int(), reason: z.string() })).describe('Input not analysed and why (max_bytes, deadline_s); bytes 0 when the amount is unknown (streams, /proc files).'),
    }),
  ),
  deadline_reached: z.boolean().describe('True when deadline_s stopped the reading: the answer covers only what was read (see sources[].skipped).'),
  severity_counts: z.record(z.string(), z.number().int()),
  findings: z.array(finding).describe('Ranked: roots by severity, each followed by its knock-ons.'),
  findings_omitted: z.array(z.object({ case: z.string(), severity: z.enum(SEVERITIES), count: z.number().int() })).describe('Findings beyond max_findings.'),
  correlations: z
    .array(
      z.object({
        start: z.string(),
        end: z.string(),
        cross_source: z.boolean(),
        sources: z.array(z.string()),
        chain: z.string(),
        events: z.array(z.object({ finding: z.string(), case: z.string(), severity: z.enum(SEVERITIES), first_seen: stamp, sources: z.array(z.string()) })),
      }),
    )
    .describe('Findings that overlap within window_s, in the order they were first reported.'),
  unclassified: z.object({
    lines: z.number().int().describe('Error-looking lines (error/fail/fatal/timeout...) no signature matched.'),
    patterns: z.number().int(),
    dropped_patterns: z.number().int(),
    top: z.array(z.object({ pattern: z.string(), count: z.number().int(), first_seen: stamp, last_seen: stamp, sample: evidence })),
  }),
});

export const diagnoseLogsTool = defineTool({
  name: 'diagnose_logs',
  toolset: 'observe',
  title: 'Diagnose logs',
  description:
    'Diagnose incidents from logs: why a GPU host is slow or stuck. Finds known signatures (Xid GPU faults, ECC, fallen-off-the-bus, OOM kills, lockups, hung tasks, NCCL timeouts and IB/socket errors, CUDA errors, vLLM hangs/preemption/engine death...) ' +
    'in text, log files, the systemd journal, dmesg or a tuneloop job log. Returns findings ranked by severity and causality (knock-ons linked to and ranked below their cause), ' +
    'each with counts, first/last times, verbatim evidence with line numbers, extracted fields, meaning, next checks and remedy; a time-window correlation across sources; ' +
    'and a summary of error-looking lines no signature matched. Streams its input: 100 MB logs are fine.',
  annotations: READ_ONLY,
  input: z.object({
    text: z.string().max(16 * 1024 * 1024).optional().describe('Log text to analyse (pasted output, up to 16 MiB).'),
    files: z.array(z.string().min(1)).max(32).default([]).describe('Absolute paths of log files readable by the server (e.g. /var/log/kern.log); each is read from its tail, at most max_bytes.'),
    job_id: z.string().optional().describe('A tuneloop job whose log to analyse (e.g. a failed nccl-tests run).'),
    journal_kernel: z.boolean().default(false).describe('Read the kernel log from the journal (journalctl -k -o short-iso).'),
    journal_units: z.array(z.string().min(1)).max(16).default([]).describe('systemd units whose journal to read (journalctl -u), e.g. ["vllm.service"].'),
    since: z.string().optional().describe('journalctl --since for journal sources: "2024-03-05 10:00", "-1h", "today".'),
    until: z.string().optional().describe('journalctl --until for journal sources.'),
    journal_boot: z.string().optional().describe('journalctl -b for journal sources: "0" current boot, "-1" the previous one (after a crash), or a boot id.'),
    dmesg: z.boolean().default(false).describe('Read the kernel ring buffer (dmesg --time-format iso).'),
    max_bytes: z.number().int().min(1024).max(1024 ** 3).default(256 * 1024 * 1024).describe('Per file: read at most this many bytes from its end (analysis runs at 100+ MB/s).'),
    deadline_s: z.number().min(1).max(300).default(DEFAULT_DEADLINE_S).describe('Time bound for reading all sources: reading stops here and the answer says what was skipped (clients time out a call at 60 s).'),
    journal_lines: z.number().int().min(1).max(5_000_000).default(200_000).describe('Per journal source: at most this many most recent lines (journalctl -n).'),
    window_s: z.number().min(1).max(86_400).default(120).describe('Correlation window: findings within this many seconds of each other are grouped, and a knock-on is linked to a cause only within it.'),
    kernel_boot_time: z.string().optional().describe('When the host booted (ISO, `uptime -s` there): places [seconds since boot] kernel times on the clock for correlation.'),
    max_findings: z.number().int().min(1).max(100).default(25).describe('Findings returned (the rest are listed in findings_omitted).'),
    max_evidence: z.number().int().min(1).max(20).default(5).describe('Evidence lines per finding: the first ones and the latest.'),
    max_unclassified: z.number().int().min(0).max(100).default(15).describe('Unclassified error-looking patterns returned.'),
  }),
  output: outputSchema,
  async handler(args, { runtime, signal, reportProgress }) {
    const hasSource = args.text !== undefined || args.files.length > 0 || args.job_id || args.journal_kernel || args.journal_units.length > 0 || args.dmesg;
    if (!hasSource) {
      throw new UserError('No log source given.', 'Pass at least one of: text, files, job_id, journal_kernel, journal_units, dmesg.');
    }
    let bootTimeMs: number | undefined;
    if (args.kernel_boot_time !== undefined) {
      bootTimeMs = Date.parse(args.kernel_boot_time);
      if (!Number.isFinite(bootTimeMs)) throw new UserError(`kernel_boot_time "${args.kernel_boot_time}" is not a date.`, 'Use ISO 8601, e.g. "2024-03-05T08:12:00Z" (uptime -s on the host prints it).');
    }
    const jobLog = args.job_id ? { id: args.job_id, path: runtime.jobs.get(args.job_id).log_path } : undefined;
    return diagnose(
      runtime.config,
      {
        text: args.text,
        files: args.files,
        jobLog,
        journalKernel: args.journal_kernel,
        journalUnits: args.journal_units,
        since: args.since,
        until: args.until,
        boot: args.journal_boot,
        dmesg: args.dmesg,
        maxBytes: args.max_bytes,
        deadlineS: args.deadline_s,
        journalLines: args.journal_lines,
        windowS: args.window_s,
        bootTimeMs,
        maxFindings: args.max_findings,
        maxEvidence: args.max_evidence,
        maxUnclassified: args.max_unclassified,
        onProgress: reportProgress,
      },
      signal,
    );
  },
  summarize: summarizeDiagnosis,
});

export function summarizeDiagnosis(r: DiagnoseResult): string {
  const lines = [`Read ${r.sources.map((s) => `${s.name} (${s.lines} lines)`).join(', ')}.`];
  const skipped = r.sources.filter((s) => s.skipped.length);
  if (skipped.length) lines.push(`Not everything was read: ${skipped.map((s) => `${s.name}: ${s.skipped.map((k) => k.reason.split(':')[0]).join(', ')}`).join('; ')} (see sources[].skipped).`);
  if (r.findings.length === 0) lines.push('No known incident signature matched.');
  for (const f of r.findings.slice(0, 8)) {
    const cause = f.caused_by.length ? ` <- knock-on of ${f.caused_by.map((c) => c.finding).join(', ')}` : '';
    lines.push(`${f.id} [${f.severity}] ${f.title}: ${f.count}x${f.first_seen ? ` from ${f.first_seen}` : ''}${cause}`);
  }
  if (r.findings.length > 8 || r.findings_omitted.length) lines.push(`... ${r.findings.length - Math.min(8, r.findings.length) + r.findings_omitted.length} more finding(s) in the structured result.`);
  for (const c of r.correlations.slice(0, 3)) lines.push(`Correlated ${c.start}..${c.end}: ${c.chain}`);
  if (r.unclassified.lines) lines.push(`${r.unclassified.lines} error-looking line(s) matched no signature (${r.unclassified.patterns} pattern(s)); see unclassified.top.`);
  return lines.join('\n');
}
