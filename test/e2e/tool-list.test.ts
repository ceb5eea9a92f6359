/**
 * The tool listing written at build time (dist/tool-list.json) is what tools/list serves without
 * loading any toolset: it must equal the listing computed from the live definitions and schemas.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOOL_LIST_PATH, computeToolList, loadAllTools } from '../../src/tool-index.js';
import { TOOLSETS } from '../../src/core/config.js';

describe('the precomputed tool listing', () => {
  it('equals the listing computed from the live schemas (run `npm run build` to refresh it)', async () => {
    const built = JSON.parse(readFileSync(TOOL_LIST_PATH, 'utf8')) as unknown;
    expect(built).toEqual(JSON.parse(JSON.stringify(await computeToolList())));
  });

  it('lists every tool once, each under its own toolset', async () => {
    const tools = await loadAllTools();
    expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
    for (const t of tools) expect(TOOLSETS).toContain(t.toolset);
  });
});
