/**
 * Schema snapshots (after github-mcp-server's toolsnaps): every tool's name, title, description,
 * annotations and JSON schemas as served over stdio are checked in, one file per tool, so a schema
 * change is a reviewed diff. UPDATE_TOOLSNAPS=1 rewrites them; a missing or stale snapshot fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const SNAP_DIR = join(import.meta.dirname, '__toolsnaps__');
const UPDATE = process.env.UPDATE_TOOLSNAPS === '1';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

describe('tools/list', async () => {
  const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: tempDir() });
  afterAll(() => client.close());
  const { tools } = await client.listTools();

  it.each(tools.map((t) => [t.name, t] as [string, Tool]))('%s matches its snapshot', (name, tool) => {
    const file = join(SNAP_DIR, `${name}.snap`);
    const text = `${JSON.stringify(sortKeys(tool), null, 2)}\n`;
    if (UPDATE) writeFileSync(file, text);
    expect(existsSync(file), `missing snapshot ${file}: run UPDATE_TOOLSNAPS=1 npm test`).toBe(true);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });

  it('has no snapshot for a tool that no longer exists', () => {
    const names = new Set(tools.map((t) => `${t.name}.snap`));
    const stale = readdirSync(SNAP_DIR).filter((f) => !names.has(f));
    if (UPDATE) for (const f of stale) unlinkSync(join(SNAP_DIR, f));
    else expect(stale).toEqual([]);
  });

  // Inventory-wide invariants: what every client needs from every tool.
  it.each(tools.map((t) => [t.name, t] as [string, Tool]))('%s follows the tool rules', (name, tool) => {
    expect(name).toMatch(/^[a-z0-9_]{1,40}$/);
    expect(tool.title).toBeTruthy();
    expect(tool.description!.length).toBeGreaterThan(40);
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
      expect(typeof tool.annotations?.[hint], `${name}.${hint}`).toBe('boolean');
    }
    expect(tool.outputSchema?.type).toBe('object');
    expect(tool.inputSchema.type).toBe('object');
    // Flat, portable inputs (github-mcp-server forbids top-level unions for client compatibility).
    for (const key of ['anyOf', 'oneOf', 'allOf']) expect(tool.inputSchema).not.toHaveProperty(key);
    expect(tool.inputSchema.additionalProperties).toBe(false);
    for (const [prop, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
      expect((schema as { description?: string }).description, `${name}.${prop} has no description`).toBeTruthy();
    }
  });

  it('wrote nothing but JSON-RPC to stdout', () => {
    expect(transport.badLines).toEqual([]);
  });
});
