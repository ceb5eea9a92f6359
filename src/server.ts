/**
 * createServer(): builds the McpServer from the enabled toolsets. No process wiring here (stdin,
 * signals): cli.ts does that, and tests link this server to a client in memory.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from './core/config.js';
import { boundErrorText, formatErrorText, isUserError } from './core/errors.js';
import { createRuntime, type Runtime } from './core/runtime.js';
import type { LogSink } from './core/log.js';
import { registerListedTool } from './server-tools.js';
import { selectListed, toolList } from './tool-index.js';
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
  plainProtocolErrors(server);
  return {
    server,
    async close() {
      runtime.logger.removeSink(sink);
      await server.close().catch(() => {});
    },
  };
}

/**
 * JSON-RPC errors (resources/read of an unknown URI, prompts/get of an unknown prompt ...) carry
 * their text once. McpError's message already starts with "MCP error -32602: " and the client's
 * McpError adds it again ("MCP error -32602: MCP error -32602: Resource x not found"), so the wire
 * gets the bare message. A UserError from a handler (no such job) is the caller's to fix: invalid
 * params, with its remedy. The handler map is SDK-internal: when it is not there, nothing changes.
 */
function plainProtocolErrors(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, (...args: unknown[]) => Promise<unknown>> })._requestHandlers;
  if (!handlers) return;
  for (const [method, handler] of handlers) {
    handlers.set(method, async (...args) => {
      try {
        return await handler(...args);
      } catch (error) {
        throw plainError(error);
      }
    });
  }
}

function plainError(error: unknown): unknown {
  if (error instanceof McpError) return Object.assign(new Error(boundErrorText(error.message.replace(/^MCP error -?\d+: /, ''))), { code: error.code, data: error.data });
  if (isUserError(error)) return Object.assign(new Error(formatErrorText(error)), { code: ErrorCode.InvalidParams });
  return error;
}
