/**
 * MCP prompts: guided sessions that walk a client through observe -> plan -> execute -> learn with
 * the exact tool names. A prompt is listed only when every tool it depends on is registered (its
 * toolsets are enabled and, for tools that change the host, the server is not read-only); optional
 * steps appear only when their tool is there. prompts/list answers even when no prompt qualifies.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListPromptsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

type Has = (tool: string) => boolean;

interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  args: Record<string, z.ZodType<string | undefined>>;
  /** Tools the walk-through cannot do without. */
  requires: string[];
  build(args: Record<string, string | undefined>, has: Has): string;
}

const STATISTICS_RULES = `Rules for claims:
- Measure a baseline first, with repeats (5 or more); note its coefficient of variation (CV).
- Repeat every promising config; never trust a single run.
- A gain is real only when the comparison says "better" (Mann-Whitney p < alpha and the bootstrap CI of the difference excludes 0). "no significant difference" means within noise: say so.
- Stop when the next candidates' predicted gains are within the noise, or the budget is spent.
- Record everything (execution tools record their own runs; record_run for anything you ran yourself).`;

const optional = (has: Has, tool: string, text: string) => (has(tool) ? `${text}\n` : '');

export const PROMPTS: PromptDefinition[] = [
  {
    name: 'tune_scheduler',
    title: 'Tune the CPU scheduler for a workload',
    description: 'Find a sched_ext scheduler and flags that make a workload faster, with a measured baseline and statistics before any claim.',
    args: {
      command: z.string().describe('The workload command line, e.g. "make -j8" or "schbench -r 10".'),
      goal: z.string().optional().describe('What better means, e.g. "lower wall time" (default) or "lower p99 latency".'),
    },
    requires: ['sched_status', 'list_schedulers', 'benchmark_workload', 'workload', 'compare_runs', 'suggest_config', 'rules'],
    build: (a, has) => `Tune the Linux CPU scheduler for this workload: \`${a.command}\`. Goal: ${a.goal || 'lower wall time'}.

1. Observe
- sched_status: can this host load sched_ext schedulers (kernel, privileges)? If not, stop and say what is missing.
${optional(has, 'system_snapshot', '- system_snapshot: CPUs, memory, load; note anything that would make measurements noisy.')}- workload {"action": "create", "name": "...", "command": [...argv...], "classification": "..."}: save the workload.
- workload {"action": "similar", "workload": "<name>"} and rules {"action": "match", "workload": "<name>"}: what worked before on similar workloads and hosts.
${optional(has, 'search_knowledge', '- search_knowledge {"query": "which scheduler for <workload class>"}: the guide for this class of workload.')}
2. Baseline
- benchmark_workload {"workload": "<name>", "repeats": 5}: the default scheduler alone. Give a metric_regex and direction if the goal is a number the program prints.

3. Plan
- list_schedulers {"use_case": "..."}: pick two or three candidates that fit the workload class.
- suggest_config {"space": "sched:<scheduler>", "workload": "<name>"}: flag values to try, seeded by matching rules; ask again after each measurement.

4. Execute
- benchmark_workload {"workload": "<name>", "scheduler": "<scheduler>", "flags": [...], "repeats": 5}: an A/B trial against the default, interleaved so drift cancels. It is a job: poll job_status with its job_id.
- Repeat the leaders; compare_runs {"workload": "<name>", "a_config_key": "<default>", "b_config_key": "<candidate>"} for the verdict.

5. Learn
- rules {"action": "derive", "workload": "<name>", "save": true}: keep what significantly beat the baseline.
- Report the best scheduler and flags, the median change with its 95% CI and p-value, and the command that reproduces it.

${STATISTICS_RULES}`,
  },
  {
    name: 'tune_nccl',
    title: 'Tune NCCL for a collective at a scale',
    description: 'Measure a collective with nccl-tests, search NCCL settings per message-size band, and deliver a tuned result only when it is significantly better.',
    args: {
      collective: z.string().describe('Collective, e.g. "all_reduce", "all_gather", "reduce_scatter".'),
      scale: z.string().describe('Where it runs, e.g. "1 node x 8 GPUs" or "2 nodes x 8 GPUs over srun".'),
      goal: z.string().optional().describe('What better means, e.g. "higher bus bandwidth for large messages" (default) or "lower latency below 64 KiB".'),
    },
    requires: ['nccl_params', 'run_nccl_tests', 'nccl_sweep', 'nccl_env', 'compare_runs', 'suggest_config', 'rules'],
    build: (a, has) => `Tune NCCL for ${a.collective} at ${a.scale}. Goal: ${a.goal || 'higher bus bandwidth for large messages'}.

1. Observe
${optional(has, 'gpu_status', '- gpu_status: GPUs healthy, not throttling, no Xid errors; a sick GPU makes tuning meaningless.')}- run_nccl_tests {"collective": "${a.collective}", "min_bytes": "8", "max_bytes": "8G", "log_nccl_choices": true, ...launcher for ${a.scale}}: the untuned baseline, with NCCL_DEBUG=INFO choices. Check transports (NET/IB, P2P/NVLink) before tuning anything.
${optional(has, 'search_knowledge', '- search_knowledge {"query": "<the symptom, e.g. allreduce slow on small messages>"}: the NCCL tuning guide step that applies.')}- rules {"action": "match", "situation": {"gpu_model": "...", "ranks": N, "collective": "${a.collective}", "message_band": "small|medium|large"}}: what worked on similar clusters.

2. Baseline
- Repeat the untuned run 3-5 times (run_nccl_tests); note busbw per size band and its run-to-run CV.

3. Plan
- nccl_params {"risk": "tuning"}: the variables that are safe to tune; validate any config before running it.
- suggest_config {"space": "nccl", "variables": ["NCCL_ALGO", "NCCL_PROTO", "NCCL_MIN_CTAS", ...], "context": {"collective": "${a.collective}"}}: next configs to try, per band.

4. Execute
- nccl_sweep {"grid": {...}, "repeats": 4, ...launcher}: measure candidates against the untuned default; or run_nccl_tests with each suggested env. These are jobs: poll job_status.
- compare_runs between the default and the winner for the band you tune.

5. Learn and deliver
- rules {"action": "derive", "domain": "nccl", "save": true}.
- Deliver per-size winners through the tuner CSV the sweep writes (NCCL_TUNER_PLUGIN + NCCL_TUNER_CONFIG_FILE) or one profile: nccl_env {"action": "save", ...} then {"action": "write_conf", ...}. Do not leave NCCL_ALGO/NCCL_PROTO set globally in production.

${STATISTICS_RULES}`,
  },
  {
    name: 'optimize_kernel',
    title: 'Optimise a PyTorch module with a Triton kernel',
    description: 'Profile a case, write a candidate kernel, verify it honestly and time it against the baseline.',
    args: {
      case: z.string().describe('The Triton case name (see triton_cases), e.g. "softmax".'),
    },
    requires: ['triton_cases', 'triton_profile', 'triton_verify', 'compare_runs'],
    build: (a, has) => `Make the PyTorch module of case "${a.case}" faster with a Triton kernel, and prove it.

1. Observe
- triton_cases {"name": "${a.case}"}: the module, its input schema and the shipped candidates.
- triton_profile {"case": "${a.case}"}: where the baseline spends its time (the operator table).
${optional(has, 'search_knowledge', '- search_knowledge {"query": "triton fuse memory-bound reduction"}: the Triton optimisation checklist.')}
2. Plan
- Choose what to fuse and how to tile it (block size, num_warps, num_stages); write the candidate as a ModelNew with the same constructor and forward signature.

3. Execute
- triton_verify {"case": "${a.case}", "candidate": "<path or source>"}: compiles, checks correctness on several seeds and distributions in a sandbox, then times candidate and baseline the same way. It is a job: poll job_status.
- Fix what it reports (compile errors come back verbatim with line numbers) and verify again.

4. Learn
- Each verify is a run in history (domain triton): compare_runs between candidates; keep the winner's archive.
- Report the verdict, the speedup with its spread, and the correctness margins (max abs/rel error). A speedup above 10x is flagged for review: explain it or distrust it.

${STATISTICS_RULES}`,
  },
  {
    name: 'diagnose_incident',
    title: 'Diagnose an incident on a GPU host',
    description: 'Find the root cause of a slowdown, hang or crash from logs, GPU state and metrics, and say what to do next.',
    args: {
      symptom: z.string().describe('What is wrong, e.g. "training hangs after 2 hours" or "vLLM p99 latency doubled".'),
      sources: z.string().optional().describe('Where to look, e.g. "journal, /var/log/vllm.log, http://localhost:8000/metrics" (default: the kernel log).'),
    },
    requires: ['diagnose_logs', 'gpu_status', 'system_snapshot'],
    build: (a, has) => `Diagnose this incident: ${a.symptom}. Sources: ${a.sources || 'the kernel log (journal/dmesg)'}.

1. Observe
- diagnose_logs over each source (kernel log first: Xid, OOM killer, lockups, hung tasks; then service logs): findings with verbatim evidence lines, counts and first/last times.
- gpu_status: GPU health, ECC, throttling, processes.
- system_snapshot: memory, load, pressure on the host.
${optional(has, 'scrape_metrics', '- scrape_metrics on the service\'s /metrics (e.g. vLLM): queue, KV cache usage, preemptions, latency histograms.')}
2. Plan
- Order the findings in time across sources: the first error is usually the cause (Xid 79 -> NCCL timeout -> engine death); knock-on errors (Xid 43/45, NCCL status 5, watchdog timeouts on healthy ranks) are not.
${optional(has, 'search_knowledge', '- search_knowledge {"query": "<the primary finding, e.g. Xid 79>"}: the runbook: meaning, next checks, remedy.')}
3. Execute
- Run the runbook's next checks that tuneloop can do (gpu_status, diagnose_logs with a narrower time window); name the ones a person must do (reboot, reseat, RMA).

4. Learn
${optional(has, 'rules', '- If a configuration change fixed it, record it: rules {"action": "add", "domain": "other", "context": {...}, "patch": {...}, "note": "..."}.')}- Report: root cause with its evidence lines, confidence, what else was ruled out, and the remedy.

Claims: say what the evidence shows and what it does not; do not guess a cause without a log line or a metric behind it.`,
  },
];

export function registerPrompts(server: McpServer, toolNames: readonly string[]): string[] {
  const has: Has = (t) => toolNames.includes(t);
  const listed = PROMPTS.filter((p) => p.requires.every(has));
  for (const p of listed) {
    server.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: p.args }, (args: Record<string, string | undefined>) => ({
      description: p.description,
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: p.build(args, has) } }],
    }));
  }
  if (listed.length === 0) {
    // No prompt qualifies: still answer prompts/list (clients call it and report "Method not found" as a failure).
    server.server.registerCapabilities({ prompts: {} });
    server.server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [] }));
  }
  return listed.map((p) => p.name);
}
