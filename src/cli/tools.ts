/** `tuneloop tools`: the registered tools, from the same definitions the server registers. */
import { z } from 'zod';
import type { Config } from '../core/config.js';
import type { ToolDefinition } from '../core/tool.js';
import { selectTools } from '../server.js';

/** The first sentence of a description: the tool's one-line purpose. */
export function purpose(tool: ToolDefinition): string {
  const m = /^(.+?[.:])(\s|$)/.exec(tool.description);
  return (m ? m[1] : tool.description).replace(/[.:]$/, '');
}

/** How the tool's annotations read to a person. */
export function kindOf(tool: ToolDefinition): string {
  if (tool.annotations.readOnlyHint) return 'read-only';
  return tool.annotations.destructiveHint ? 'destructive' : 'writes';
}

export function listTools(config: Config, json: boolean): number {
  const tools = selectTools(config);
  if (json) {
    const out = tools.map((t) => ({
      name: t.name,
      toolset: t.toolset,
      title: t.title,
      description: t.description,
      annotations: t.annotations,
      inputSchema: z.toJSONSchema(t.input, { io: 'input' }),
      outputSchema: z.toJSONSchema(t.output, { io: 'output' }),
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const rows = tools.map((t) => [t.name, t.toolset, kindOf(t), purpose(t)]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
  for (const r of [['TOOL', 'TOOLSET', 'KIND', 'PURPOSE'], ...rows]) {
    process.stdout.write(`${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}\n`);
  }
  return 0;
}
