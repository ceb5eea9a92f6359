/**
 * createServer(): builds the McpServer from the enabled toolsets. No process wiring here (stdin,
 * signals): cli.ts does that, and tests link this server to a client in memory.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Config } from './core/config.js';
import { formatErrorText, isUserError } from './core/errors.js';
import { createRuntime, type Runtime } from './core/runtime.js';
import { describeBug } from './core/log.js';
import type { ToolContext, ToolDefinition } from './core/tool.js';
import { allTools } from './tools.js';
import { allMigrations } from './migrations.js';
import { registerResources } from './mcp/resources.js';
import { registerPrompts } from './mcp/prompts.js';
import { SERVER_VERSION } from './version.js';

export const SERVER_NAME = 'tuneloop';

const INSTRUCTIONS = `tuneloop observes, changes and measures real systems: sched_ext CPU schedulers, NCCL collectives, Triton kernels, and incident evidence on GPU hosts.
Work in a loop: observe (system_snapshot, gpu_status, diagnose_logs) -> plan (search_knowledge, rules, suggest_config, list_schedulers, nccl_params, get_history) -> execute (run_scheduler, run_nccl_tests, triton_verify, benchmark_workload) -> learn (record_run, compare_runs, rules derive).
The prompts tune_scheduler, tune_nccl, optimize_kernel and diagnose_incident walk through the whole loop.
Long operations return {job_id, status: "running"}: poll job_status, stop with job_cancel. Trust a gain only when compare_runs says it is significant.`;

/** The tools a server with this config registers: enabled toolsets, minus writers in read-only mode. */
export function selectTools(config: Pick<Config, 'toolsets' | 'readOnly'>): ToolDefinition[] {
  return allTools.filter(
    (t) => config.toolsets.includes(t.toolset) && (!config.readOnly || t.annotations.readOnlyHint),
  );
}

export interface TuneloopServer {
  server: McpServer;
  runtime: Runtime;
  close(): Promise<void>;
}

export function createServer(config: Config): TuneloopServer {
  const runtime = createRuntime(config, allMigrations);
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  // The client sees tuneloop's diagnostics in its own log once connected (it may set the level).
  runtime.logger.addSink((level, message) => {
    if (server.isConnected()) server.sendLoggingMessage({ level, logger: SERVER_NAME, data: message }).catch(() => {});
  });
  const tools = selectTools(config);
  for (const tool of tools) registerTool(server, runtime, tool);
  memoizeToolList(server);
  registerResources(server, runtime);
  registerPrompts(server, tools.map((t) => t.name));
  return {
    server,
    runtime,
    async close() {
      await runtime.shutdown();
      await server.close().catch(() => {});
    },
  };
}

/**
 * The SDK converts every tool's zod schemas to JSON Schema on each tools/list (~40 ms for our
 * tools). Our tool set never changes after start-up, so the first answer is kept and reused.
 * The handler map is SDK-internal: when it is not where we expect, the SDK's own handler stays.
 */
function memoizeToolList(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, (...args: unknown[]) => Promise<unknown>> })._requestHandlers;
  const original = handlers?.get('tools/list');
  if (!handlers || !original) return;
  let answer: Promise<unknown> | undefined;
  handlers.set('tools/list', (...args) => {
    answer ??= original(...args).catch((error: unknown) => {
      answer = undefined;
      throw error;
    });
    return answer;
  });
}

/** Register one tool: strict input, structured output, UserErrors as isError results with their remedy. */
export function registerTool(server: McpServer, runtime: Runtime, tool: ToolDefinition): void {
  const shape = tool.input.shape;
  const input = z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `Unknown argument(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; ${tool.name} takes: ${Object.keys(shape).join(', ') || 'no arguments'}`
        : undefined,
  });
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: input,
      outputSchema: tool.output,
      annotations: { title: tool.title, ...tool.annotations },
    },
    async (args: unknown, extra): Promise<CallToolResult> => {
      const progressToken = extra._meta?.progressToken;
      let lastProgress = 0;
      const ctx: ToolContext = {
        runtime,
        signal: extra.signal,
        reportProgress(p) {
          if (progressToken === undefined) return;
          const now = Date.now();
          if (now - lastProgress < 250) return;
          lastProgress = now;
          extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken, progress: p.done ?? 0, total: p.total, message: p.message },
            })
            .catch(() => {});
        },
      };
      try {
        const result = await tool.handler(args as never, ctx);
        return { content: [{ type: 'text', text: tool.summarize(result) }], structuredContent: result };
      } catch (error) {
        if (!isUserError(error)) runtime.log('error', `${tool.name} failed: ${describeBug(error)}`);
        return { isError: true, content: [{ type: 'text', text: formatErrorText(error) }] };
      }
    },
  );
}
