/**
 * Which tools exist, without loading them. A server starts by reading the tool listing computed at
 * build time (dist/tool-list.json: every tool's name, toolset and the JSON it shows in tools/list),
 * and imports a toolset's modules only when one of its tools is first called. Start-up then costs
 * neither the ~120 modules of the toolsets nor turning their zod schemas into JSON Schema.
 *
 * A new tool goes into its domain's array (src/<domain>/tools.ts); a new toolset is one entry in
 * TOOLSET_MODULES. `npm run build` rewrites the listing; test/e2e/tool-list.test.ts checks it against
 * the live schemas.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Config, Toolset } from './core/config.js';
import { strictDeep } from './core/strict.js';
import type { ToolDefinition } from './core/tool.js';

/** Each toolset's definitions, loaded on first use. Order: the order of tools/list. */
export const TOOLSET_MODULES: Record<Toolset, () => Promise<readonly ToolDefinition[]>> = {
  observe: async () => (await import('./observe/tools.js')).observeTools as ToolDefinition[],
  sched: async () => (await import('./sched/tools.js')).schedTools as ToolDefinition[],
  nccl: async () => (await import('./nccl/tools.js')).ncclTools as ToolDefinition[],
  triton: async () => (await import('./triton/tools.js')).tritonTools as ToolDefinition[],
  history: async () => (await import('./learn/tools.js')).historyTools as ToolDefinition[],
  jobs: async () => (await import('./core/job-tools.js')).jobTools as ToolDefinition[],
};

/** A tool as tools/list shows it, and the toolset it belongs to. */
export interface ListedTool {
  toolset: Toolset;
  tool: Tool;
}

export const TOOL_LIST_PATH = fileURLToPath(new URL('../dist/tool-list.json', import.meta.url));

const loaded = new Map<Toolset, Promise<readonly ToolDefinition[]>>();

export function loadToolset(toolset: Toolset): Promise<readonly ToolDefinition[]> {
  let p = loaded.get(toolset);
  if (!p) loaded.set(toolset, (p = TOOLSET_MODULES[toolset]()));
  return p;
}

/** Every tool definition, in listing order (docs, `tuneloop tools`, the listing generator). */
export async function loadAllTools(): Promise<ToolDefinition[]> {
  const sets = await Promise.all((Object.keys(TOOLSET_MODULES) as Toolset[]).map(loadToolset));
  return sets.flat();
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

const strictInputs = new WeakMap<ToolDefinition, AnyObject>();

/** The input schema a tool is served and validated with: unknown keys refused at every depth (core/strict.ts). */
export function strictInput(tool: ToolDefinition): AnyObject {
  let schema = strictInputs.get(tool);
  if (!schema) strictInputs.set(tool, (schema = strictDeep(tool.input as AnyObject)));
  return schema;
}

/** A tool as tools/list shows it (and `tuneloop tools --json`): zod 4's JSON Schema, draft-7. */
export function toolListing(tool: ToolDefinition): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: z.toJSONSchema(strictInput(tool), { target: 'draft-7', io: 'input' }) as Tool['inputSchema'],
    outputSchema: z.toJSONSchema(tool.output, { target: 'draft-7', io: 'output' }) as Tool['outputSchema'],
    annotations: { title: tool.title, ...tool.annotations },
    execution: { taskSupport: 'forbidden' },
  };
}

export async function computeToolList(): Promise<ListedTool[]> {
  return (await loadAllTools()).map((tool) => ({ toolset: tool.toolset, tool: toolListing(tool) }));
}

/** Build step (`npm run build`): write the listing next to the compiled code. */
export async function writeToolList(path = TOOL_LIST_PATH): Promise<void> {
  writeFileSync(path, `${JSON.stringify(await computeToolList())}\n`);
}

let listing: ListedTool[] | undefined;

/** The listing, read once per process. It is part of the build: without it, say how to make it. */
export function toolList(): ListedTool[] {
  if (!listing) {
    try {
      listing = JSON.parse(readFileSync(TOOL_LIST_PATH, 'utf8')) as ListedTool[];
    } catch (error) {
      throw new Error(`Cannot read the tool listing ${TOOL_LIST_PATH} (${(error as Error).message}): run \`npm run build\`, which writes it.`);
    }
  }
  return listing;
}

type Offer = Pick<Config, 'toolsets' | 'readOnly'>;

/** Whether a server with this config offers a tool: its toolset is enabled, and it is read-only or writes are allowed. */
function offered(config: Offer, toolset: Toolset, readOnlyHint: boolean | undefined): boolean {
  return config.toolsets.includes(toolset) && (!config.readOnly || readOnlyHint === true);
}

/** The listed tools a server with this config offers (what it serves, without loading a toolset). */
export function selectListed(list: readonly ListedTool[], config: Offer): ListedTool[] {
  return list.filter((t) => offered(config, t.toolset, t.tool.annotations?.readOnlyHint));
}

/** The definitions of the tools a server with this config offers (loads their toolsets). */
export async function selectTools(config: Offer): Promise<ToolDefinition[]> {
  return (await loadAllTools()).filter((t) => offered(config, t.toolset, t.annotations.readOnlyHint));
}
