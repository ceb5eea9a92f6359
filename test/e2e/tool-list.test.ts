/**
 * The tool listing written at build time (dist/tool-list.json) is what tools/list serves without
 * loading any toolset: it must equal the listing computed from the live definitions and schemas.
 * Slow part: starts one real server process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TOOL_LIST_PATH, computeToolList, loadAllTools } from '../../src/tool-index.js';
import { TOOLSETS } from '../../src/core/config.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

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

/**
 * The start-up promise, measured where it lives (a `tuneloop serve` process): tools/list is answered
 * without importing any toolset, and a call imports its own toolset only. A module hook in the
 * server process appends every module URL it resolves to a file.
 */
describe('a server process loads toolsets on first use', async () => {
  const dir = tempDir();
  const trace = join(dir, 'resolved.txt');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const r = await next(specifier, context);\n  appendFileSync(${JSON.stringify(trace)}, r.url + '\\n');\n  return r;\n}\n`);
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const { client } = await startStdioServer(['serve'], { TUNELOOP_HOME: dir, NODE_OPTIONS: `--import ${pathToFileURL(register).href}` });
  afterAll(() => client.close());
  const toolsets = (): string[] => {
    const urls = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : [];
    const tools = urls.filter((u) => /\/dist\/(.+\/)?(tools|job-tools)\.js$/.test(u) && !u.includes('/cli/'));
    return [...new Set(tools.map((u) => u.slice(u.indexOf('/dist/') + 6)))].sort();
  };

  it('answers tools/list with every tool, no toolset module and no execa loaded', async () => {
    const { tools } = await client.listTools();
    expect(tools.length).toBe((await loadAllTools()).length);
    expect(readFileSync(trace, 'utf8')).toMatch(/\/dist\/server\.js\n/); // the hook sees the server's modules
    expect(toolsets()).toEqual([]);
    // Nor the process runner's library (execa: ~100 modules); it loads with the first tool that starts a process.
    expect(readFileSync(trace, 'utf8')).not.toMatch(/node_modules\/execa\//);
  });

  it('loads the toolset of the tool called, and only that one', async () => {
    const r = await client.callTool({ name: 'get_history', arguments: { limit: 1 } });
    expect(r.isError).toBeFalsy();
    expect(toolsets()).toEqual(['learn/tools.js']);
  });
});
