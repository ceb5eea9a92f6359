/**
 * tools/list and tools/call, the one path every tool is served by. tuneloop answers both itself rather
 * than through McpServer.registerTool, so that:
 * - tools/list is answered from entries computed before the request: for the tools of the index, the
 *   listing written at build time (tool-index.ts), so a server starts without importing a toolset
 *   or converting a zod schema; a toolset's modules load when one of its tools is first called;
 * - input is validated against the strict-all-the-way-down schema the listing shows, and the error
 *   text is ours: it names the field and quotes the caller's input only in bounded pieces;
 * - every outcome goes through one place: a result, a failed action (core/failure.ts), a UserError
 *   with its remedy, or a bug.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { closest } from 'fastest-levenshtein';
import { z } from 'zod';
import { formatErrorText, isUserError, quoteInput } from './core/errors.js';
import { ActionFailed, firstLine } from './core/failure.js';
import { formatInputError } from './core/input-errors.js';
import { describeBug } from './core/log.js';
import type { Runtime } from './core/runtime.js';
import type { ToolContext, ToolDefinition } from './core/tool.js';
import { loadToolset, strictInput, toolListing, type ListedTool } from './tool-index.js';

/** A served tool: its tools/list entry, and its definition (loaded on first call). */
interface Entry {
  listing(): Tool;
  load(): Promise<ToolDefinition>;
}

interface Registry {
  runtime: Runtime;
  tools: Map<string, Entry>;
}

const registries = new WeakMap<McpServer, Registry>();

/** Serve a tool of the index from its precomputed listing; its toolset loads on the first call. */
export function registerListedTool(server: McpServer, runtime: Runtime, listed: ListedTool): void {
  const name = listed.tool.name;
  addEntry(server, runtime, name, {
    listing: () => listed.tool,
    async load() {
      const tool = (await loadToolset(listed.toolset)).find((t) => t.name === name);
      if (!tool) throw new Error(`tool ${name} is in the listing but not in toolset ${listed.toolset}: the listing is stale (npm run build)`);
      return tool;
    },
  });
}

/** Serve a tool from its definition (tests, tools outside the index); its listing is computed once, on the first tools/list. */
export function registerTool(server: McpServer, runtime: Runtime, tool: ToolDefinition): void {
  let listing: Tool | undefined;
  addEntry(server, runtime, tool.name, { listing: () => (listing ??= toolListing(tool)), load: async () => tool });
}

/** The first entry installs the tools/list and tools/call handlers. */
function addEntry(server: McpServer, runtime: Runtime, name: string, entry: Entry): void {
  let registry = registries.get(server);
  if (!registry) {
    registry = { runtime, tools: new Map() };
    registries.set(server, registry);
    installHandlers(server, registry);
  }
  registry.tools.set(name, entry);
}

function installHandlers(server: McpServer, registry: Registry): void {
  server.server.registerCapabilities({ tools: {} });
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...registry.tools.values()].map((e) => e.listing()) }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const entry = registry.tools.get(request.params.name);
    if (!entry) return unknownTool(request.params.name, [...registry.tools.keys()]);
    let tool: ToolDefinition;
    try {
      tool = await entry.load();
    } catch (error) {
      registry.runtime.log('error', `loading ${request.params.name} failed: ${describeBug(error)}`);
      return { isError: true, content: [{ type: 'text', text: formatErrorText(error) }] };
    }
    const parsed = strictInput(tool).safeParse(request.params.arguments ?? {});
    if (!parsed.success) return { isError: true, content: [{ type: 'text', text: formatInputError(tool.name, strictInput(tool), parsed.error) }] };
    const progressToken = request.params._meta?.progressToken;
    let lastProgress = 0;
    const ctx: ToolContext = {
      runtime: registry.runtime,
      signal: extra.signal,
      reportProgress(p) {
        if (progressToken === undefined) return;
        const now = Date.now();
        if (now - lastProgress < 250) return;
        lastProgress = now;
        extra
          .sendNotification({ method: 'notifications/progress', params: { progressToken, progress: p.done ?? 0, total: p.total, message: p.message } })
          .catch(() => {});
      },
    };
    return callTool(registry.runtime, tool, parsed.data, ctx);
  });
}

async function callTool(runtime: Runtime, tool: ToolDefinition, args: unknown, ctx: ToolContext): Promise<CallToolResult> {
  try {
    const result = await tool.handler(args as never, ctx);
    const cause = tool.failure?.(result);
    if (cause) return failedAction(runtime, tool, cause, result);
    const checked = tool.output.safeParse(result);
    if (!checked.success) throw new Error(`the result of ${tool.name} does not match its output schema: ${z.prettifyError(checked.error).slice(0, 2000)}`);
    return { content: [{ type: 'text', text: tool.summarize(result) }], structuredContent: result };
  } catch (error) {
    if (error instanceof ActionFailed) return failedAction(runtime, tool, error.message, error.result);
    if (!isUserError(error)) runtime.log('error', `${tool.name} failed: ${describeBug(error)}`);
    return { isError: true, content: [{ type: 'text', text: formatErrorText(error) }] };
  }
}

/**
 * The failed-action rule (core/failure.ts) on the wire: isError, the cause as the first line, and the
 * structured result. Clients validate any structuredContent against the output schema, errors
 * included, so it is checked here; a result that does not fit is a bug and is sent without it.
 */
function failedAction(runtime: Runtime, tool: ToolDefinition, cause: string, result: object): CallToolResult {
  const line = firstLine(cause);
  // The summary may repeat the cause (a failed job's error): said once, first.
  const text = [line, ...tool.summarize(result as never).split('\n').filter((l) => l !== line)].join('\n');
  if (!tool.output.safeParse(result).success) {
    runtime.log('error', `${tool.name}: a failed action's result does not match the output schema; sent without it`);
    return { isError: true, content: [{ type: 'text', text }] };
  }
  return { isError: true, content: [{ type: 'text', text }], structuredContent: result as Record<string, unknown> };
}

/** An unknown tool: the closest names, so a typo costs one round trip. */
export function unknownToolText(name: string, known: string[]): string {
  const near = nearestNames(name, known);
  return `Unknown tool "${quoteInput(name, 64)}".${near.length ? ` Did you mean ${near.join(', ')}?` : ''}\nRemedy: tools/list (or \`tuneloop tools\`) lists the ${known.length} tools this server offers.`;
}

function unknownTool(name: string, known: string[]): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: unknownToolText(name, known) }] };
}

/** Names sharing a word with `name`, plus the closest by edit distance; at most three. */
export function nearestNames(name: string, known: string[]): string[] {
  const words = name.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3);
  const sharing = known.filter((k) => words.some((w) => k.includes(w)));
  const best = known.length ? closest(name.toLowerCase(), known) : undefined;
  return [...new Set([...(best ? [best] : []), ...sharing])].slice(0, 3);
}
