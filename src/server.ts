/**
 * createServer(): builds the McpServer from the enabled toolsets. No process wiring here (stdin,
 * signals): cli.ts does that, and tests link this server to a client in memory.
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { getParseErrorMessage } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { ErrorCode, McpError, type CallToolResult, type ServerNotification, type ServerRequest, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import type { Config } from './core/config.js';
import { formatErrorText, isUserError } from './core/errors.js';
import { createRuntime, type Runtime } from './core/runtime.js';
import { describeBug, type LogSink } from './core/log.js';
import type { ToolContext, ToolDefinition } from './core/tool.js';
import { loadToolset, selectListed, strictInput, toolList, toolListing, type ListedTool } from './tool-index.js';
import { allMigrations } from './migrations.js';
import { registerResources } from './mcp/resources.js';
import { registerPrompts } from './mcp/prompts.js';
import { SERVER_VERSION } from './version.js';

export const SERVER_NAME = 'tuneloop';

const INSTRUCTIONS = `tuneloop observes, changes and measures real systems: sched_ext CPU schedulers, NCCL collectives, Triton kernels, and incident evidence on GPU hosts.
Work in a loop: observe (system_snapshot, gpu_status, diagnose_logs) -> plan (search_knowledge, rules, suggest_config, list_schedulers, nccl_params, get_history) -> execute (run_scheduler, run_nccl_tests, triton_verify, benchmark_workload) -> learn (record_run, compare_runs, rules derive).
The prompts tune_scheduler, tune_nccl, optimize_kernel and diagnose_incident walk through the whole loop.
Long operations return {job_id, status: "running"}: poll job_status, stop with job_cancel. Trust a gain only when compare_runs says it is significant.`;

export interface TuneloopServer {
  server: McpServer;
  runtime: Runtime;
  close(): Promise<void>;
}

export function createServer(config: Config): TuneloopServer {
  const runtime = createRuntime(config, allMigrations);
  const session = createSessionServer(runtime);
  return {
    server: session.server,
    runtime,
    async close() {
      await runtime.shutdown();
      await session.close();
    },
  };
}

/**
 * One MCP session's server over a runtime. stdio has one session per process (createServer); the
 * HTTP server gives each session its own McpServer over the process's one runtime, so closing a
 * session ends only its protocol state: jobs, schedulers and monitors belong to the runtime.
 */
export function createSessionServer(runtime: Runtime): { server: McpServer; close(): Promise<void> } {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  // The client sees tuneloop's diagnostics in its own log once connected (it may set the level).
  const sink: LogSink = (level, message) => {
    if (server.isConnected()) server.sendLoggingMessage({ level, logger: SERVER_NAME, data: message }).catch(() => {});
  };
  runtime.logger.addSink(sink);
  const listed = selectListed(toolList(), runtime.config);
  for (const tool of listed) registerListedTool(server, runtime, tool);
  registerResources(server, runtime);
  registerPrompts(server, listed.map((t) => t.tool.name));
  return {
    server,
    async close() {
      runtime.logger.removeSink(sink);
      await server.close().catch(() => {});
    },
  };
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Per server: the tools/list entries of its tools, in registration order. */
const listings = new WeakMap<McpServer, Map<string, Tool>>();

/**
 * tools/list answers from the entries (precomputed for listed tools, computed once for a definition
 * registered directly), never converting zod to JSON Schema on the way. The handler map is
 * SDK-internal: the SDK's own handler is replaced there, and kept where the map is not found.
 */
function listTool(server: McpServer, tool: Tool): void {
  let entries = listings.get(server);
  if (!entries) {
    listings.set(server, (entries = new Map()));
    const handlers = (server.server as unknown as { _requestHandlers?: Map<string, (...args: unknown[]) => Promise<unknown>> })._requestHandlers;
    const mine = entries;
    handlers?.set('tools/list', async () => ({ tools: [...mine.values()] }));
  }
  entries.set(tool.name, tool);
}

/** Register a tool from the listing: its module loads on the first call. */
function registerListedTool(server: McpServer, runtime: Runtime, listed: ListedTool): RegisteredTool {
  const name = listed.tool.name;
  const load = async (): Promise<ToolDefinition> => {
    const tool = (await loadToolset(listed.toolset)).find((t) => t.name === name);
    if (!tool) throw new Error(`tool ${name} is in the listing but not in toolset ${listed.toolset}: the listing is stale (npm run build)`);
    return tool;
  };
  const registered = registerLoadedTool(server, runtime, name, load);
  listTool(server, listed.tool);
  return registered;
}

/** Register a tool from its definition (tests, tools outside the index). */
export function registerTool(server: McpServer, runtime: Runtime, tool: ToolDefinition): RegisteredTool {
  const registered = registerLoadedTool(server, runtime, tool.name, async () => tool);
  listTool(server, toolListing(tool));
  return registered;
}

/**
 * The SDK calls the handler with the arguments as sent (a loose placeholder schema: the real one is
 * in a module not loaded yet); the handler loads the tool, then validates input and output the way
 * the SDK would, with the SDK's own messages: strict input, structured output, UserErrors as isError
 * results with their remedy.
 */
function registerLoadedTool(server: McpServer, runtime: Runtime, name: string, load: () => Promise<ToolDefinition>): RegisteredTool {
  return server.registerTool(name, { inputSchema: z.looseObject({}) }, async (args: unknown, extra: Extra): Promise<CallToolResult> => {
    const tool = await load();
    const input = await strictInput(tool).safeParseAsync(args ?? {});
    if (!input.success) throw new McpError(ErrorCode.InvalidParams, `Input validation error: Invalid arguments for tool ${name}: ${getParseErrorMessage(input.error)}`);
    const result = await runTool(runtime, tool, input.data, extra);
    if (!result.isError) {
      const output = await tool.output.safeParseAsync(result.structuredContent);
      if (!output.success) throw new McpError(ErrorCode.InvalidParams, `Output validation error: Invalid structured content for tool ${name}: ${getParseErrorMessage(output.error)}`);
    }
    return result;
  });
}

async function runTool(runtime: Runtime, tool: ToolDefinition, args: unknown, extra: Extra): Promise<CallToolResult> {
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
}
